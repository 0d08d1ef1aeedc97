"""When the written fields of each write-back object were last read back from the CRM (drift repair)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncer.store.tables import WritebackCheckRow


def last_verified(session: Session, source: str) -> dict[str, datetime]:
    """object → when its fields were last read back and repaired, for one source."""
    rows = session.execute(
        select(WritebackCheckRow.object, WritebackCheckRow.verified_at).where(
            WritebackCheckRow.source == source
        )
    )
    return {str(obj): verified_at for obj, verified_at in rows}


def record_verified(session: Session, source: str, obj: str, *, now: datetime) -> None:
    row = session.get(WritebackCheckRow, (source, obj))
    if row is None:
        session.add(WritebackCheckRow(source=source, object=obj, verified_at=now))
    else:
        row.verified_at = now
