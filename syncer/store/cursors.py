"""Sync cursors: where each stream of each source resumes."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from syncer.contract import Cursor
from syncer.records import StreamName
from syncer.store.tables import CursorRow


def load(session: Session, source: str, stream: StreamName) -> Cursor | None:
    row = session.get(CursorRow, (source, stream))
    return None if row is None else Cursor(modified_at=row.modified_at, last_id=row.last_id)


def advance(session: Session, source: str, stream: StreamName, cursor: Cursor) -> None:
    """Move the cursor forward; call it in the transaction that stored the rows it covers."""
    row = session.get(CursorRow, (source, stream))
    now = datetime.now(UTC)
    if row is None:
        session.add(
            CursorRow(
                source=source,
                stream=stream,
                modified_at=cursor.modified_at,
                last_id=cursor.last_id,
                updated_at=now,
            )
        )
    elif (cursor.modified_at, cursor.last_id or "") >= (row.modified_at, row.last_id or ""):
        row.modified_at, row.last_id, row.updated_at = cursor.modified_at, cursor.last_id, now


def reset(session: Session, source: str, stream: StreamName | None = None) -> None:
    """Forget where a source (or one of its streams) was: the next pull starts from scratch."""
    statement = delete(CursorRow).where(CursorRow.source == source)
    if stream is not None:
        statement = statement.where(CursorRow.stream == stream)
    session.execute(statement)


def all_cursors(session: Session) -> dict[tuple[str, str], Cursor]:
    rows = session.scalars(select(CursorRow))
    return {(r.source, r.stream): Cursor(modified_at=r.modified_at, last_id=r.last_id) for r in rows}
