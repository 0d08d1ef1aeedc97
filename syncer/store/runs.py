"""Runs: one row per cycle, started before anything is pulled and finished with its counts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from syncer.store import lease
from syncer.store.database import Store
from syncer.store.tables import RunRow
from syncer.store.transaction import transaction

# A run's status: running, then ok, partial (some writes rejected), failed (with the error),
# interrupted (Ctrl-C, SIGTERM), or abandoned (its process died without recording an end).
ABANDONED_ERROR = (
    "the process running this cycle stopped without recording its end (killed, or its host went down)"
)


@dataclass(frozen=True, slots=True)
class RunCounts:
    status: str  # ok, partial (some writes rejected), failed, interrupted, abandoned
    pulled: int = 0
    rejected: int = 0
    written: int = 0
    write_errors: int = 0
    api_calls: int = 0
    retries: int = 0
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RunInfo:
    id: int
    started_at: datetime
    finished_at: datetime | None
    status: str
    sources: str
    counts: RunCounts


def start(session: Session, sources: Sequence[str], *, now: datetime) -> int:
    row = RunRow(started_at=now, status="running", sources=",".join(sources), details={})
    session.add(row)
    session.flush()
    return row.id


def close_abandoned(session: Session, *, now: datetime) -> list[int]:
    """Close every run still `running` as `abandoned`; the ids closed.

    Only for a caller that holds the cycle lease, or has seen that nobody holds it live: then no
    running run has a live process behind it.
    """
    ids = list(session.scalars(select(RunRow.id).where(RunRow.status == "running")))
    if ids:
        session.execute(
            update(RunRow)
            .where(RunRow.id.in_(ids))
            .values(status="abandoned", finished_at=now, error=ABANDONED_ERROR)
            .execution_options(synchronize_session=False)
        )
    return ids


def close_abandoned_runs(store: Store, *, now: datetime) -> list[int]:
    """At a worker's start: close the runs left `running` when no live process holds the cycle lease."""

    def work(session: Session) -> list[int]:  # run twice, the second attempt finds nothing left
        if lease.live_holder(session, lease.CYCLE_LEASE, now=now) is not None:
            return []  # a cycle is running elsewhere; the next cycle start closes any older leftovers
        return close_abandoned(session, now=now)

    return transaction(store, work)


def finish(session: Session, run_id: int, counts: RunCounts, *, now: datetime) -> None:
    row = session.get(RunRow, run_id)
    if row is None:
        raise LookupError(f"run {run_id} is not in the store")
    row.finished_at = now
    row.status = counts.status
    row.pulled, row.rejected, row.written = counts.pulled, counts.rejected, counts.written
    row.write_errors, row.api_calls, row.retries = counts.write_errors, counts.api_calls, counts.retries
    row.error, row.details = counts.error, counts.details


def recent(session: Session, limit: int = 20) -> list[RunInfo]:
    rows = session.scalars(select(RunRow).order_by(RunRow.id.desc()).limit(limit))
    return [
        RunInfo(
            id=r.id,
            started_at=r.started_at,
            finished_at=r.finished_at,
            status=r.status,
            sources=r.sources,
            counts=RunCounts(
                status=r.status,
                pulled=r.pulled,
                rejected=r.rejected,
                written=r.written,
                write_errors=r.write_errors,
                api_calls=r.api_calls,
                retries=r.retries,
                error=r.error,
                details=r.details,
            ),
        )
        for r in rows
    ]
