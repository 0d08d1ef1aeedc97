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

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    Table,
    bindparam,
    case,
    false,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
)
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
from syncer.rollup.stream_tables import stream_scope
from syncer.values import Period

# SQLite has no statistics on how dates spread (Python's build has no STAT4) and searches
# the date index for any range, even one that holds most rows, where reading the table in
# order is 1.5 times faster. Above this estimated share of the rows, a pass reads the table.
SCAN_SHARE = 0.2
# SQLite reads such a pass in parts of this many rows, side by side on the rollup's connections
# (one per core): SQLite runs a statement on one core, and the passes of a rollup differ in
# cost (deals with six metrics, calls with three), so whole passes leave a core idle. Parts
# of this size keep the cores evenly busy to the end, at the cost of a statement per part and
# of its rows (one per period and owner), added up in Python.
PART_ROWS = 250_000
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


@dataclass(frozen=True, slots=True)
class Part:
    """A pass over some of its table's rows: all of them, or one SQLite rowid range."""

    pass_: Pass
    query: Select[Any]  # the pass's statement, built once and shared by its parts
    rowids: tuple[int, int] | None = None  # inclusive; None: every row
    size: int = 0  # rows in the range, or in the table: the larger parts are started first


def parts(session: Session, pass_: Pass, ctx: SqlContext, *, split: bool) -> list[Part]:
    """The pass as one statement, or (`split`, SQLite, a pass that reads the table in order)
    as one statement over rowid ranges of PART_ROWS rows, to be read on several connections
    and added up. A distinct pass stays whole: distinct counts of parts do not add up.
    """
    scan = _prefers_scan(session, pass_, ctx)
    if not ctx.is_sqlite:
        return [Part(pass_, statement(pass_, ctx, scan=scan))]
    rowid = _rowid(pass_.table)
    low = session.scalar(select(func.min(rowid)).select_from(pass_.table))  # one min() or max():
    high = session.scalar(select(func.max(rowid)).select_from(pass_.table))  # a b-tree end each
    size = 0 if low is None or high is None else high - low + 1
    # Reads its table from end to end: a declared stream's share of object_records is searched
    # by its index instead (stream_tables), so it is read whole.
    in_order = scan or not (_indexed(pass_) or stream_scope(pass_.table))
    if low is None or not (split and in_order and not pass_.distinct and size > PART_ROWS):
        return [Part(pass_, statement(pass_, ctx, scan=scan), size=size)]
    query = statement(pass_, ctx, scan=scan, ranged=True)
    count = -(-size // PART_ROWS)
    bounds = [low + size * n // count for n in range(count + 1)]
    return [Part(pass_, query, (start, end - 1), end - start) for start, end in itertools.pairwise(bounds)]


def run(session: Session, part: Part) -> PassResult:
    rows: dict[tuple[int, str | None, str | None], list[Partial]] = {}
    bounds = {} if part.rowids is None else {"rowid_low": part.rowids[0], "rowid_high": part.rowids[1]}
    for row in session.execute(part.query, bounds):
        values = iter(row[3:])
        partials = [Partial(*(to_decimal(next(values)) for _ in range(3))) for _metric in part.pass_.metrics]
        rows[(row.slot, row.source, row.owner_id)] = partials
    return PassResult(rows)


def combined(results: Sequence[PassResult]) -> PassResult:
    """The results of a pass's parts added up: one row per (slot, source, owner)."""
    if len(results) == 1:
        return results[0]
    rows: dict[tuple[int, str | None, str | None], list[Partial]] = {}
    for result in results:
        for key, partials in result.rows.items():
            if key not in rows:
                rows[key] = [Partial() for _ in partials]
            for total, partial in zip(rows[key], partials, strict=True):
                total.add(partial)
    return PassResult(rows)


def statement(pass_: Pass, ctx: SqlContext, *, scan: bool = False, ranged: bool = False) -> Select[Any]:
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
        *stream_scope(table),  # a declared stream's own rows of object_records (stream_tables)
        in_period(sqlite_unindexed(column) if scan else column, pass_.covering, ctx),
    ]
    if ranged:  # SQLite reads just that range of the table's b-tree (`parts`)
        where.append(_rowid(table).between(bindparam("rowid_low"), bindparam("rowid_high")))
    if all(clause is not None for clause in wanted):  # skip records no metric reads
        where.append(or_(*_distinct([clause for clause in wanted if clause is not None])))
    query = select(*inner.columns).where(*where)
    rows = (query.limit(-1) if ctx.is_sqlite else query).subquery()
    if ctx.is_sqlite and pass_.distinct and len(metrics) == 1 and not pass_.hits:
        return _distinct_values_counted(rows, parts[0][0], several_periods=len(pass_.periods) > 1)
    measured: list[ColumnElement[Any]] = []
    for n, (metric, (num_name, den_name, hits_name)) in enumerate(zip(metrics, parts, strict=True)):
        num_sum, den_sum = aggregates(rows.c[num_name], rows.c[den_name] if den_name else null(), metric)
        hit_count = func.count(rows.c[hits_name]) if hits_name else literal(None)
        measured += [num_sum.label(f"num{n}"), den_sum.label(f"den{n}"), hit_count.label(f"hits{n}")]
    owner = [rows.c.source, rows.c.owner_id] if not pass_.distinct else []
    nobody = [literal(None).label("source"), literal(None).label("owner_id")] if pass_.distinct else []
    grouped = select(rows.c.slot, *owner, *nobody, *measured).group_by(rows.c.slot, *owner)
    return grouped.where(rows.c.slot.is_not(None)) if len(pass_.periods) > 1 else grouped


def _distinct_values_counted(rows: Any, value: str, *, several_periods: bool) -> Select[Any]:
    """One distinct count per slot as the groups of (slot, value), counted: SQLite's
    count(DISTINCT) keeps a b-tree of the values seen per group, which is slower (about a
    quarter, on the benchmark's 2,000,000 deals) than the one sort behind GROUP BY."""
    pairs = select(rows.c.slot, rows.c[value].label("value")).group_by(rows.c.slot, rows.c[value])
    found = (pairs.where(rows.c.slot.is_not(None)) if several_periods else pairs).subquery()
    nothing = [literal(None).label(name) for name in ("source", "owner_id")]
    counted = [
        func.count(found.c.value).label("num0"),
        literal(None).label("den0"),
        literal(None).label("hits0"),
    ]
    return select(found.c.slot, *nothing, *counted).group_by(found.c.slot)


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


def _indexed(pass_: Pass) -> bool:
    """An index starts with the pass's date column."""
    column = pass_.table.c[pass_.column]
    return any(index.columns.values()[0] is column for index in pass_.table.indexes)


def _rowid(table: Table) -> ColumnElement[int]:
    return literal_column(f"{table.name}.rowid", type_=Integer)


def _prefers_scan(session: Session, pass_: Pass, ctx: SqlContext) -> bool:
    """SQLite: does the pass hold so large a share of the rows that reading the table is faster?

    Estimated from the column's first and last value (two index lookups), as if records
    were spread evenly in time; PostgreSQL keeps statistics and decides for itself.
    """
    column = pass_.table.c[pass_.column]
    if not ctx.is_sqlite or not _indexed(pass_):
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
