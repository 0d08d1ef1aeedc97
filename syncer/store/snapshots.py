"""Key-result snapshots: every computed value, kept for pace, trends and charts.

Runs inside the caller's transaction (nothing here commits). The value types come from
`syncer.values`, which imports nothing from the store, so there is no import cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, timedelta, tzinfo
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Select, Table, and_, case, delete, func, insert, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from syncer.store.tables import SnapshotRow
from syncer.values import KeyResultValue, Period, local_midnight

WEEK = timedelta(days=7)
_SNAPSHOTS = cast(Table, SnapshotRow.__table__)
_IDENTITY = (_SNAPSHOTS.c.objective, _SNAPSHOTS.c.key_result, _SNAPSHOTS.c.group_kind, _SNAPSHOTS.c.group_key)
_NEWEST_FIRST = (_SNAPSHOTS.c.taken_at.desc(), _SNAPSHOTS.c.id.desc())


def save_snapshot(session: Session, run_id: int | None, values: Sequence[KeyResultValue]) -> None:
    """Insert one snapshot row per value, in one statement, taken at the value's `updated_at`.

    A run's earlier rows are replaced: saving twice (a retried transaction whose first commit
    went through) leaves one snapshot per value."""
    if run_id is not None:
        session.execute(delete(SnapshotRow).where(SnapshotRow.run_id == run_id))
    if values:
        session.execute(insert(SnapshotRow), [_row(run_id, value) for value in values])


def latest_values(session: Session) -> list[KeyResultValue]:
    """The most recent snapshot of each key result and group, ordered by key result and group.

    Snapshots keep neither the direction nor the title: the direction is read back from the
    numbers (a target below the baseline is a decrease), the title is None.
    """
    rank = func.row_number().over(partition_by=_IDENTITY, order_by=_NEWEST_FIRST)
    ranked = select(SnapshotRow, rank.label("rank")).subquery()
    latest = aliased(SnapshotRow, ranked)
    statement = select(latest).where(ranked.c.rank == 1).order_by(*(ranked.c[c.name] for c in _IDENTITY))
    return [_value(row) for row in session.scalars(statement)]


def weekly_series(
    session: Session,
    objective: str,
    key_result: str,
    group_kind: str = "total",
    group_key: str = "",
    *,
    zone: tzinfo = UTC,
) -> list[tuple[date, Decimal | None]]:
    """(week_end, value) for each week of the current period that has a snapshot, oldest first.

    The current period is that of the key result's newest snapshot. Weeks count from the
    period's first day (local dates in `zone`), so a quarter has 13 or 14, the last one cut
    at the period's end; each week's value is its last snapshot.
    """
    identity = and_(
        _SNAPSHOTS.c.objective == objective,
        _SNAPSHOTS.c.key_result == key_result,
        _SNAPSHOTS.c.group_kind == group_kind,
        _SNAPSHOTS.c.group_key == group_key,
    )
    newest = session.execute(
        select(_SNAPSHOTS.c.period_start, _SNAPSHOTS.c.period_end)
        .where(identity)
        .order_by(*_NEWEST_FIRST)
        .limit(1)
    ).first()
    if newest is None:
        return []
    period = Period(newest.period_start, newest.period_end)
    week_ends = [
        min(period.start + WEEK * (n + 1) - timedelta(days=1), period.end) for n in range(_weeks(period))
    ]
    rows = session.execute(_last_of_each_week(identity, period, week_ends, zone))
    return [(week_ends[row.week], _trimmed(row.value)) for row in rows]


def _weeks(period: Period) -> int:
    return -(-period.days // 7)


def _last_of_each_week(
    identity: ColumnElement[bool], period: Period, week_ends: list[date], zone: tzinfo
) -> Select[Any]:
    taken_at = _SNAPSHOTS.c.taken_at
    week = case(
        *((taken_at < local_midnight(end + timedelta(days=1), zone), n) for n, end in enumerate(week_ends)),
        else_=None,
    )
    in_period = and_(
        identity,
        _SNAPSHOTS.c.period_start == period.start,
        _SNAPSHOTS.c.period_end == period.end,
        taken_at >= local_midnight(period.start, zone),
    )
    bucketed = (
        select(week.label("week"), _SNAPSHOTS.c.value, taken_at, _SNAPSHOTS.c.id).where(in_period).subquery()
    )
    rank = func.row_number().over(
        partition_by=bucketed.c.week, order_by=(bucketed.c.taken_at.desc(), bucketed.c.id.desc())
    )
    ranked = select(bucketed.c.week, bucketed.c.value, rank.label("rank")).where(bucketed.c.week.is_not(None))
    last = ranked.subquery()
    return select(last.c.week, last.c.value).where(last.c.rank == 1).order_by(last.c.week)


def _row(run_id: int | None, value: KeyResultValue) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "taken_at": value.updated_at,
        "objective": value.objective,
        "key_result": value.key_result,
        "group_kind": value.group_kind,
        "group_key": value.group_key,
        "period_start": value.period.start,
        "period_end": value.period.end,
        "value": value.value,
        "baseline": value.baseline,
        "target": value.target,
        "progress": value.progress,
        "score": value.score,
        "expected": value.expected,
        "status": value.status,
        "projected": value.projected,
        "currency": value.currency,
    }


def _value(row: SnapshotRow) -> KeyResultValue:
    target, baseline = _trimmed(row.target), _trimmed(row.baseline)
    decreasing = target is not None and target < (baseline or 0)
    return KeyResultValue(
        objective=row.objective,
        key_result=row.key_result,
        group_kind=row.group_kind,
        group_key=row.group_key,
        period=Period(row.period_start, row.period_end),
        value=_trimmed(row.value),
        baseline=baseline,
        target=target,
        direction="decrease" if decreasing else "increase",
        progress=row.progress,
        score=row.score,
        expected=row.expected or 0.0,
        status=row.status,  # type: ignore[arg-type]  # written from KeyResultValue.status
        projected=_trimmed(row.projected),
        updated_at=row.taken_at,
        currency=row.currency,
    )


def _trimmed(number: Decimal | None) -> Decimal | None:
    """The stored 8-place number without trailing zeros (380000, 0.85), never in E notation."""
    if number is None:
        return None
    if number == number.to_integral_value():
        return number.quantize(Decimal(1))
    return number.normalize()
