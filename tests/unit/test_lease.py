"""The cycle lease: one holder at a time, expiry, crash takeover, and two real processes."""

from __future__ import annotations

import multiprocessing
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syncer.errors import LeaseHeldError
from syncer.store import lease
from syncer.store.database import Store, open_store

pytestmark = pytest.mark.store
T0 = datetime(2026, 10, 5, 12, 0, tzinfo=UTC)


def acquire(store: Store, holder: str, now: datetime, ttl: timedelta = lease.LEASE_TTL) -> bool:
    with store.sessions.begin() as session:
        return lease.try_acquire(session, "cycle", holder, now=now, ttl=ttl)


def test_second_holder_is_refused_until_the_first_releases(store: Store) -> None:
    assert acquire(store, "a", T0)
    assert not acquire(store, "b", T0 + timedelta(seconds=5))
    assert acquire(store, "a", T0 + timedelta(seconds=5))  # our own lease: extended
    with store.sessions.begin() as session:
        lease.release(session, "cycle", "a")
    assert acquire(store, "b", T0 + timedelta(seconds=6))


def test_lease_of_a_crashed_holder_expires(store: Store) -> None:
    assert acquire(store, "remote-host:1:x", T0, ttl=timedelta(seconds=60))
    assert not acquire(store, "b", T0 + timedelta(seconds=59))
    assert acquire(store, "b", T0 + timedelta(seconds=60))


def test_renew_keeps_it_and_fails_once_taken_over(store: Store) -> None:
    assert acquire(store, "a", T0, ttl=timedelta(seconds=60))
    with store.sessions.begin() as session:
        assert lease.renew(session, "cycle", "a", now=T0 + timedelta(seconds=50), ttl=timedelta(seconds=60))
    assert not acquire(store, "b", T0 + timedelta(seconds=100))  # renewed until T0+110
    assert acquire(store, "b", T0 + timedelta(seconds=111))
    with store.sessions.begin() as session:
        assert not lease.renew(session, "cycle", "a", now=T0 + timedelta(seconds=112))


def test_release_by_another_holder_changes_nothing(store: Store) -> None:
    assert acquire(store, "a", T0)
    with store.sessions.begin() as session:
        lease.release(session, "cycle", "b")
    assert not acquire(store, "b", T0)


def test_a_dead_process_on_this_host_is_taken_over_at_once(store: Store) -> None:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_holder = lease.new_holder().split(":")[0] + f":{int(gone.stdout)}:dead"
    assert lease.is_orphaned(dead_holder)
    assert not lease.is_orphaned(lease.new_holder())  # this process
    assert acquire(store, dead_holder, T0)
    assert acquire(store, "b", T0 + timedelta(seconds=1))


def _holder(pid: int, start: int | str) -> str:
    """A holder id as `new_holder` makes them: this host, `pid`, its start time, a nonce."""
    return f"{socket.gethostname()}:{pid}:{start}:0123abcd"


def _stat_fields(pid: int) -> list[str]:
    """/proc/<pid>/stat read here, independently: fields 3.. (state first, start time at [19])."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_a_zombie_holder_is_taken_over_at_once(store: Store) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])  # exits; not reaped until wait()
    try:
        deadline = time.monotonic() + 30
        while _stat_fields(child.pid)[0] != "Z" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _stat_fields(child.pid)[0] == "Z"
        zombie = _holder(child.pid, _stat_fields(child.pid)[19])
        assert lease.is_orphaned(zombie)
        assert acquire(store, zombie, T0)
        assert acquire(store, "b", T0 + timedelta(seconds=1))  # long before the 60 s expiry
    finally:
        child.wait()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_a_reused_pid_with_another_start_time_is_taken_over_at_once(store: Store) -> None:
    real_start = int(_stat_fields(os.getpid())[19])
    reused = _holder(os.getpid(), real_start + 12345)  # our PID, but an earlier process's start time
    assert lease.is_orphaned(reused)
    assert acquire(store, reused, T0)
    assert acquire(store, "b", T0 + timedelta(seconds=1))


def test_a_live_holder_still_blocks(store: Store) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        start = _stat_fields(sleeper.pid)[19] if Path("/proc/self/stat").exists() else ""
        live = _holder(sleeper.pid, start)
        assert not lease.is_orphaned(live)
        assert not lease.is_orphaned(lease.new_holder())  # this very process, as new_holder names it
        assert acquire(store, live, T0)
        assert not acquire(store, "b", T0 + timedelta(seconds=1))
        with store.sessions() as session:
            assert lease.live_holder(session, "cycle", now=T0 + timedelta(seconds=1)) == live
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_dead_holder_on_another_host_waits_for_expiry(store: Store) -> None:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    remote = f"another-host-{socket.gethostname()}:{int(gone.stdout)}:1:0123abcd"
    assert not lease.is_orphaned(remote)
    assert acquire(store, remote, T0, ttl=timedelta(seconds=60))
    assert not acquire(store, "b", T0 + timedelta(seconds=59))
    with store.sessions() as session:
        assert lease.live_holder(session, "cycle", now=T0 + timedelta(seconds=59)) == remote
        assert lease.live_holder(session, "cycle", now=T0 + timedelta(seconds=60)) is None
    assert acquire(store, "b", T0 + timedelta(seconds=60))


def test_hold_raises_lease_held_with_the_holder_and_releases_after(store: Store) -> None:
    clock = lambda: T0  # noqa: E731
    with (
        lease.hold(store, clock=clock) as holder,
        pytest.raises(LeaseHeldError, match=holder),
        lease.hold(store, clock=clock),
    ):
        pass
    with lease.hold(store, clock=clock):
        pass


def _hold_in_child(url: str, ready: object, go: object) -> None:
    store = open_store(url)
    with lease.hold(store, clock=lambda: datetime.now(UTC)):
        ready.set()  # type: ignore[attr-defined]
        go.wait(30)  # type: ignore[attr-defined]
    store.close()


def test_a_lease_held_by_another_process_refuses_this_one(store: Store, store_url: str) -> None:
    context = multiprocessing.get_context("spawn")
    ready, go = context.Event(), context.Event()
    child = context.Process(target=_hold_in_child, args=(store_url, ready, go))
    child.start()
    try:
        assert ready.wait(60)
        with pytest.raises(LeaseHeldError), lease.hold(store, clock=lambda: datetime.now(UTC)):
            pass
    finally:
        go.set()
        child.join(60)
    assert child.exitcode == 0
    with lease.hold(store, clock=lambda: datetime.now(UTC)):
        pass
