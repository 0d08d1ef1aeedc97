"""Delete sweeps: when each stream's deleted records were last listed (table `delete_sweeps`).

A sweep run at a cycle's bound stores every record deleted before that bound as deleted; the
next sweep lists only those deleted since (`store.tables.DeleteSweepRow`). Runs inside the
caller's transaction (nothing here commits).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from syncer.store.tables import DeleteSweepRow


def last_sweep(session: Session, source: str, streams: Iterable[str]) -> datetime | None:
    """The oldest last sweep among `streams`; None when one of them was never swept."""
    swept: list[datetime] = []
    for stream in streams:
        row = session.get(DeleteSweepRow, (source, stream))
        if row is None:
            return None
        swept.append(row.swept_at)
    return min(swept, default=None)


def record_sweep(session: Session, source: str, streams: Iterable[str], *, at: datetime) -> None:
    """Every record of `streams` deleted before `at` is stored; a sweep never moves back."""
    for stream in streams:
        row = session.get(DeleteSweepRow, (source, stream))
        if row is None:
            session.add(DeleteSweepRow(source=source, stream=stream, swept_at=at))
        elif at > row.swept_at:
            row.swept_at = at
