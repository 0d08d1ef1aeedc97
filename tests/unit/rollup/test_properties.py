"""Property: the SQL rollup agrees with a plain-Python reference on random data.

The reference below is written from the definitions (README "Configuration reference", the module docstrings of
syncer.rollup), not from the SQL: records in scope by local date, filters with their typed
attribute views and `not` semantics, owner/team/region/attribute groups and their universes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from syncer.records import owner_group_key
from syncer.rollup import compute_key_results
from syncer.rollup.metrics import value_quantum
from syncer.rollup.periods import previous_period

from .builders import Rows, settings_with

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
ZONES = ["America/New_York", "UTC", "Asia/Kolkata", "Pacific/Auckland"]
EMAILS = ["ana@example.com", "bo@example.com", "cy@example.com", None]
NUMBER = re.compile(r"^\s*[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$")
FIRST_DAY, LAST_DAY = date(2026, 6, 1), date(2027, 2, 28)
ADDITIVE = {"count", "sum", "distinct_count"}

# ---------------------------------------------------------------- random data


def _mostly(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A value nine times in ten, else None."""
    return st.tuples(values, st.integers(0, 9)).map(lambda pair: None if pair[1] == 9 else pair[0])


owners_st = st.lists(
    st.fixed_dictionaries(
        {
            "source": st.sampled_from(["sfdc", "hub"]),
            "email": st.sampled_from(EMAILS),
            "active": st.booleans(),
            "team": st.sampled_from([None, "", "t1", "t2"]),
            "region": st.sampled_from([None, "r1", "r2"]),
        }
    ),
    max_size=5,
)
# Most days sit on a period boundary, where time zones decide (Hypothesis starts from the
# first choices, so days inside the current quarter come first).
BOUNDARY_DAYS = [
    date(2026, 11, 1),
    date(2026, 10, 1),
    date(2027, 1, 1),
    date(2026, 12, 31),
    date(2026, 9, 30),
]
BOUNDARY_DAYS += [date(2026, 12, 1), date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1)]
days_st = st.one_of(st.sampled_from(BOUNDARY_DAYS), st.dates(FIRST_DAY, LAST_DAY))
# Instants are (day, minutes from local midnight in the configured zone): the test places
# them once the zone is drawn, so most sit a minute or an hour from a period boundary.
local_instants = st.tuples(days_st, st.sampled_from([-1, 0, 1, -30, 30, -90, 90, 600]))
attributes_st = st.fixed_dictionaries(
    {},
    optional={
        "segment": st.sampled_from([None, "smb", "ent", "Mid"]),
        "seats": st.one_of(st.integers(0, 20), st.sampled_from(["7", " 12 ", "lots", "1e1"]), st.booleans()),
    },
)
deals_st = st.lists(
    st.fixed_dictionaries(
        {
            "source": st.sampled_from(["sfdc", "hub"]),
            "owner": st.integers(0, 6),  # beyond the owners list: an unknown owner
            "amount": st.one_of(st.none(), st.integers(0, 1_000_000).map(lambda cents: Decimal(cents) / 100)),
            "account_id": st.sampled_from([None, "a1", "a2", "a3"]),
            "stage": st.sampled_from([None, "Won", "Lost"]),
            "type": st.sampled_from(["new", "expansion", "renewal", "other"]),
            "is_won": st.booleans(),
            "created_at": _mostly(local_instants),
            "close_date": _mostly(days_st),
            "deleted": st.sampled_from([False, False, False, True]),
            "attributes": attributes_st,
        }
    ),
    min_size=2,
    max_size=16,
)
filter_entries = st.sampled_from(
    [
        {"is_won": True},
        {"is_won": False},
        {"type": "new"},
        {"type": ["new", "expansion"]},
        {"type": {"not": ["renewal"]}},
        {"stage": {"not": "Won"}},
        {"stage": None},
        {"amount": {"gt": 2500}},
        {"amount": {"gte": 100, "lte": 8000}},
        {"amount": {"not": None}},
        {"segment": "smb"},
        {"attributes.segment": ["smb", "ent"]},
        {"segment": {"not": "smb"}},
        {"segment": None},
        {"seats": {"gte": 7}},
        {"attributes.seats": 7},
        {"seats": {"not": 12}},
    ]
)
filters_st = st.one_of(
    st.just({}),
    filter_entries,
    st.tuples(filter_entries, filter_entries).map(lambda pair: {**pair[0], **pair[1]}),
)
date_fields = st.sampled_from(["close_date", "created_at"])
metrics_st = st.one_of(
    st.builds(lambda w: {"kind": "count", "where": w}, filters_st),
    st.builds(
        lambda w, f: {"kind": "sum", "field": f, "where": w}, filters_st, st.sampled_from(["amount", "seats"])
    ),
    st.builds(
        lambda w, f: {"kind": "avg", "field": f, "where": w}, filters_st, st.sampled_from(["amount", "seats"])
    ),
    st.builds(
        lambda w: {"kind": "avg_days", "from": "created_at", "to": "close_date", "where": w}, filters_st
    ),
    st.builds(
        lambda w, f: {"kind": "distinct_count", "field": f, "where": w},
        filters_st,
        st.sampled_from(["account_id", "segment"]),
    ),
    st.builds(
        lambda w, n, d, weight: {
            "kind": "ratio",
            "where": w,
            "numerator": n,
            "denominator": d,
            "weight": weight,
        },
        filters_st,
        filters_st,
        filters_st,
        st.sampled_from([None, "amount"]),
    ),
)
periods_st = st.one_of(
    st.sampled_from(["current_quarter", "current_quarter", "current_month", "2026-Q3"]),
    st.builds(
        lambda start, days: {"start": start.isoformat(), "end": (start + timedelta(days=days)).isoformat()},
        days_st,
        st.sampled_from([0, 30, 61, 91]),
    ),
)
metrics_st = st.builds(lambda metric, field: {**metric, "date": field}, metrics_st, date_fields)
group_by_st = st.sampled_from([None, "owner", "team", "region", "attributes.segment"])


# ---------------------------------------------------------------- the reference


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | Decimal):
        return float(value)
    return float(value) if isinstance(value, str) and NUMBER.match(value) else None


def _reader(deal: dict[str, Any], name: str) -> Callable[[Any], tuple[Any, Any]]:
    """(field value, comparable filter value) for one filter value, per the filter rules."""
    bare = name.removeprefix("attributes.")
    if name == bare and name in deal and name != "attributes":
        return lambda wanted: (deal[name], wanted)
    raw = deal["attributes"].get(bare)

    def view(wanted: Any) -> tuple[Any, Any]:
        if isinstance(wanted, bool):
            text = _text(raw)
            return (text.lower() if text else None), ("true" if wanted else "false")
        if isinstance(wanted, int | float):
            return _number(raw), float(wanted)
        return _text(raw), wanted

    return view


def _holds(deal: dict[str, Any], name: str, wanted: Any) -> bool:
    read = _reader(deal, name)
    if isinstance(wanted, list):
        return any(_equal(*read(item)) for item in wanted)
    if isinstance(wanted, dict):
        checks = []
        for op, limit in wanted.items():
            if op == "not":
                items = limit if isinstance(limit, list) else [limit]
                checks.append(all(not _equal(*read(item)) for item in items))
            else:
                have, bound = read(limit)
                checks.append(have is not None and _ORDER[op](have, bound))
        return all(checks)
    return _equal(*read(wanted))


def _equal(have: Any, wanted: Any) -> bool:
    return have is None if wanted is None else have is not None and have == wanted


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}


def _matches(deal: dict[str, Any], where: dict[str, Any]) -> bool:
    return all(_holds(deal, name, wanted) for name, wanted in where.items())


@dataclass
class Reference:
    zone: ZoneInfo
    owners: list[dict[str, Any]]
    deals: list[dict[str, Any]]
    teams: dict[str, list[str]]

    def local_day(self, value: date | datetime | None) -> date | None:
        return value.astimezone(self.zone).date() if isinstance(value, datetime) else value

    def in_scope(self, metric: dict[str, Any], start: date, end: date) -> list[dict[str, Any]]:
        field = metric.get("date") or "close_date"
        return [
            deal
            for deal in self.deals
            if not deal["deleted"]
            and (day := self.local_day(deal[field])) is not None
            and start <= day <= end
            and _matches(deal, metric["where"])
        ]

    def value(self, metric: dict[str, Any], deals: list[dict[str, Any]]) -> Decimal | None:
        kind = metric["kind"]
        if kind == "count":
            return Decimal(len(deals))
        if kind in ("sum", "avg"):
            numbers = [n for d in deals if (n := _field_number(d, metric["field"])) is not None]
            if kind == "sum":
                return sum(numbers, Decimal(0))
            return sum(numbers, Decimal(0)) / len(numbers) if numbers else None
        if kind == "avg_days":
            spans = [
                (self.local_day(d["close_date"]) - self.local_day(d["created_at"])).days  # type: ignore[operator]
                for d in deals
                if d["created_at"] is not None and d["close_date"] is not None
            ]
            days = [span for span in spans if span >= 0]  # ending before it starts: no duration
            return Decimal(sum(days)) / len(days) if days else None
        if kind == "distinct_count":
            name = metric["field"]
            seen = {d[name] if name in d else _text(d["attributes"].get(name)) for d in deals}
            return Decimal(len(seen - {None}))
        return self.ratio(metric, deals)

    def ratio(self, metric: dict[str, Any], deals: list[dict[str, Any]]) -> Decimal | None:
        def weight(deal: dict[str, Any]) -> Decimal:
            return Decimal(1) if metric["weight"] is None else (deal["amount"] or Decimal(0))

        top = sum((weight(d) for d in deals if _matches(d, metric["numerator"])), Decimal(0))
        bottom = sum((weight(d) for d in deals if _matches(d, metric["denominator"])), Decimal(0))
        return top / bottom if bottom else None

    def groups(
        self, metric: dict[str, Any], group_by: str, deals: list[dict[str, Any]]
    ) -> dict[str, Decimal | None]:
        if group_by.startswith("attributes."):
            keys = {_text(d["attributes"].get("segment")) for d in deals} - {None}
            return {
                k: self.value(metric, [d for d in deals if _text(d["attributes"].get("segment")) == k])
                for k in keys
            }
        key_of = {(o["source"], o["id"]): self.group_key(o, group_by) for o in self.owners}
        members: dict[str, list[dict[str, Any]]] = {}
        for deal in deals:
            key = key_of.get((deal["source"], deal["owner_id"]))
            if key is not None:
                members.setdefault(key, []).append(deal)
        keys = {key_of[(o["source"], o["id"])] for o in self.owners if o["active"]} - {None}
        if group_by != "owner":
            keys |= set(members)
        return {k: self.value(metric, members.get(k, [])) for k in keys if k is not None}

    def group_key(self, owner: dict[str, Any], group_by: str) -> str | None:
        if group_by == "owner":
            return owner_group_key(owner["email"], owner["source"], owner["id"])
        if group_by == "region":
            return owner["region"] or None
        for team, emails in self.teams.items():
            if owner["email"] and owner["email"] in [e.lower() for e in emails]:
                return team
        return owner["team"] or None


def _field_number(deal: dict[str, Any], name: str) -> Decimal | None:
    if name == "amount":
        return deal["amount"]
    number = _number(deal["attributes"].get(name))
    return None if number is None else Decimal(repr(number))


def _rounded(value: Decimal | None, quantum: Decimal) -> Decimal | None:
    return None if value is None else value.quantize(quantum, rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------- the property


def _placed(instant: tuple[date, int] | None, zone: str) -> datetime | None:
    if instant is None:
        return None
    day, minutes = instant
    midnight = datetime.combine(day, datetime.min.time(), tzinfo=ZoneInfo(zone))
    return midnight.astimezone(UTC) + timedelta(minutes=minutes)


def _insert(session: Session, owners: list[dict[str, Any]], deals: list[dict[str, Any]]) -> None:
    rows = Rows(session)
    for owner in owners:
        rows.owner(
            owner["id"],
            owner["email"],
            source=owner["source"],
            active=owner["active"],
            team=owner["team"],
            region=owner["region"],
        )
    for n, deal in enumerate(deals):
        fields = {k: v for k, v in deal.items() if k != "owner"}
        rows.deal(f"d{n}", **fields)


@settings(
    max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    zone=st.sampled_from(ZONES),
    owners=owners_st,
    deals=deals_st,
    metrics=st.lists(metrics_st, min_size=4, max_size=4),
    periods=st.lists(periods_st, min_size=2, max_size=2),
    group_bys=st.lists(group_by_st, min_size=4, max_size=4),
    teams=st.sampled_from([{}, {"t9": ["Cy@Example.com", "ana@example.com"]}]),
)
def test_sql_rollup_matches_the_python_reference(
    session: Session,
    zone: str,
    owners: list[dict[str, Any]],
    deals: list[dict[str, Any]],
    metrics: list[dict[str, Any]],
    periods: list[Any],
    group_bys: list[str | None],
    teams: dict[str, list[str]],
) -> None:
    """Two objectives (their periods often overlap) of two key results each, measured together."""
    owners = [{**o, "id": f"o{n}"} for n, o in enumerate(owners)]
    deals = [{**d, "owner_id": f"o{d['owner']}", "created_at": _placed(d["created_at"], zone)} for d in deals]
    metrics = [{"stream": "deals", **metric} for metric in metrics]
    key_results = [
        {
            "key": f"kr{n}",
            "metric": metric,
            "group_by": group_by,
            "baseline": "previous_period",
            "target": "+10%",
        }
        for n, (metric, group_by) in enumerate(zip(metrics, group_bys, strict=True))
    ]
    objectives = [
        {"key": f"o{n}", "period": period, "key_results": key_results[2 * n : 2 * n + 2]}
        for n, period in enumerate(periods)
    ]
    config = settings_with(objectives, timezone=zone, teams=teams)
    reference = Reference(ZoneInfo(zone), owners, deals, teams)
    try:
        _insert(session, owners, deals)
        values = compute_key_results(session, config, now=NOW)
        models = [kr for objective in config.objectives for kr in objective.key_results]
        for kr, metric, group_by in zip(models, metrics, group_bys, strict=True):
            _check([v for v in values if v.key_result == kr.key], reference, kr.metric, metric, group_by)
    finally:
        session.rollback()


def _check(
    values: list[Any], reference: Reference, model: Any, metric: dict[str, Any], group_by: str | None
) -> None:
    total = values[0]
    period, before = total.period, previous_period(total.period)
    quantum = value_quantum(model)  # a measured baseline is kept as a value is
    current = reference.in_scope(metric, period.start, period.end)
    previous = reference.in_scope(metric, before.start, before.end)
    assert total.value == _rounded(reference.value(metric, current), quantum)
    assert total.baseline == _rounded(reference.value(metric, previous), quantum)
    if group_by is None:
        assert len(values) == 1
        return
    expected = reference.groups(metric, group_by, current)
    got = {v.group_key: v for v in values[1:]}
    assert {k: v.value for k, v in got.items()} == {k: _rounded(v, quantum) for k, v in expected.items()}
    earlier = reference.groups(metric, group_by, previous)
    empty = Decimal(0) if metric["kind"] in ADDITIVE else None
    for key, value in got.items():
        assert value.baseline == _rounded(earlier.get(key, empty), quantum), key
