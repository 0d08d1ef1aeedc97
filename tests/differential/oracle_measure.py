"""The oracle's measuring half: periods, record filters, metric values and groups, from facts.

Shares no code with syncer/ or connectors/; the rules are stated in `oracle`'s docstring.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from tests.differential.oracle_records import Fact, Facts

WHOLE, CENT, FINE = Decimal(1), Decimal("0.01"), Decimal("0.000001")
DEFAULT_DATE = {"deals": "close_date", "calls": "occurred_at", "renewals": "due_date"}
MONEY = ("amount",)


# ---------------------------------------------------------------- periods


def add_months(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period_of(name: str, today: date, fiscal: int) -> tuple[date, date, int]:
    """(first day, last day, months) of `current_quarter` or `current_year`."""
    months = {"current_quarter": 3, "current_year": 12}[name]
    into_year = (today.month - fiscal) % 12
    first = add_months(today.replace(day=1), -(into_year % months))
    return first, add_months(first, months) - timedelta(days=1), months


def elapsed(first: date, last: date, now: datetime, zone: ZoneInfo) -> float:
    start = datetime.combine(first, time(), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC)
    return min(1.0, max(0.0, (now - start) / (end - start)))


# ---------------------------------------------------------------- measuring


def _matches(value: Any, wanted: Any) -> bool:
    if isinstance(wanted, dict):
        return all(_compare(value, op, operand) for op, operand in wanted.items())
    if isinstance(wanted, list):
        return any(_matches(value, item) for item in wanted)
    if wanted is None:
        return value is None
    if isinstance(wanted, bool) or isinstance(value, bool):
        return value is wanted
    if isinstance(wanted, int | float):
        return value is not None and Decimal(str(value)) == Decimal(str(wanted))
    return value is not None and str(value) == str(wanted)


def _compare(value: Any, op: str, operand: Any) -> bool:
    if op == "not":
        return value is None or not _matches(value, operand)
    if value is None:
        return False
    left, right = Decimal(str(value)), Decimal(str(operand))
    return {"gt": left > right, "gte": left >= right, "lt": left < right, "lte": left <= right}[op]


def _filter(fact: Fact, where: dict[str, Any] | None) -> bool:
    return all(_matches(fact.fields.get(name), wanted) for name, wanted in (where or {}).items())


def in_scope(facts: Facts, metric: dict[str, Any], first: date, last: date) -> list[Fact]:
    day_field = metric.get("date") or DEFAULT_DATE[metric["stream"]]
    return [
        f for f in facts.records
        if f.stream == metric["stream"] and not f.deleted
        and (day := f.fields.get(day_field)) is not None and first <= day <= last
        and _filter(f, metric.get("where"))
    ]  # fmt: skip


def value_quantum(metric: dict[str, Any]) -> Decimal:
    kind = metric["kind"]
    if kind == "count":
        return WHOLE
    if kind in ("sum", "avg") and metric["field"] in MONEY:
        return CENT
    if kind == "sum":
        return WHOLE  # duration_seconds: whole seconds
    return FINE


def goal_quantum(metric: dict[str, Any]) -> Decimal:
    return CENT if value_quantum(metric) == CENT else FINE


def quantize(number: Decimal | None, quantum: Decimal) -> Decimal | None:
    return None if number is None else number.quantize(quantum, rounding=ROUND_HALF_UP)


def measure(metric: dict[str, Any], records: list[Fact]) -> Decimal | None:
    kind = metric["kind"]
    if kind == "count":
        return Decimal(len(records))
    if kind in ("sum", "avg"):
        numbers = [Decimal(str(v)) for f in records if (v := f.fields.get(metric["field"])) is not None]
        if kind == "sum":
            return sum(numbers, Decimal(0))
        return sum(numbers, Decimal(0)) / len(numbers) if numbers else None
    if kind == "avg_days":
        spans = [
            (to - since).days for f in records
            if (to := f.fields.get(metric["to"])) is not None and (since := f.fields.get(metric["from"])) is not None
        ]  # fmt: skip
        days = [Decimal(span) for span in spans if span >= 0]  # a negative span is no duration
        return sum(days, Decimal(0)) / len(days) if days else None
    weights = {f.id: _weight(f, metric.get("weight")) for f in records}
    numerator = sum((weights[f.id] for f in records if _filter(f, metric.get("numerator"))), Decimal(0))
    denominator = sum((weights[f.id] for f in records if _filter(f, metric.get("denominator"))), Decimal(0))
    return numerator / denominator if denominator else None


def _weight(fact: Fact, name: str | None) -> Decimal:
    if name is None:
        return Decimal(1)
    value = fact.fields.get(name)
    return Decimal(0) if value is None else Decimal(str(value))


# ---------------------------------------------------------------- groups


def team_of(facts: Facts, config: dict[str, Any]) -> dict[str, str | None]:
    """Owner id → team: the YAML map by e-mail (first team listed wins), else the CRM's team."""
    member_of: dict[str, str] = {}
    for team, members in (config.get("teams") or {}).items():
        for member in members:
            member_of.setdefault(member.strip().lower(), team)
    return {o.id: member_of.get(o.email or "") or o.team for o in facts.owners}


def _group_of(facts: Facts, config: dict[str, Any], group_by: str) -> dict[str, str | None]:
    if group_by == "owner":
        return {o.id: o.email for o in facts.owners}
    return team_of(facts, config)


def group_records(
    facts: Facts, config: dict[str, Any], group_by: str, records: list[Fact]
) -> dict[str, list[Fact]]:
    """The groups shown and their records."""
    of = _group_of(facts, config, group_by)
    shown = {g for o in facts.owners if o.active and (g := of[o.id]) is not None}
    groups: dict[str, list[Fact]] = {}
    for fact in records:
        group = of.get(fact.owner_id or "")
        if group is not None:
            groups.setdefault(group, []).append(fact)
    if group_by != "owner":
        shown |= set(groups)
    return {group: groups.get(group, []) for group in shown}
