"""The write ledger: what each CRM confirmed for each field, and the writes that failed.

It is the memory of what an org holds: write-back sends only fields whose wanted value
differs from the confirmed one. A failed write keeps the old confirmed value and records
the error, so the next cycle sees the difference and retries it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncer.contract import FieldValue, WriteItem, WriteResult
from syncer.store.tables import LedgerRow

LedgerKey = tuple[str, str]  # (target, field)


def to_json(value: FieldValue) -> str:
    """The canonical text of a field value, as the ledger compares it."""
    return json.dumps(value, sort_keys=True)


@dataclass(frozen=True, slots=True)
class FailedWrite:
    source: str
    object: str
    target: str
    field: str
    error_code: str | None
    error: str | None
    failed_at: datetime | None
    attempts: int


def confirmed(session: Session, source: str, obj: str) -> dict[LedgerKey, str | None]:
    """(target, field) → JSON of the value the CRM last confirmed, for one object."""
    rows = session.execute(
        select(LedgerRow.target, LedgerRow.field, LedgerRow.value).where(
            LedgerRow.source == source, LedgerRow.object == obj
        )
    )
    return {(target, field): value for target, field, value in rows}


def record_results(
    session: Session,
    source: str,
    outcomes: Sequence[tuple[WriteItem, WriteResult]],
    *,
    now: datetime,
) -> None:
    """File what the CRM said of each write: confirmed values, or the error and one more attempt."""
    for item, result in outcomes:
        for field, value in item.fields.items():
            row = session.get(LedgerRow, (source, item.object, item.target, field))
            if row is None:
                row = LedgerRow(
                    source=source, object=item.object, target=item.target, field=field, attempts=0
                )
                session.add(row)
            if result.ok:
                row.value, row.written_at = to_json(value), now
                row.record_id = result.record_id or item.record_id
                row.error_code = row.error = row.failed_at = None
                row.attempts = 0
            else:
                row.error_code, row.error, row.failed_at = result.error_code, result.message, now
                row.attempts = (row.attempts or 0) + 1


def failed_writes(session: Session, limit: int = 100) -> list[FailedWrite]:
    rows = session.scalars(
        select(LedgerRow)
        .where(LedgerRow.error_code.is_not(None))
        .order_by(LedgerRow.failed_at.desc())
        .limit(limit)
    )
    return [
        FailedWrite(r.source, r.object, r.target, r.field, r.error_code, r.error, r.failed_at, r.attempts)
        for r in rows
    ]
