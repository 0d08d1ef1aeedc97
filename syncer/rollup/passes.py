"""Many key results from one read of a stream: the statements behind `measure`.

A pass reads one stream once for every metric that dates its records by the same column,
over one or more periods that do not overlap (a key result's period and its baseline's), and
aggregates all of them at once with conditional aggregates (`CASE WHEN <where> THEN <term>`).
The benchmark's ten key results with `previous_period` baselines over deals and calls are
three statements (deals, distinct accounts among them, calls) where one statement per key
result, period and grouping made 34.

- A grouped pass returns a row per (period, source, owner) with every metric's partial
  aggregates; totals, owners, teams and regions are sums of those rows (`owner_groups`).
- A distinct pass counts distinct values per period only (a distinct count does not add up
  across owners).
Periods that overlap (`current_quarter` and `current_year`) go to separate passes, since
one record would belong to both.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, Table, case, false, func, literal, null, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement, Null

from syncer.config.models import DistinctCountMetric, Metric
from syncer.rollup.expressions import SqlContext, is_instant, sqlite_unindexed
from syncer.rollup.filters import filter_clause
from syncer.rollup.metrics import (
    Request,
    aggregates,
    counted,
    date_field,
    in_period,
    stream_table,
    terms,
    to_decimal,
)
from syncer.rollup.periods import local_bounds
from syncer.values import Period

# SQLite has no statistics on how dates spread (Python's build has no STAT4) and searches
# the date index for any range, even one that holds most rows, where reading the table in
# order is 1.5 times faster. Above this estimated share of the rows, a pass reads the table.
SCAN_SHARE = 0.2
OwnerRef = tuple[str, str | None]  # (source, owner_id) as stored; owner_id NULL = unknown owner


@dataclass(slots=True)
class Partial:
    """A metric's aggregates over some records: numerator, denominator, matching records."""

    num: Decimal | None = None
    den: Decimal | None = None
    hits: Decimal | None = None

    def add(self, other: Partial) -> None:
        self.num, self.den, self.hits = (
            _plus(self.num, other.num),
            _plus(self.den, other.den),
            _plus(self.hits, other.hits),
        )


def _plus(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    return b if a is None else a if b is None else a + b


@dataclass(eq=False)
class Pass:
    """One statement: a stream, its date column, the periods (slots) and the metrics it reads."""

    table: Table
    column: str
    distinct: bool  # counts distinct values per period (no owners) instead of grouping by owner
    periods: list[Period] = field(default_factory=list)
    metrics: list[Metric] = field(default_factory=list)
    hits: set[int] = field(default_factory=set)  # metrics whose matching records are counted

    @property
    def covering(self) -> Period:
        """From the first period's start to the last one's end: what the pass reads."""
        return Period(min(p.start for p in self.periods), max(p.end for p in self.periods))

    def takes(self, period: Period) -> bool:
        return period in self.periods or not any(_overlap(period, other) for other in self.periods)

    def slot(self, period: Period) -> int:
        if period not in self.periods:
            self.periods.append(period)
        return self.periods.index(period)

    def metric(self, metric: Metric) -> int:
        if metric not in self.metrics:
            self.metrics.append(metric)
        return self.metrics.index(metric)


@dataclass(frozen=True, slots=True)
class Place:
    """Where a request's numbers are in a pass's result."""

    pass_: Pass
    metric: int
    slot: int


@dataclass(frozen=True, slots=True)
class PassResult:
    """A pass's rows: (slot, source, owner_id) → one Partial per metric (owner None in distinct passes)."""

    rows: dict[tuple[int, str | None, str | None], list[Partial]]

    def total(self, place: Place) -> Partial:
        total = Partial()
        for (slot, _source, _owner), partials in self.rows.items():
            if slot == place.slot:
                total.add(partials[place.metric])
        return total

    def owners(self, place: Place) -> Iterator[tuple[OwnerRef, Partial]]:
        """Each owner's partial (a grouped pass; owner_id None for records without owner)."""
        for (slot, source, owner_id), partials in self.rows.items():
            if slot == place.slot and source is not None:
                yield (source, owner_id), partials[place.metric]


def plan(requests: Sequence[Request]) -> tuple[list[Pass], list[Place]]:
    """The passes that answer `requests`, and where each request's numbers will be."""
    passes: list[Pass] = []
    places = []
    for request in requests:
        metric = request.query.metric
        table, column = stream_table(metric.stream), date_field(metric)
        distinct = isinstance(metric, DistinctCountMetric)
        chosen = next(
            (
                p
                for p in passes
                if (p.table, p.column, p.distinct) == (table, column, distinct) and p.takes(request.period)
            ),
            None,
        )
        if chosen is None:
            chosen = Pass(table, column, distinct)
            passes.append(chosen)
        place = Place(chosen, chosen.metric(metric), chosen.slot(request.period))
        if request.group_by in ("team", "region"):
            chosen.hits.add(place.metric)  # a team without active reps still shows when it has records
        places.append(place)
    return passes, places


def run(session: Session, pass_: Pass, ctx: SqlContext) -> PassResult:
    rows: dict[tuple[int, str | None, str | None], list[Partial]] = {}
    for row in session.execute(statement(pass_, ctx, scan=_prefers_scan(session, pass_, ctx))):
        values = iter(row[3:])
        partials = [Partial(*(to_decimal(next(values)) for _ in range(3))) for _metric in pass_.metrics]
        rows[(row.slot, row.source, row.owner_id)] = partials
    return PassResult(rows)


def statement(pass_: Pass, ctx: SqlContext, *, scan: bool = False) -> Select[Any]:
    """slot, source, owner_id, then (num, den, hits) per metric; per (slot, source, owner) or per slot.

    Two layers, as in `metrics.group_statement`: the inner select gives each record's slot and
    terms, the outer one aggregates them. In SQLite the inner select is kept whole (LIMIT -1
    stops the optimizer from merging it into the outer one), so the sort behind GROUP BY
    carries the few computed terms rather than every column read, JSON attributes included.
    """
    table, metrics = pass_.table, pass_.metrics
    column = table.c[pass_.column]
    slot = case(*((in_period(column, period, ctx), n) for n, period in enumerate(pass_.periods)))
    inner = _InnerColumns(
        [slot.label("slot")] + ([] if pass_.distinct else [table.c.source, table.c.owner_id])
    )
    wanted: list[ColumnElement[bool] | None] = []  # which records each metric reads (None: all)
    parts = []
    for n, metric in enumerate(metrics):
        matches = filter_clause(table, metric.where, ctx)
        num, den = terms(table, metric, ctx)
        hits = inner.add(case((matches, literal(1)))) if n in pass_.hits else None
        has_den = not isinstance(den, Null)  # count, sum and distinct count have no denominator
        parts.append(
            (inner.add(case((matches, num))), inner.add(case((matches, den))) if has_den else None, hits)
        )
        in_scope = matches if metric.where else None  # a team shows for records in scope
        wanted.append(in_scope if n in pass_.hits else counted(table, metric, ctx))
    where = [
        table.c.deleted == false(),
        in_period(sqlite_unindexed(column) if scan else column, pass_.covering, ctx),
    ]
    if all(clause is not None for clause in wanted):  # skip records no metric reads
        where.append(or_(*_distinct([clause for clause in wanted if clause is not None])))
    query = select(*inner.columns).where(*where)
    rows = (query.limit(-1) if ctx.is_sqlite else query).subquery()
    measured: list[ColumnElement[Any]] = []
    for n, (metric, (num_name, den_name, hits_name)) in enumerate(zip(metrics, parts, strict=True)):
        num_sum, den_sum = aggregates(rows.c[num_name], rows.c[den_name] if den_name else null(), metric)
        hit_count = func.count(rows.c[hits_name]) if hits_name else literal(None)
        measured += [num_sum.label(f"num{n}"), den_sum.label(f"den{n}"), hit_count.label(f"hits{n}")]
    owner = [rows.c.source, rows.c.owner_id] if not pass_.distinct else []
    nobody = [literal(None).label("source"), literal(None).label("owner_id")] if pass_.distinct else []
    grouped = select(rows.c.slot, *owner, *nobody, *measured).group_by(rows.c.slot, *owner)
    return grouped.where(rows.c.slot.is_not(None)) if len(pass_.periods) > 1 else grouped


class _InnerColumns:
    """The inner select's columns, each distinct expression once (SQLite computes every copy)."""

    def __init__(self, keys: list[ColumnElement[Any]]) -> None:
        self.columns = keys
        self._terms: list[ColumnElement[Any]] = []

    def add(self, expression: ColumnElement[Any]) -> str:
        known = _index(self._terms, expression)
        if known is None:
            known = len(self._terms)
            self._terms.append(expression)
            self.columns.append(expression.label(f"t{known}"))
        return f"t{known}"


def _index(expressions: list[ColumnElement[Any]], expression: ColumnElement[Any]) -> int | None:
    """Where an equal expression (same SQL, same values) is in `expressions`, if anywhere."""
    return next((n for n, known in enumerate(expressions) if known.compare(expression)), None)


def _distinct(clauses: list[ColumnElement[bool]]) -> list[ColumnElement[bool]]:
    kept: list[ColumnElement[bool]] = []
    for clause in clauses:
        if _index(kept, clause) is None:
            kept.append(clause)
    return kept


def _prefers_scan(session: Session, pass_: Pass, ctx: SqlContext) -> bool:
    """SQLite: does the pass hold so large a share of the rows that reading the table is faster?

    Estimated from the column's first and last value (two index lookups), as if records
    were spread evenly in time; PostgreSQL keeps statistics and decides for itself.
    """
    column = pass_.table.c[pass_.column]
    indexed = any(index.columns.values()[0] is column for index in pass_.table.indexes)
    if not ctx.is_sqlite or not indexed:
        return False
    first, last = session.scalar(select(func.min(column))), session.scalar(select(func.max(column)))
    if first is None or last is None:
        return False
    covering = pass_.covering
    low, high = local_bounds(covering, ctx.zone) if is_instant(column) else (covering.start, covering.end)
    span = max(_days(last) - _days(first), 1.0)
    share = (min(_days(high), _days(last)) - max(_days(low), _days(first))) / span
    return share > SCAN_SHARE


def _days(value: date | datetime) -> float:
    return value.timestamp() / 86_400 if isinstance(value, datetime) else float(value.toordinal())


def _overlap(a: Period, b: Period) -> bool:
    return a.start <= b.end and b.start <= a.end
