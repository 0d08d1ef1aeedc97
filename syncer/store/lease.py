"""The cycle lease: at most one worker runs a cycle against a store at a time.

A lease is a row (`name`, `held_by`, `held_until`) taken by a conditional INSERT/UPDATE that
succeeds only when the row is free, expired, or already ours; it is renewed while the cycle
runs and released at its end. A holder that crashed stops renewing, so its lease expires after
`ttl`; a holder on this host whose process is gone is taken over at once. Gone means no such
process, a zombie, or a PID that now names another process (the holder id records the holder's
start time, which a reused PID does not share). Holders on other hosts are waited out.

On PostgreSQL the row is first read `FOR UPDATE SKIP LOCKED`: a worker that finds another one
in the middle of taking the lease gives up at once instead of queueing behind its transaction.
Advisory locks were the other choice, but they belong to a connection (or end with the
transaction) while a lease must outlive the many transactions of a cycle, through a pool.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from syncer.errors import LeaseHeldError, StoreError
from syncer.store.database import Store
from syncer.store.tables import LeaseRow
from syncer.store.transaction import once, transaction

log = logging.getLogger(__name__)

CYCLE_LEASE = "cycle"
LEASE_TTL = timedelta(seconds=60)  # renewed every third of it, so two missed renewals still hold


def new_holder() -> str:
    """A holder id unique to this call: host, process id and start time (for crash takeover), a nonce."""
    pid = os.getpid()
    started = process_start_ticks(pid)
    return f"{socket.gethostname()}:{pid}:{'' if started is None else started}:{uuid.uuid4().hex[:8]}"


def process_start_ticks(pid: int) -> int | None:
    """When process `pid` started, in clock ticks since boot (/proc/<pid>/stat field 22); None
    where there is no /proc or no such process."""
    stat = _proc_stat(pid)
    return None if stat is None else int(stat[19])


def _proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (field 3, the state, first)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may itself hold spaces or parentheses.
    return text[text.rindex(")") + 2 :].split()


def is_orphaned(holder: str) -> bool:
    """True when `holder` names a process on this host that is gone: it no longer exists, it is a
    zombie (exited, not yet reaped), or its PID now belongs to a process started at another
    time (a restarted container reuses PIDs). A holder on another host is never judged here:
    its lease is waited out until it expires."""
    parts = holder.split(":")
    if len(parts) < 3 or parts[0] != socket.gethostname() or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    recorded = parts[2] if len(parts) >= 4 else ""  # host:pid:start:nonce; older ids lack start
    if not _exists(pid):
        return True
    stat = _proc_stat(pid)
    if stat is None:  # no /proc (not Linux), or it exited just now: judged by existence alone
        return False
    return stat[0] == "Z" or (recorded.isdigit() and int(recorded) != int(stat[19]))


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


def try_acquire(
    session: Session, name: str, holder: str, *, now: datetime, ttl: timedelta = LEASE_TTL
) -> bool:
    """Take or extend the lease in the caller's transaction; False when another live holder has it."""
    until = now + ttl
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    created = session.execute(
        insert(LeaseRow)
        .values(name=name, held_by=holder, held_until=until)
        .on_conflict_do_nothing(index_elements=["name"])
        .returning(LeaseRow.name)
    ).first()
    if created is not None:
        return True
    current = select(LeaseRow.held_by).where(LeaseRow.name == name)
    if session.get_bind().dialect.name == "postgresql":
        current = current.with_for_update(skip_locked=True)
    held_by = session.scalar(current)
    if held_by is None:  # PostgreSQL: another worker is taking it right now
        return False
    takeable = [LeaseRow.held_until <= now, LeaseRow.held_by == holder]
    if is_orphaned(held_by):
        takeable.append(LeaseRow.held_by == held_by)
    taken = session.execute(
        update(LeaseRow)
        .where(LeaseRow.name == name, or_(*takeable))
        .values(held_by=holder, held_until=until)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], taken).rowcount == 1


def renew(session: Session, name: str, holder: str, *, now: datetime, ttl: timedelta = LEASE_TTL) -> bool:
    """Push our lease's expiry forward; False when it is no longer ours."""
    renewed = session.execute(
        update(LeaseRow)
        .where(LeaseRow.name == name, LeaseRow.held_by == holder)
        .values(held_until=now + ttl)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], renewed).rowcount == 1


def release(session: Session, name: str, holder: str) -> None:
    """Give the lease back (only if it is still ours)."""
    session.execute(
        delete(LeaseRow)
        .where(LeaseRow.name == name, LeaseRow.held_by == holder)
        .execution_options(synchronize_session=False)
    )


def live_holder(session: Session, name: str, *, now: datetime) -> str | None:
    """Who holds lease `name` now: None when nobody does, or the lease expired or its holder is gone."""
    current = holder_of(session, name)
    if current is None or current[1] <= now or is_orphaned(current[0]):
        return None
    return current[0]


def holder_of(session: Session, name: str) -> tuple[str, datetime] | None:
    row = session.get(LeaseRow, name)
    return None if row is None else (row.held_by, row.held_until)


@contextmanager
def hold(
    store: Store,
    *,
    clock: Callable[[], datetime],
    name: str = CYCLE_LEASE,
    ttl: timedelta = LEASE_TTL,
) -> Iterator[str]:
    """Hold the lease for the block, renewing it in the background; raises LeaseHeldError."""
    holder = new_holder()
    transaction(store, lambda session: _acquire(session, name, holder, now=clock(), ttl=ttl))
    stop = threading.Event()
    renewer = threading.Thread(
        target=_keep_renewed, args=(store, name, holder, clock, ttl, stop), name="lease-renewer", daemon=True
    )
    renewer.start()
    failing = True
    try:
        yield holder
        failing = False
    finally:
        stop.set()
        renewer.join()
        try:
            transaction(store, lambda session: release(session, name, holder))
        except StoreError as exc:
            if not failing:
                raise
            # The block's own error (often the same store fault) is the one to report; the
            # lease expires by itself at its TTL.
            log.error("lease not released", extra={"lease": name, "error": type(exc).__name__})


def _acquire(session: Session, name: str, holder: str, *, now: datetime, ttl: timedelta) -> None:
    """Take the lease or raise LeaseHeldError; taking it twice (a retried transaction) is taking it once."""
    if not try_acquire(session, name, holder, now=now, ttl=ttl):
        current = holder_of(session, name)
        who = f"{current[0]} until {current[1]:%Y-%m-%d %H:%M:%S} UTC" if current else "another worker"
        raise LeaseHeldError(f"another worker is running a cycle on this store ({who})")


def _keep_renewed(
    store: Store,
    name: str,
    holder: str,
    clock: Callable[[], datetime],
    ttl: timedelta,
    stop: threading.Event,
) -> None:
    while not stop.wait(ttl.total_seconds() / 3):
        try:  # not retried here: the next renewal, a third of the lease later, is the retry
            kept = once(store, lambda session: renew(session, name, holder, now=clock(), ttl=ttl))
        except StoreError as exc:  # a failed renewal must not kill the thread: the next one may work
            log.warning("lease renewal failed", extra={"lease": name, "error": type(exc).__name__})
            continue
        if not kept:
            log.error("lease lost", extra={"lease": name, "holder": holder})
            return
