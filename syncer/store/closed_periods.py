"""Closed periods: ended periods' key-result values, provisional while closing, then frozen.

README "Closing a period"; the engine that decides what closes when is `syncer.closing`. A frozen
period's values are never changed by a cycle: only `reopen` (`okrsync period reopen`) lets the
next cycle recompute and freeze them again. Runs inside the caller's transaction (nothing here
commits).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, and_, delete, insert, select, update
from sqlalchemy.orm import Session

from syncer.store.tables import ClosedPeriodRow, ClosedValueRow
from syncer.values import TOTAL, KeyResultValue, Period

_PERIODS = cast(Table, ClosedPeriodRow.__table__)
_VALUES = cast(Table, ClosedValueRow.__table__)


@dataclass(frozen=True, slots=True)
class ClosedPeriod:
    """One objective's ended period. `through`: "source.stream" → the pull cursor its frozen values
    were computed up to; `late_records`: records of the period changed since (late data)."""

    objective: str
    period: Period
    closes_at: datetime
    frozen_at: datetime | None
    through: dict[str, datetime] = field(default_factory=dict)
    late_records: int = 0

    @property
    def frozen(self) -> bool:
        return self.frozen_at is not None


def load(session: Session) -> dict[tuple[str, Period], ClosedPeriod]:
    """Every closed period, by (objective, period)."""
    found = {}
    for row in session.execute(select(_PERIODS)):
        period = Period(row.period_start, row.period_end)
        through = {key: datetime.fromisoformat(at) for key, at in (row.through or {}).items()}
        found[(row.objective, period)] = ClosedPeriod(
            row.objective, period, row.closes_at, row.frozen_at, through, row.late_records
        )
    return found


def values(session: Session, *, frozen_only: bool = True) -> dict[tuple[str, Period], list[KeyResultValue]]:
    """The stored values of each closed period (frozen ones only, unless `frozen_only` is False),
    total first, then groups by kind and key. `expected` is 1: the period is over."""
    joined = and_(
        _PERIODS.c.objective == _VALUES.c.objective,
        _PERIODS.c.period_start == _VALUES.c.period_start,
        _PERIODS.c.period_end == _VALUES.c.period_end,
    )
    statement = select(_VALUES, _PERIODS.c.frozen_at, _PERIODS.c.updated_at).join_from(
        _VALUES, _PERIODS, joined
    )
    if frozen_only:
        statement = statement.where(_PERIODS.c.frozen_at.is_not(None))
    found: dict[tuple[str, Period], list[KeyResultValue]] = {}
    for row in session.execute(statement):
        period = Period(row.period_start, row.period_end)
        found.setdefault((row.objective, period), []).append(_value(row, period))
    for listed in found.values():
        listed.sort(key=lambda v: (v.key_result, v.group_kind != TOTAL, v.group_kind, v.group_key))
    return found


def save(
    session: Session,
    closed: ClosedPeriod,
    kept: Sequence[KeyResultValue],
    *,
    now: datetime,
) -> None:
    """Replace the period's row and values: provisional when `closed.frozen_at` is None, else final."""
    key = (closed.objective, closed.period.start, closed.period.end)
    for table in (_VALUES, _PERIODS):
        session.execute(delete(table).where(*_same_period(table, *key)))
    session.execute(
        insert(_PERIODS),
        [
            {
                "objective": closed.objective,
                "period_start": closed.period.start,
                "period_end": closed.period.end,
                "closes_at": closed.closes_at,
                "frozen_at": closed.frozen_at,
                "through": {k: at.isoformat() for k, at in closed.through.items()},
                "late_records": closed.late_records,
                "updated_at": now,
            }
        ],
    )
    if kept:
        session.execute(insert(_VALUES), [_row(closed, value) for value in kept])


def note_late(session: Session, closed: ClosedPeriod, count: int) -> None:
    """Record how many of a frozen period's records changed since its freeze."""
    if count != closed.late_records:
        key = (closed.objective, closed.period.start, closed.period.end)
        session.execute(update(_PERIODS).where(*_same_period(_PERIODS, *key)).values(late_records=count))


def reopen(session: Session, period: Period, *, now: datetime) -> list[str]:
    """Unfreeze every objective's `period`: the next cycle recomputes it (and freezes it again
    once its close_after has passed). Returns the objectives reopened."""
    matching = (_PERIODS.c.period_start == period.start, _PERIODS.c.period_end == period.end)
    objectives = list(
        session.scalars(select(_PERIODS.c.objective).where(*matching).order_by(_PERIODS.c.objective))
    )
    session.execute(update(_PERIODS).where(*matching).values(frozen_at=None, late_records=0, updated_at=now))
    return objectives


def _same_period(table: Table, objective: str, start: Any, end: Any) -> tuple[Any, ...]:
    return (table.c.objective == objective, table.c.period_start == start, table.c.period_end == end)


def _row(closed: ClosedPeriod, value: KeyResultValue) -> dict[str, Any]:
    return {
        "objective": closed.objective,
        "period_start": closed.period.start,
        "period_end": closed.period.end,
        "key_result": value.key_result,
        "group_kind": value.group_kind,
        "group_key": value.group_key,
        "value": value.value,
        "baseline": value.baseline,
        "target": value.target,
        "direction": value.direction,
        "progress": value.progress,
        "score": value.score,
        "status": value.status,
        "currency": value.currency,
    }


def _value(row: Any, period: Period) -> KeyResultValue:
    return KeyResultValue(
        objective=row.objective,
        key_result=row.key_result,
        group_kind=row.group_kind,
        group_key=row.group_key,
        period=period,
        value=_trimmed(row.value),
        baseline=_trimmed(row.baseline),
        target=_trimmed(row.target),
        direction=row.direction,
        progress=row.progress,
        score=row.score,
        expected=1.0,
        status=row.status,
        projected=_trimmed(row.value),  # the period is over: its projection is its value
        updated_at=row.frozen_at or row.updated_at,  # aware: tables.UtcDateTime
        currency=row.currency,
    )


def _trimmed(number: Decimal | None) -> Decimal | None:
    """The stored 8-place number as the rollup made it (380000, 0.85), never in E notation."""
    if number is None:
        return None
    if number == number.to_integral_value():
        return number.quantize(Decimal(1))
    return number.normalize()
