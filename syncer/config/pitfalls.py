"""Warnings: YAML that is valid but probably not what ops meant. `okrsync validate` prints them.

Nothing here refuses a file (rules.py does that); each pitfall names the YAML path it is about
and says what to write instead. The target rules they refer to are in README "Targets".
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import yaml

from syncer.config.loading import MarkedLoader
from syncer.config.models import HubSpotSource, KeyResult, ManualMetric, SalesforceSource, Settings
from syncer.config.object_streams import pulls
from syncer.config.violations import Path as KeyPath
from syncer.config.violations import Violation
from syncer.errors import ConfigProblem

ADDITIVE_KINDS = ("count", "sum", "distinct_count")  # as the rollup's scoring adds them up


def find_pitfalls(settings: Settings) -> list[Violation]:
    """Every probable mistake in `settings`, in file order."""
    found: list[Violation] = []
    for i, objective in enumerate(settings.objectives):
        for j, kr in enumerate(objective.key_results):
            path: KeyPath = ("objectives", i, "key_results", j)
            found += _owner_target_pitfalls(kr, path)
            found += _group_pitfalls(settings, kr, path)
    return found


def _owner_target_pitfalls(kr: KeyResult, path: KeyPath) -> Iterator[Violation]:
    if kr.owner_targets is None or kr.group_by != "owner":
        return  # without `group_by: owner`, rules.py refuses owner_targets
    where: KeyPath = (*path, "owner_targets")
    additive = kr.metric.kind in ADDITIVE_KINDS
    if isinstance(kr.owner_targets, dict):
        for email in kr.owner_targets:
            if "@" not in email:
                yield Violation(
                    (*where, email), f"`{email}` is not an e-mail: owner_targets lists owners by e-mail"
                )
        return
    if kr.baseline == "previous_period" and not isinstance(kr.target, str):
        yield Violation(
            where,
            f"each rep's target is an even share of {kr.target:g}, but their baseline is their own "
            "last period: write the target relative (`+15%`) to split last period's total, or drop "
            "`baseline: previous_period`",
        )
    elif kr.baseline == "previous_period" and (not additive or kr.direction == "decrease"):
        yield Violation(
            where,
            "with `owner_targets: even` every rep gets the total's target, but progress counts from "
            "their own last period: a rep already past the target reads done, one short of it from "
            "their own start; drop `owner_targets` to give each rep their own relative target",
        )


def _group_pitfalls(settings: Settings, kr: KeyResult, path: KeyPath) -> Iterator[Violation]:
    if kr.group_by not in ("team", "region") or (kr.group_by == "team" and settings.teams):
        return
    if isinstance(kr.metric, ManualMetric):  # rules.py refuses a manual key result by team or region
        return
    pulling = [s for s in settings.sources.values() if pulls(s, kr.metric.stream)]
    knows = [s for s in pulling if _knows_group(s, kr.group_by)]
    if pulling and not knows:
        field = "team_field" if kr.group_by == "team" else "region_field"
        yield Violation(
            (*path, "group_by"),
            f"no source says which {kr.group_by} a rep is in, so `group_by: {kr.group_by}` has no groups: "
            + ("add a `teams:` map, or " if kr.group_by == "team" else "")
            + f"set `owners: {{{field}: ...}}` on a Salesforce source",
        )


def _knows_group(source: SalesforceSource | HubSpotSource, group_by: str) -> bool:
    if isinstance(source, HubSpotSource):
        return group_by == "team"  # a HubSpot owner's primary team; HubSpot has no region
    return (source.owners.team_field if group_by == "team" else source.owners.region_field) is not None


def pitfall_problems(settings: Settings, file: Path) -> list[ConfigProblem]:
    """The pitfalls as `file:line` problems, lines read from the YAML again (it loaded cleanly)."""
    pitfalls = find_pitfalls(settings)
    if not pitfalls:
        return []
    loader = MarkedLoader(file.read_text(encoding="utf-8"))
    try:
        loader.construct_marked()
    except yaml.YAMLError:  # changed since it was loaded: report without lines
        loader.lines.clear()
    finally:
        loader.dispose()
    return [ConfigProblem(str(file), _line(loader.lines, p.path), p.message) for p in pitfalls]


def _line(lines: dict[KeyPath, int], path: KeyPath) -> int | None:
    while path not in lines and path:
        path = path[:-1]
    return lines.get(path)
