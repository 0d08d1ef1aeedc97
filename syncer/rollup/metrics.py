"""One metric in SQL: its scope, each record's terms, their aggregates, and the finished value.

A metric's value is numerator / denominator for averages and ratios, else the numerator:
`terms` says what each record in scope contributes to both, `aggregates` how they add up
within a group. Because every kind adds up (count, sum, sum and count, two sums), the
values of many groups can be added together again, in Python, without another query: that
is how `measure` gets totals and teams from one statement grouped by owner (see `passes`).
Only distinct counts do not add up; they get statements of their own (`group_statement`
here, and a distinct pass per period in `passes`).

Scope: records not deleted whose date field falls in the period, read in the configured time
zone (see `scope_clause`), and matching the metric's `where`. Records of every source count
together. `group_statement`'s groups:
- `owner`: owners joined on (source, owner_id), named by `owner_group_key`. The owners table
  is the outer side of the join, so every owner appears; a key gets a value when at least one
  of its owner rows is active in a source that pulls the stream. The records of all its owner
  rows count (a rep deactivated in one CRM but active in another keeps them).
- `team`: the `teams:` map by e-mail (case-insensitive), else the owner's team field;
  `region`: the owner's region. A team or region appears when an active owner of a pulling
  source has it, or when it has records in scope (a team of departed reps keeps its records).
- `attributes.x`: the attribute's value as text, for records in scope that have it.
A record whose owner is unknown counts in the total only. `owner_groups` folds per-owner
values into the same groups by the same rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import (
    Integer,
    Numeric,
    Select,
    Table,
    and_,
    case,
    distinct,
    false,
    func,
    literal,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.sql.elements import ColumnElement

from syncer.config.models import (
    AvgDaysMetric,
    AvgMetric,
    CountMetric,
    DistinctCountMetric,
    Filter,
    Metric,
    RatioMetric,
    SumMetric,
)
from syncer.rollup import stream_tables
from syncer.rollup.expressions import (
    SqlContext,
    attribute_number,
    attribute_text,
    day_difference,
    is_instant,
    non_negative,
)
from syncer.rollup.filters import attribute_name, canonical_column, filter_clause
from syncer.rollup.periods import local_bounds
from syncer.store.tables import OwnerRow
from syncer.values import Period

WHOLE, CENT, FINE = Decimal(1), Decimal("0.01"), Decimal("0.000001")
_OWNERS = cast(Table, OwnerRow.__table__)


@dataclass(frozen=True, slots=True)
class MetricQuery:
    """One key result's metric, ready to be measured over any period."""

    metric: Metric
    ctx: SqlContext
    sources: tuple[str, ...]  # sources that pull the stream: their active owners get a value
    teams: Mapping[str, Sequence[str]]  # team → member e-mails, from the YAML


@dataclass(frozen=True, slots=True)
class Measurement:
    """Raw (unquantized) metric values: the total, and one per group key."""

    total: Decimal | None
    groups: dict[str, Decimal | None]


@dataclass(frozen=True, slots=True)
class Request:
    """What a key result needs measured: its metric over one period, with or without groups."""

    query: MetricQuery
    period: Period
    group_by: str | None

    @property
    def adds_up(self) -> bool:
        """Its groups are sums of per-owner values (so one statement grouped by owner serves)."""
        additive_groups = self.group_by in (None, "owner", "team", "region")
        return additive_groups and not isinstance(self.query.metric, DistinctCountMetric)


def stream_table(stream: str) -> Table:
    """The stream's table: its own, or a declared stream's view of object_records (`stream_tables`)."""
    return stream_tables.stream_table(stream)


def date_field(metric: Metric) -> str:
    """The column that places the metric's records in a period."""
    return metric.date or stream_tables.default_date(metric.stream)


def in_period(column: ColumnElement[Any], period: Period, ctx: SqlContext) -> ColumnElement[bool]:
    """`column` falls in `period`, read in the configured time zone.

    A `date` column compares calendar days; an instant column compares against the UTC
    instants of local midnight at the start and after the end, so a deal closed at 23:30
    local on the quarter's last day is in that quarter whatever UTC says.
    """
    if is_instant(column):
        start_at, end_at = local_bounds(period, ctx.zone)
        return and_(column >= start_at, column < end_at)
    return and_(column >= period.start, column <= period.end)


def scope_clause(table: Table, metric: Metric, period: Period, ctx: SqlContext) -> ColumnElement[bool]:
    """Records in scope: not deleted, dated in the period, matching `where`."""
    dated = in_period(table.c[date_field(metric)], period, ctx)
    own = stream_tables.stream_scope(table)  # a declared stream's rows among object_records
    return and_(table.c.deleted == false(), *own, dated, filter_clause(table, metric.where, ctx))


# ---------------------------------------------------------------- terms and aggregates


def terms(table: Table, metric: Metric, ctx: SqlContext) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """Each record's contribution: (numerator term, denominator term); NULL terms are skipped."""
    match metric:
        case CountMetric():
            return literal(1), null()
        case SumMetric() | AvgMetric():
            term = _number(table, metric.field, ctx)
            return term, term
        case AvgDaysMetric():
            # A span that ends before it starts (a deal logged after it was won, a migrated close
            # date) is no duration: it is left out of the average, and counted as skipped
            # (rollup.undated), while the record still counts everywhere else.
            days = non_negative(day_difference(table.c[metric.to], table.c[metric.from_], ctx), ctx)
            return days, days
        case DistinctCountMetric():
            column = canonical_column(table, metric.field)
            if column is None:
                column = attribute_text(table, attribute_name(metric.field), ctx)
            return column, null()
        case RatioMetric():
            return _ratio_term(table, metric, metric.numerator, ctx), _ratio_term(
                table, metric, metric.denominator, ctx
            )


def counted(table: Table, metric: Metric, ctx: SqlContext) -> ColumnElement[bool] | None:
    """The records in scope that can change the metric's value; None when all of them can."""
    parts = [filter_clause(table, metric.where, ctx)] if metric.where else []
    if isinstance(metric, RatioMetric) and metric.denominator:  # in neither: adds 0 to both
        parts.append(
            or_(filter_clause(table, metric.numerator, ctx), filter_clause(table, metric.denominator, ctx))
        )
    return and_(*parts) if parts else None


def _ratio_term(table: Table, metric: RatioMetric, where: Filter, ctx: SqlContext) -> ColumnElement[Any]:
    """A record's weight (1, or its weight field with a missing weight as 0) when it matches."""
    weight = literal(1) if metric.weight is None else func.coalesce(_number(table, metric.weight, ctx), 0)
    return case((filter_clause(table, where, ctx), weight), else_=0)


def aggregates(
    num: ColumnElement[Any], den: ColumnElement[Any], metric: Metric
) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """Per-group (numerator, denominator); the value is their quotient (see `finish`)."""
    match metric:
        case CountMetric():
            return func.count(num), null()
        case SumMetric():
            return func.coalesce(func.sum(num), 0), null()
        case AvgMetric() | AvgDaysMetric():
            return func.sum(num), func.count(den)  # average = sum / count of non-null values
        case DistinctCountMetric():
            return func.count(distinct(num)), null()
        case RatioMetric():
            return func.coalesce(func.sum(num), 0), func.coalesce(func.sum(den), 0)


def _number(table: Table, name: str, ctx: SqlContext) -> ColumnElement[Any]:
    column = canonical_column(table, name)
    return column if column is not None else attribute_number(table, attribute_name(name), ctx)


def finish(num: Any, den: Any, metric: Metric) -> Decimal | None:
    """numerator / denominator for avg and ratio kinds (None over nothing), else numerator."""
    numerator = to_decimal(num)
    if metric.kind not in ("avg", "avg_days", "ratio"):
        return numerator if numerator is not None else Decimal(0)
    denominator = to_decimal(den)
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def to_decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


# ---------------------------------------------------------------- statements


def group_statement(query: MetricQuery, period: Period, group_by: str) -> Select[Any]:
    """The metric's value per group (group_key, num, den): for groups that do not add up."""
    table = stream_table(query.metric.stream)
    num, den = terms(table, query.metric, query.ctx)
    scope = scope_clause(table, query.metric, period, query.ctx)
    if group_by.startswith("attributes."):
        key = attribute_text(table, attribute_name(group_by), query.ctx)
        labelled = (key.label("group_key"), num.label("num"), den.label("den"))
        rows = select(*labelled).where(scope, key.is_not(None)).subquery()
        return _grouped(rows, query.metric).group_by(rows.c.group_key)
    owned = _OWNERS.outerjoin(
        table, and_(table.c.source == _OWNERS.c.source, table.c.owner_id == _OWNERS.c.id, scope)
    )
    present = table.c.id.is_not(None)  # false on the outer side of the join: an owner without records
    active = case((and_(_OWNERS.c.active == true(), _OWNERS.c.source.in_(query.sources)), 1), else_=0)
    key = _owner_group_key() if group_by == "owner" else _team_or_region(group_by, query.teams)
    inner = (
        select(
            key.label("group_key"),
            active.label("active"),
            case((present, num)).label("num"),
            case((present, den)).label("den"),
            table.c.id.label("record_id"),
        )
        .select_from(owned)
        .where(key.is_not(None))
    )
    rows = inner.subquery()
    has_active_owner = func.max(rows.c.active) == 1
    keep = (
        has_active_owner if group_by == "owner" else or_(has_active_owner, func.count(rows.c.record_id) > 0)
    )
    return _grouped(rows, query.metric).group_by(rows.c.group_key).having(keep)


def _grouped(rows: Any, metric: Metric) -> Select[Any]:
    return select(rows.c.group_key, *_labelled(aggregates(rows.c.num, rows.c.den, metric)))


def _labelled(parts: tuple[ColumnElement[Any], ColumnElement[Any]]) -> tuple[ColumnElement[Any], ...]:
    return parts[0].label("num"), parts[1].label("den")


def _owner_group_key() -> ColumnElement[str]:
    """records.owner_group_key in SQL: the trimmed lower-case e-mail, else `source:id`."""
    email = func.lower(func.trim(_OWNERS.c.email))
    return case((func.coalesce(email, "") != "", email), else_=_OWNERS.c.source + ":" + _OWNERS.c.id)


def _team_or_region(group_by: str, teams: Mapping[str, Sequence[str]]) -> ColumnElement[str]:
    if group_by == "region":
        return func.nullif(_OWNERS.c.region, "")
    email = func.lower(func.trim(_OWNERS.c.email))
    named = [
        (email.in_([member.strip().lower() for member in members]), literal(team))
        for team, members in teams.items()
        if members
    ]
    field = func.nullif(_OWNERS.c.team, "")
    return case(*named, else_=field) if named else field


# ---------------------------------------------------------------- quantization


def value_quantum(metric: Metric) -> Decimal:
    """How finely a value is kept: whole counts, cents for money, six places otherwise.

    Sums of an integer column (call seconds) are whole; averages, day averages and ratios
    keep six decimal places; sums and averages of a money column (amount) keep cents.
    """
    if metric.kind in ("count", "distinct_count"):
        return WHOLE
    if metric.kind in ("sum", "avg"):
        column = canonical_column(stream_table(metric.stream), metric.field)
        if column is not None and isinstance(column.type, Numeric):
            return CENT
        if column is not None and isinstance(column.type, Integer) and metric.kind == "sum":
            return WHOLE
    return FINE


def goal_quantum(metric: Metric) -> Decimal:
    """Targets and baselines: cents for money, six places otherwise (a target of 57.5 deals stays)."""
    return CENT if value_quantum(metric) == CENT else FINE
