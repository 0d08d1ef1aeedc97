"""How many generated orgs would expose each of a list of plausible mapping errors.

    python -m tests.differential.sensitivity hubspot 50     # or salesforce; the number of orgs

Runs the orgs as the differential test does, then recomputes the expected fields with a WRONG
rule put into the oracle (instants by their UTC date, amounts not converted, deletes ignored…)
and counts the orgs where what the sandbox holds disagrees: the orgs in which the differential
test would catch a product that made that mistake. Run it after changing the generator.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import yaml

from sandbox.hubspot import HubSpotSandbox, HubSpotSettings
from sandbox.salesforce import SalesforceSandbox, SandboxSettings
from syncer.store.database import open_store
from tests.differential import oracle, oracle_measure, oracle_records
from tests.differential.conftest import SMALL, START, UNLIMITED
from tests.differential.harness import Crm, compare, run_scenario
from tests.differential.oracle_records import Facts
from tests.differential.scenario import generate

Patch = tuple[str, Any]
FACTS = ("tests.differential.oracle.salesforce_facts", "tests.differential.oracle.hubspot_facts")
# The right rules, kept before any patch replaces them.
LOCAL_DATE, SF_RATE = oracle_records._local_date, oracle_records._sf_rate
GROUP_GOAL, SCORE = oracle._group_goal, oracle._score


def _facts_changed(change: Callable[[Facts], Facts]) -> list[Patch]:
    originals = (oracle_records.salesforce_facts, oracle_records.hubspot_facts)
    return [
        (name, lambda raw, config, f=f: change(f(raw, config)))
        for name, f in zip(FACTS, originals, strict=True)
    ]


def _utc_dates(value: Any, zone: ZoneInfo) -> date | None:
    return LOCAL_DATE(value, ZoneInfo("UTC"))


def _own_relative_target(ctx: Any, kind: str, key: str, previous: Any, total: Any) -> Any:
    baseline, target = GROUP_GOAL(ctx, kind, key, previous, total)
    if kind == "owner" and ctx.kr.get("owner_targets") == "even" and isinstance(ctx.kr["target"], str):
        return baseline, oracle_measure.quantize(oracle._relative(ctx.kr["target"], baseline), ctx.goal)
    return baseline, target


def _unfloored(ctx: Any, direction: str, value: Any, goal: Any) -> Any:
    progress, status = SCORE(ctx, direction, value, goal)
    baseline, target = goal
    start = Decimal(0) if ctx.additive and direction == "increase" else (baseline or Decimal(0))
    if progress == 0.0 and value is not None and target not in (None, start):
        return float((value - start) / (target - start)), status
    return progress, status


def _case_sensitive_teams(facts: Facts, config: dict[str, Any]) -> dict[str, str | None]:
    member_of: dict[str, str] = {}
    for team, members in (config.get("teams") or {}).items():
        for member in members:
            member_of.setdefault(member, team)  # as written: never matches a lower-case e-mail
    return {o.id: member_of.get(o.email or "") or o.team for o in facts.owners}


def _rate_without_dates(raw: dict[str, Any], code: str | None, day: date | None) -> Decimal:
    return SF_RATE({k: v for k, v in raw.items() if k != "DatedConversionRate"}, code, day)


def mutations() -> dict[str, list[Patch]]:
    return {
        "instants by their UTC date": [("tests.differential.oracle_records._local_date", _utc_dates)],
        "even split ignored for a relative target": [("tests.differential.oracle._group_goal", _own_relative_target)],
        "progress not floored at 0": [("tests.differential.oracle._score", _unfloored)],
        "teams: e-mails case-sensitive": [("tests.differential.oracle.team_of", _case_sensitive_teams),
                                          ("tests.differential.oracle_measure.team_of", _case_sensitive_teams)],
        "fiscal year ignored": [("tests.differential.oracle.period_of",
                                 lambda name, today, fiscal: oracle_measure.period_of(name, today, 1))],
        "deletes ignored": _facts_changed(lambda f: dataclasses.replace(
            f, records=tuple(dataclasses.replace(r, deleted=False) for r in f.records))),
        "departed reps get values": _facts_changed(lambda f: dataclasses.replace(
            f, owners=tuple(dataclasses.replace(o, active=True) for o in f.owners))),
        "Salesforce amounts not converted": [("tests.differential.oracle_records._sf_rate",
                                              lambda raw, code, day: Decimal(1))],
        "Salesforce dated rates ignored": [("tests.differential.oracle_records._sf_rate", _rate_without_dates)],
    }  # fmt: skip


@contextlib.contextmanager
def _patched(patches: list[Patch]) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        for target, replacement in patches:
            stack.enter_context(mock.patch(target, replacement))
        yield


@contextlib.contextmanager
def _crm(name: str, template: Path) -> Iterator[Crm]:
    if name == "salesforce":
        with SalesforceSandbox(now=START, scale=SMALL, settings=SandboxSettings(api_limit=UNLIMITED)) as sf:
            env = {"SF_URL": sf.instance_url, "SF_CA": sf.ca_bundle, "SF_CLIENT_ID": sf.client_id,
                   "SF_CLIENT_SECRET": sf.client_secret}  # fmt: skip
            yield Crm(name, sf, env, template)
    else:
        settings = HubSpotSettings(ten_secondly_limit=None, daily_limit=UNLIMITED, search_per_second=None)
        with HubSpotSandbox(now=START, scale=SMALL, key_results_schema=True, settings=settings) as hs:
            yield Crm(name, hs, {"HS_URL": hs.base_url, "HS_TOKEN": hs.access_token}, template)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("crm", choices=("salesforce", "hubspot"))
    parser.add_argument("orgs", type=int, nargs="?", default=50)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp())
    template = work / "template.db"
    open_store(f"sqlite:///{template}").close()
    caught: Counter[str] = Counter()
    failing = 0
    with _crm(args.crm, template) as crm:
        for seed in range(args.orgs):
            scenario = generate(seed, args.crm)
            outcome = run_scenario(crm, scenario, work)
            if outcome.mismatches:  # the product itself disagrees: no baseline to measure against
                failing += 1
                continue
            config = yaml.safe_load(outcome.config)
            for name, patches in mutations().items():
                if name.startswith("Salesforce") and args.crm != "salesforce":
                    continue
                with _patched(patches):
                    expected = oracle.expected_records(
                        args.crm, outcome.raw, config, outcome.now or scenario.now
                    )
                caught[name] += bool(compare(crm, expected, config))
    print(f"{args.crm}: {args.orgs} orgs, {failing} failing as they are")
    for name in mutations():
        if name.startswith("Salesforce") and args.crm != "salesforce":
            continue
        print(f"  {name}: caught in {caught[name]} of {args.orgs - failing}")


if __name__ == "__main__":
    main()
