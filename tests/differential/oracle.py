"""The differential test's oracle: every write-back field value, in plain Python, from RAW records.

It implements the README's rules for the numbers directly and shares no code with syncer/ or
connectors/ (test_oracle_imports parses the imports). `oracle_records` reads the raw rows; this
module measures, sets goals, scores and lays the values out as the write-back targets hold them.

Rules (each stated here, not imported):
- A record is in a period when it is not deleted and its date field's local date is in it;
  `current_quarter`/`current_year` follow `fiscal_year_start_month`, resolved from the clock's
  local date; the previous period is the same number of months before.
- count counts; sum adds (0 over nothing); avg and avg_days average the non-null values (none
  over nothing); avg_days counts whole days between local dates and leaves out a record whose
  span is negative (closed before it was created: README, troubleshooting); ratio = Σ weight matching the
  numerator / Σ weight matching the denominator (every record in scope without one), weight 1
  or the weight field with a missing value as 0, none when the denominator is 0.
- Groups: owner = the active owners' e-mails; team = the `teams:` map by e-mail, case-insensitive
  (first team listed wins), else the CRM's team; a team shows when an active owner has it or it
  has records in scope. Totals count every record; an inactive owner's records count in the total
  and their team, never as a per-owner value; a record of an unknown owner counts in the total only.
- Values as written (README, key-result values; write-back rounding): counts and integer sums
  whole, money to cents, averages of days and ratios to six places (half up); a
  `previous_period` baseline is last period's value so rounded; numeric baselines and targets to
  cents for money, six places otherwise; `progress_pct` = round(100 × progress, 1).
- Targets: total = the number, or the relative target applied to the total's baseline. Groups:
  an explicit `owner_targets` map gives listed owners (e-mails case-insensitive) their number and
  the others none; `even` gives each owner the total's target divided by the number of active
  owners (averages and ratios: the total's target), whatever the target's form; otherwise a
  relative target applies to the group's own baseline and an absolute one has no group target.
  A group's baseline: its own previous value (0 for count/sum without records), or for a numeric
  baseline the total's for averages and ratios, the total's / owners for an even split of a
  count or sum, else none.
- Direction: as written (`direction:`), else decrease when the total's target is below its
  baseline (or 0), else by the sign of a relative target. Progress = (value − start) / (target − start), start 0 for a growing count
  or sum, else the baseline (0 without); none without value or target or when target = start;
  floored at 0; a group whose target is already met where it starts (the target lies behind the
  start for the direction) is done while its value is at or beyond the target, else 0. Status:
  done ≥ 1, on_track ≥ expected, at_risk ≥ 0.7 × expected, else off_track (always off_track
  when the value moved the wrong way), expected = the elapsed share of the period (real time
  between local midnights).
- Write-back: a keyed target holds one record per key result total ("obj.kr") and group
  ("obj.kr.group"); `match: owner` writes each active owner's own value, their team's value (none
  without a team) or the total, per the key result's grouping; inactive owners get nothing.
  A team written before but no longer shown (its departed reps' records left the period) may
  keep its keyed record only emptied or showing what the team's value now is (`optional`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from tests.differential.oracle_measure import (
    add_months,
    elapsed,
    goal_quantum,
    group_records,
    in_scope,
    measure,
    period_of,
    quantize,
    team_of,
    value_quantum,
)
from tests.differential.oracle_records import Fact, Facts, hubspot_facts, salesforce_facts

ADDITIVE = ("count", "sum")
AT_RISK_SHARE = 0.7


@dataclass(frozen=True, slots=True)
class Scored:
    """One key result's value for the total ("") or a group, with what decided it."""

    key: str
    value: Decimal | None
    baseline: Decimal | None
    target: Decimal | None
    progress: float | None
    status: str | None
    records: tuple[str, ...]  # ids of the raw records in scope (this period and the baseline's)
    note: str
    considered: tuple[str, ...] = ()  # ids of every record of the stream and group, in scope or not
    shown: bool = True  # False: a team with records of the stream but none in scope and no active owner

    def attribute(self, name: str) -> Any:
        if name in ("value", "target", "baseline"):
            number = getattr(self, name)
            return None if number is None else float(number)
        if name == "progress_pct":
            return None if self.progress is None else round(self.progress * 100, 1)
        return {"progress": self.progress, "status": self.status, "key": self.key}[name]


@dataclass(frozen=True, slots=True)
class ExpectedRecord:
    object: str
    key: str  # the record id (match: owner) or the upsert key
    fields: dict[str, Any]
    why: dict[str, Scored] = field(default_factory=dict)  # field → the value it shows
    optional: bool = False  # a group not shown now (see `Scored.shown`): absent, emptied, or these values


def expected_records(crm: str, raw: dict[str, list[dict[str, Any]]], config: dict[str, Any],
                     now: datetime) -> list[ExpectedRecord]:  # fmt: skip
    """What every write-back target should hold after one cycle at `now`."""
    facts = salesforce_facts(raw, config) if crm == "salesforce" else hubspot_facts(raw, config)
    scored = score_all(facts, config, now)
    records: list[ExpectedRecord] = []
    for target in config["writeback"]:
        if target.get("match") == "owner":
            records.extend(_owner_records(target, facts, config, scored))
        else:
            records.extend(_keyed_records(target, scored))
    return records


# ---------------------------------------------------------------- goals and scores


def _relative(spec: str, baseline: Decimal | None) -> Decimal | None:
    if baseline is None:
        return None
    text = spec.strip()
    unit = "pp" if text.endswith("pp") else "%"
    change = Decimal(text[1:].removesuffix(unit)) / 100 * (-1 if text[0] == "-" else 1)
    return baseline * (1 + change) if unit == "%" else baseline + change


@dataclass(frozen=True, slots=True)
class _Context:
    kr: dict[str, Any]
    additive: bool
    quantum: Decimal
    goal: Decimal
    expected: float
    owners: int  # active owners in scope (an even split's divisor)


def _total_goal(ctx: _Context, previous: Decimal | None) -> tuple[Decimal | None, Decimal | None]:
    kr = ctx.kr
    baseline = quantize(previous, ctx.quantum) if kr.get("baseline") == "previous_period" else None
    if isinstance(kr.get("baseline"), int | float):
        baseline = quantize(Decimal(str(kr["baseline"])), ctx.goal)
    target = kr["target"]
    total = _relative(target, baseline) if isinstance(target, str) else Decimal(str(target))
    return baseline, quantize(total, ctx.goal)


def _group_goal(ctx: _Context, kind: str, key: str, previous: Decimal | None,
                total: tuple[Decimal | None, Decimal | None]) -> tuple[Decimal | None, Decimal | None]:  # fmt: skip
    kr = ctx.kr
    forms = kr.get("owner_targets")
    even = kind == "owner" and forms == "even"
    if kr.get("baseline") == "previous_period":
        baseline = quantize(previous, ctx.quantum)
        baseline = Decimal(0) if baseline is None and ctx.additive else baseline
    elif total[0] is None or not ctx.additive:
        baseline = total[0]
    else:
        baseline = quantize(total[0] / ctx.owners, ctx.goal) if even and ctx.owners else None
    if kind == "owner" and isinstance(forms, dict):
        targets = {email.strip().lower(): number for email, number in forms.items()}
        number = targets.get(key)
        return baseline, None if number is None else quantize(Decimal(str(number)), ctx.goal)
    if even:
        if total[1] is None or not ctx.owners:
            return baseline, None
        return baseline, quantize(total[1] / ctx.owners if ctx.additive else total[1], ctx.goal)
    if isinstance(kr["target"], str):
        return baseline, quantize(_relative(kr["target"], baseline), ctx.goal)
    return baseline, None


def _direction(kr: dict[str, Any], total: tuple[Decimal | None, Decimal | None]) -> str:
    if kr.get("direction"):
        return str(kr["direction"])
    baseline, target = total
    if target is not None:
        return "decrease" if target < (baseline or 0) else "increase"
    return (
        "decrease" if isinstance(kr["target"], str) and kr["target"].strip().startswith("-") else "increase"
    )


def _score(ctx: _Context, direction: str, value: Decimal | None,
           goal: tuple[Decimal | None, Decimal | None]) -> tuple[float | None, str | None]:  # fmt: skip
    baseline, target = goal
    start = Decimal(0) if ctx.additive and direction == "increase" else (baseline or Decimal(0))
    if value is None or target is None or target == start:
        return None, None
    if (target < start) != (direction == "decrease"):  # a goal already met where it starts
        reached = value >= target if direction == "increase" else value <= target
        return (1.0, "done") if reached else (0.0, "off_track")
    signed = float((value - start) / (target - start))
    progress = max(0.0, signed)  # floored at 0
    if signed < 0:
        return progress, "off_track"
    if progress >= 1:
        return progress, "done"
    if progress >= ctx.expected:
        return progress, "on_track"
    return progress, "at_risk" if progress >= AT_RISK_SHARE * ctx.expected else "off_track"


def score_all(
    facts: Facts, config: dict[str, Any], now: datetime
) -> dict[tuple[str, str], dict[str, Scored]]:
    """(objective, key result) → group kind:key ("" for the total) → scored value."""
    zone = ZoneInfo(config["timezone"])
    today = now.astimezone(zone).date()
    owners = len({o.email for o in facts.owners if o.active and o.email})
    scored: dict[tuple[str, str], dict[str, Scored]] = {}
    for objective in config["objectives"]:
        first, last, months = period_of(objective["period"], today, config["fiscal_year_start_month"])
        before = (add_months(first, -months), first - timedelta(days=1))
        expected = elapsed(first, last, now, zone)
        for kr in objective["key_results"]:
            metric = kr["metric"]
            ctx = _Context(kr, metric["kind"] in ADDITIVE, value_quantum(metric), goal_quantum(metric),
                           expected, owners)  # fmt: skip
            scored[(objective["key"], kr["key"])] = _score_key_result(
                ctx, facts, config, f"{objective['key']}.{kr['key']}",
                (in_scope(facts, metric, first, last), in_scope(facts, metric, *before)),
            )  # fmt: skip
    return scored


def _score_key_result(ctx: _Context, facts: Facts, config: dict[str, Any], key: str,
                      scopes: tuple[list[Fact], list[Fact]]) -> dict[str, Scored]:  # fmt: skip
    metric, (current, previous) = ctx.kr["metric"], scopes
    total = _total_goal(ctx, measure(metric, previous))
    direction = _direction(ctx.kr, total)
    value = quantize(measure(metric, current), ctx.quantum)
    stream = [f for f in facts.records if f.stream == metric["stream"]]
    out = {"": _scored(ctx, key, direction, value, total, (current + previous, stream), "total")}
    group_by = ctx.kr.get("group_by")
    if group_by:
        now_groups = group_records(facts, config, group_by, current)
        then_groups = group_records(facts, config, group_by, previous)
        every = group_records(facts, config, group_by, stream)
        for group, records in now_groups.items():
            before = then_groups.get(group, [])
            goal = _group_goal(ctx, group_by, group, measure(metric, before), total)
            value = quantize(measure(metric, records), ctx.quantum)
            why = (records + before, every.get(group, []))
            out[group] = _scored(ctx, f"{key}.{group}", direction, value, goal, why, f"{group_by} {group}")
        for group in set(every) - set(now_groups):  # its value, should it still show (written before)
            before = then_groups.get(group, [])
            goal = _group_goal(ctx, group_by, group, measure(metric, before), total)
            value = quantize(measure(metric, []), ctx.quantum)
            hidden = _scored(
                ctx, f"{key}.{group}", direction, value, goal, (before, every[group]), f"{group_by} {group}"
            )
            out[group] = replace(hidden, shown=False)
    return out


def _scored(ctx: _Context, key: str, direction: str, value: Decimal | None,
            goal: tuple[Decimal | None, Decimal | None], why: tuple[list[Fact], list[Fact]],
            who: str) -> Scored:  # fmt: skip
    progress, status = _score(ctx, direction, value, goal)
    note = (f"{who}: value={value} baseline={goal[0]} target={goal[1]} direction={direction} "
            f"expected={ctx.expected:.4f} owners={ctx.owners}")  # fmt: skip
    records, considered = (tuple(f.id for f in facts) for facts in why)
    return Scored(key, value, goal[0], goal[1], progress, status, records, note, considered)


# ---------------------------------------------------------------- write-back layout


def _keyed_records(
    target: dict[str, Any], scored: dict[tuple[str, str], dict[str, Scored]]
) -> list[ExpectedRecord]:
    records = []
    for (objective, kr), groups in scored.items():
        for value in groups.values():
            fields, why = {}, {}
            for crm_field, expression in target["fields"].items():
                parts = expression.split(".")
                if parts[0] == "*" or (parts[0], parts[1]) == (objective, kr):
                    fields[crm_field], why[crm_field] = value.attribute(parts[-1]), value
            records.append(ExpectedRecord(target["object"], value.key, fields, why, optional=not value.shown))
    return records


def _owner_records(target: dict[str, Any], facts: Facts, config: dict[str, Any],
                   scored: dict[tuple[str, str], dict[str, Scored]]) -> list[ExpectedRecord]:  # fmt: skip
    teams = team_of(facts, config)
    records = []
    for owner in facts.owners:
        fields: dict[str, Any] = {}
        why: dict[str, Scored] = {}
        for crm_field, expression in target["fields"].items():
            objective, kr_key, attribute = expression.split(".")
            kr = next(k for o in config["objectives"] if o["key"] == objective
                      for k in o["key_results"] if k["key"] == kr_key)  # fmt: skip
            group = {"owner": owner.email, "team": teams[owner.id], None: ""}[kr.get("group_by")]
            value = scored[(objective, kr_key)].get(group) if owner.active and group is not None else None
            value = value if value is not None and value.shown else None
            fields[crm_field] = None if value is None else value.attribute(attribute)
            if value is not None:
                why[crm_field] = value
        records.append(ExpectedRecord(target["object"], owner.record_id, fields, why))
    return records
