"""Check-ins: values of manual key results, and notes on any key result, by whom and when.

Audited: this module only inserts and reads. A check-in is never edited or deleted; a newer one
supersedes the older ones (the latest by time, then by insertion, is the value) and all of them
stay shown (README "Check-ins and manual key results"). A check-in belongs to the period its key
result was in when it was made, so a new quarter starts without a value.

Runs inside the caller's transaction (nothing here commits).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from syncer.store.tables import CheckinRow
from syncer.values import Period

_CHECKINS = cast(Table, CheckinRow.__table__)


@dataclass(frozen=True, slots=True)
class Checkin:
    """One check-in as stored. `group_key` is '' for the total, else the rep's e-mail (lower-case);
    `value` is None for a note only."""

    objective: str
    key_result: str
    group_key: str
    period: Period
    value: Decimal | None
    note: str | None
    author: str
    checked_in_at: datetime
    id: int | None = None

    @property
    def key(self) -> str:
        """ "objective.key_result", as `okrsync checkin` and write-back expressions name it."""
        return f"{self.objective}.{self.key_result}"


def record(session: Session, checkin: Checkin) -> int:
    """Insert `checkin` and return its id. `checked_in_at` must be aware (the store keeps UTC)."""
    row: dict[str, Any] = {
        "objective": checkin.objective,
        "key_result": checkin.key_result,
        "group_key": checkin.group_key,
        "period_start": checkin.period.start,
        "period_end": checkin.period.end,
        "value": checkin.value,
        "note": checkin.note,
        "author": checkin.author,
        "checked_in_at": checkin.checked_in_at,
    }
    return int(session.execute(insert(CheckinRow).values(**row).returning(CheckinRow.id)).scalar_one())


def history(session: Session, objective: str, key_result: str, period: Period | None = None) -> list[Checkin]:
    """Every check-in of one key result (of one period when given), newest first."""
    statement = select(CheckinRow).where(
        CheckinRow.objective == objective, CheckinRow.key_result == key_result
    )
    if period is not None:
        statement = statement.where(
            CheckinRow.period_start == period.start, CheckinRow.period_end == period.end
        )
    statement = statement.order_by(CheckinRow.checked_in_at.desc(), CheckinRow.id.desc())
    return [_checkin(row) for row in session.scalars(statement)]


def current_values(session: Session, objective: str, key_result: str, period: Period) -> dict[str, Decimal]:
    """Group key ('' for the total) → the value of its latest check-in with a value in `period`.

    A group without one has no value: unknown, not zero.
    """
    values: dict[str, Decimal] = {}
    for checkin in history(session, objective, key_result, period):  # newest first: the first wins
        if checkin.value is not None:
            values.setdefault(checkin.group_key, checkin.value)
    return values


def _checkin(row: CheckinRow) -> Checkin:
    return Checkin(
        objective=row.objective,
        key_result=row.key_result,
        group_key=row.group_key,
        period=Period(row.period_start, row.period_end),
        value=_trimmed(row.value),
        note=row.note,
        author=row.author,
        checked_in_at=row.checked_in_at,
        id=row.id,
    )


def _trimmed(number: Decimal | None) -> Decimal | None:
    """The stored 8-place number as it was typed (2, not 2.00000000), never in E notation."""
    if number is None:
        return None
    return number.quantize(Decimal(1)) if number == number.to_integral_value() else number.normalize()
