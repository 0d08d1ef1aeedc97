"""Cross-field rules of the YAML: what no single field can check on its own.

Each rule returns violations with the YAML path they belong to, so the loader can name
the line; every message says how to fix it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

from syncer.config.closing import check_closing
from syncer.config.crm_target_rules import check_crm_targets
from syncer.config.history import check_history
from syncer.config.models import (
    KR_VALUE_ATTRIBUTES,
    RECORD_ATTRIBUTES,
    RELATIVE_TARGET,
    AvgDaysMetric,
    HistoryTarget,
    HubSpotSource,
    KeyedTarget,
    KeyResult,
    ManualMetric,
    Metric,
    OwnerTarget,
    RatioMetric,
    Settings,
)
from syncer.config.object_stream_rules import check_metric as check_declared_metric
from syncer.config.object_streams import check_object_streams
from syncer.config.object_streams import layouts as stream_layouts
from syncer.config.serve_access import check_serve_access
from syncer.config.soundness import check_soundness
from syncer.config.stretch_rules import check_stretches
from syncer.config.tree_rules import check_tree, objective_expression_problem
from syncer.config.violations import Path, Violation, suggest
from syncer.records import DATE_FIELDS, NUMBER_FIELDS, STREAMS, StreamName, field_names


def check_rules(settings: Settings) -> list[Violation]:
    """Every cross-field problem in `settings`, in file order."""
    return [
        *check_object_streams(settings),
        *check_soundness(settings),
        *_unique_keys(settings),
        *_team_members(settings),
        *_key_results(settings),
        *check_stretches(settings),
        *check_tree(settings),
        *check_crm_targets(settings),
        *_writebacks(settings),
        *check_history(settings),
        *check_closing(settings),
        *check_serve_access(settings),
    ]


def _unique_keys(settings: Settings) -> Iterator[Violation]:
    seen: set[str] = set()
    for i, objective in enumerate(settings.objectives):
        if objective.key in seen:
            yield Violation(
                ("objectives", i, "key"), f"objective key `{objective.key}` is used twice: rename one"
            )
        seen.add(objective.key)
        kr_seen: set[str] = set()
        for j, kr in enumerate(objective.key_results):
            if kr.key in kr_seen:
                yield Violation(
                    ("objectives", i, "key_results", j, "key"),
                    f"key result `{kr.key}` appears twice in objective `{objective.key}`: rename one",
                )
            kr_seen.add(kr.key)


def _team_members(settings: Settings) -> Iterator[Violation]:
    team_of: dict[str, str] = {}
    for team, emails in settings.teams.items():
        for k, email in enumerate(emails):
            address = email.strip().lower()
            if "@" not in address:
                yield Violation(
                    ("teams", team, k), f"`{email}` is not an e-mail address: list owners by e-mail"
                )
            elif address in team_of and team_of[address] != team:
                yield Violation(
                    ("teams", team, k),
                    f"`{email}` is in team `{team_of[address]}` and `{team}`: an owner belongs to one team",
                )
            team_of[address] = team


def _pulled_streams(settings: Settings) -> set[str]:
    return {stream for source in settings.sources.values() for stream in source.streams}


def _attribute_names(settings: Settings, stream: StreamName) -> set[str]:
    return {
        name
        for source in settings.sources.values()
        if stream in source.streams
        for name in source.streams[stream].attributes
    }


def _key_results(settings: Settings) -> Iterator[Violation]:
    pulled = _pulled_streams(settings)
    declared = stream_layouts(settings.sources)
    for i, objective in enumerate(settings.objectives):
        for j, kr in enumerate(objective.key_results):
            path: Path = ("objectives", i, "key_results", j)
            if isinstance(kr.metric, ManualMetric):
                yield from _manual_rules(kr, path)
                yield from _target_rules(kr, path)
                continue
            stream = kr.metric.stream
            if stream in declared:  # README "Any object as a stream"
                yield from check_declared_metric(kr.metric, declared[stream], (*path, "metric"))
                yield from _target_rules(kr, path)
                continue
            if stream not in pulled:
                fix = (
                    f"add `{stream}:` under a source's `streams:`"
                    if stream in STREAMS
                    else f"use {', '.join(STREAMS)}, or declare `{stream}:` under a source's `object_streams:`"
                )
                yield Violation(
                    (*path, "metric", "stream"),
                    f"no source pulls `{stream}`: {fix}.{suggest(stream, sorted(pulled | set(declared)))}",
                )
                continue
            yield from _metric_fields(
                kr.metric, _attribute_names(settings, cast(StreamName, stream)), (*path, "metric")
            )
            yield from _target_rules(kr, path)


def _metric_fields(metric: Metric, attributes: set[str], path: Path) -> Iterator[Violation]:
    stream = cast(StreamName, metric.stream)  # a built-in stream: declared ones are checked apart
    known = (*field_names(stream), *sorted(attributes))

    def check(
        name: str, where: Path, allowed: tuple[str, ...] = known, what: str = "field"
    ) -> Iterator[Violation]:
        bare = name.removeprefix("attributes.")
        if name in allowed or (bare in attributes and allowed is known):
            return
        yield Violation(
            where,
            f"`{name}` is not a {what} of {stream}; use one of: {', '.join(allowed)}.{suggest(name, allowed)}",
        )

    for name in metric.where:
        yield from check(name, (*path, "where", name))
    if metric.date is not None:
        yield from check(metric.date, (*path, "date"), DATE_FIELDS[stream], "date field")
    if isinstance(metric, AvgDaysMetric):
        yield from check(metric.from_, (*path, "from"), DATE_FIELDS[stream], "date field")
        yield from check(metric.to, (*path, "to"), DATE_FIELDS[stream], "date field")
    elif isinstance(metric, RatioMetric):
        for part in ("numerator", "denominator"):
            for name in getattr(metric, part):
                yield from check(name, (*path, part, name))
        if metric.weight is not None:
            yield from check(
                metric.weight, (*path, "weight"), (*NUMBER_FIELDS[stream], *attributes), "number"
            )
    elif metric.kind in ("sum", "avg"):
        numbers = (*NUMBER_FIELDS[stream], *sorted(attributes))
        yield from check(metric.field, (*path, "field"), numbers, "number field")
    elif metric.kind == "distinct_count":
        yield from check(metric.field, (*path, "field"))


def _manual_rules(kr: KeyResult, path: Path) -> Iterator[Violation]:
    """A manual key result's value is checked in for the total or for one rep (`--group`): README
    "Check-ins and manual key results"."""
    if kr.baseline == "previous_period":
        yield Violation(
            (*path, "baseline"),
            "a manual key result has no records of last period to measure: write the baseline as a "
            "number, or drop it",
        )
    if kr.group_by is not None and kr.group_by != "owner":
        yield Violation(
            (*path, "group_by"),
            f"a manual key result is checked in for the total or per rep, not by `{kr.group_by}`: "
            "write `group_by: owner` with owner_targets, or drop group_by",
        )
    elif kr.group_by == "owner" and not isinstance(kr.owner_targets, dict):
        where = (*path, "owner_targets") if kr.owner_targets is not None else (*path, "group_by")
        yield Violation(
            where,
            "a manual key result grouped by owner needs the reps who check in and their numbers: "
            "write `owner_targets: {rep@example.com: 2}` (an even split has no list of reps)",
        )


def _target_rules(kr: KeyResult, path: Path) -> Iterator[Violation]:
    relative = RELATIVE_TARGET.match(kr.target.strip()) if isinstance(kr.target, str) else None
    if relative and kr.baseline is None:
        yield Violation(
            (*path, "target"),
            f"target `{kr.target}` is relative but there is no baseline: add `baseline: previous_period` "
            "or a number",
        )
    if relative and relative[3] == "pp" and kr.metric.kind != "ratio":
        yield Violation(
            (*path, "target"),
            f"`{kr.target}` is in percentage points, which only a ratio has: write `+N%` or a number",
        )
    if kr.owner_targets is not None and kr.group_by != "owner":
        yield Violation((*path, "owner_targets"), "owner_targets needs `group_by: owner` on this key result")
    if kr.direction and isinstance(kr.target, float | int) and isinstance(kr.baseline, float | int):
        inferred = "increase" if kr.target >= kr.baseline else "decrease"
        if inferred != kr.direction and kr.target != kr.baseline:
            yield Violation(
                (*path, "direction"),
                f"direction `{kr.direction}` contradicts baseline {kr.baseline} → target {kr.target}: "
                "fix the numbers or drop `direction`",
            )


def _writebacks(settings: Settings) -> Iterator[Violation]:
    for i, target in enumerate(settings.writeback):
        path: Path = ("writeback", i)
        source = settings.sources.get(target.source)
        if source is None:
            names = list(settings.sources)
            yield Violation(
                (*path, "source"),
                f"no source named `{target.source}`; sources are: {', '.join(names)}.{suggest(target.source, names)}",
            )
        elif isinstance(source, HubSpotSource) and isinstance(target, OwnerTarget):
            yield Violation(
                (*path, "match"),
                "HubSpot users have no writable custom properties: write to a custom object with "
                "`upsert_on: <unique property>` instead of `match: owner`",
            )
        if isinstance(target, HistoryTarget):
            continue  # its fields are attributes, not expressions: syncer.config.history checks them
        for field, expression in target.fields.items():
            message = _expression_problem(settings, target, expression)
            if message:
                yield Violation((*path, "fields", field), message)


def _expression_problem(settings: Settings, target: OwnerTarget | KeyedTarget, expression: str) -> str | None:
    parts = expression.split(".")
    attributes = KR_VALUE_ATTRIBUTES + (RECORD_ATTRIBUTES if isinstance(target, KeyedTarget) else ())
    if parts[0] == "*" and len(parts) == 2:
        if isinstance(target, OwnerTarget):
            return f"`{expression}`: `*` (every key result) needs a keyed target with `upsert_on`"
        return _attribute_problem(expression, parts[1], attributes)
    if len(parts) == 2:  # an objective's score (README "Objective tree")
        return objective_expression_problem(settings, expression)
    if len(parts) != 3:
        return f"`{expression}` is not a value: write objective.key_result.attribute, like q-revenue.revenue.value"
    objective_key, kr_key, attribute = parts
    objectives = [o.key for o in settings.objectives]
    if objective_key not in objectives:
        return f"`{expression}`: no objective `{objective_key}`.{suggest(objective_key, objectives)}"
    kr = settings.key_result(objective_key, kr_key)
    if kr is None:
        keys = [k.key for o in settings.objectives if o.key == objective_key for k in o.key_results]
        return f"`{expression}`: objective `{objective_key}` has no key result `{kr_key}`.{suggest(kr_key, keys)}"
    if isinstance(target, OwnerTarget) and kr.group_by not in (None, "owner", "team", "region"):
        # A rep's record shows their own, their team's, their region's or the company's value.
        return (
            f"`{expression}`: a rep's record can show a value per owner, team or region, or the total; "
            f"key result `{kr_key}` is grouped by `{kr.group_by}`: write it to a keyed target instead"
        )
    return _attribute_problem(expression, attribute, attributes)


def _attribute_problem(expression: str, attribute: str, allowed: tuple[str, ...]) -> str | None:
    if attribute in allowed:
        return None
    return f"`{expression}`: unknown attribute `{attribute}`; use one of: {', '.join(allowed)}.{suggest(attribute, allowed)}"
