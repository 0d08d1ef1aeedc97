"""Stream status: whether each stream's data can be trusted (table `stream_status`, migration 0003).

The pull marks a stream completed when its pull finishes without error, and failed (with the
error) otherwise; a completed pull clears the failure. A stream with no completed pull, or whose
last pull failed, is not trusted: the key results reading it are stale, not zero.
Runs inside the caller's transaction (nothing here commits).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncer.store.tables import StreamStatusRow

ERROR_CHARS = 2_000  # an error message is kept whole up to this length


@dataclass(frozen=True, slots=True)
class StreamState:
    """The last known state of one stream of one source."""

    source: str
    stream: str
    completed_at: datetime | None  # the last pull that completed; None: never
    failed_at: datetime | None  # the last pull, when it failed
    error: str | None

    @property
    def is_trusted(self) -> bool:
        return self.completed_at is not None and self.error is None


def mark_completed(session: Session, source: str, stream: str, *, now: datetime) -> None:
    """The stream's pull finished without error: its data is whole up to `now`."""
    row = _row(session, source, stream)
    row.completed_at, row.failed_at, row.error = now, None, None


def mark_failed(session: Session, source: str, stream: str, error: str, *, now: datetime) -> None:
    """The stream's pull stopped with `error`; the last completed pull stays on record."""
    row = _row(session, source, stream)
    row.failed_at, row.error = now, error[:ERROR_CHARS] or "failed"


def load_states(session: Session) -> dict[tuple[str, str], StreamState]:
    """Every stream's last known state, by (source, stream)."""
    return {
        (row.source, row.stream): StreamState(
            row.source, row.stream, row.completed_at, row.failed_at, row.error
        )
        for row in session.scalars(select(StreamStatusRow))
    }


def _row(session: Session, source: str, stream: str) -> StreamStatusRow:
    row = session.get(StreamStatusRow, (source, stream))
    if row is None:
        row = StreamStatusRow(source=source, stream=stream, completed_at=None, failed_at=None, error=None)
        session.add(row)
    return row
