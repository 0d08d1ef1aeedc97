"""`okrsync fleet`: three sandbox orgs on two Celery worker processes, one SIGKILLed mid-cycle.

Runs against the machine's RabbitMQ (else its Redis) on 127.0.0.1, on a queue of its own. The
killed worker's task is redelivered to the other worker, which takes the dead holder's lease over
and resumes the org from its store's cursors; every org's written values are then checked
against values computed from its sandbox's raw records (`expected_per_rep`).
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.fleet_orgs import (
    FleetUnderTest,
    WorkerProcess,
    delete_queue,
    lease_pid,
    overlapping_runs,
    reachable_broker,
    runs_of,
    sandbox_orgs,
    send_cycles,
    start_worker,
    unique_queue,
    wait_for,
)
from tests.integration.test_salesforce_cycle import expected_per_rep, written_user_fields

pytestmark = pytest.mark.integration
SECONDS = 60
RETRY_AFTER = 30  # the killed worker sleeps this long on a 503: it is surely mid-cycle when killed


@pytest.fixture
def broker() -> Iterator[tuple[str, str]]:
    url, kind = reachable_broker()
    if url is None:
        pytest.skip(f"the fleet test needs RabbitMQ or Redis on 127.0.0.1: {kind}")
    queue = unique_queue()
    yield url, queue
    delete_queue(url, queue)


@pytest.fixture
def fleet(tmp_path: Path, broker: tuple[str, str]) -> Iterator[FleetUnderTest]:
    url, queue = broker
    with sandbox_orgs(tmp_path, 3, broker=url, queue=queue) as started:
        yield started


@pytest.fixture
def workers(fleet: FleetUnderTest, tmp_path: Path) -> Iterator[list[WorkerProcess]]:
    started = [start_worker(fleet, tmp_path / f"worker{i}.log") for i in range(2)]
    try:
        wait_for(lambda: all(w.healthy() for w in started), "both workers to consume", seconds=SECONDS)
        yield started
    finally:
        for worker in started:
            worker.stop()


def test_a_worker_killed_mid_cycle_leaves_every_org_exact(
    fleet: FleetUnderTest, workers: list[WorkerProcess]
) -> None:
    expected = {org.name: expected_per_rep(org.sandbox) for org in fleet.orgs}
    values = [sorted(v.items()) for v in expected.values()]
    assert all(values.count(v) == 1 for v in values)  # distinct orgs: a mix-up could not pass
    victim = fleet.org("org01")
    # The third page of a query answers 503 Retry-After: the worker running org01 waits mid-pull,
    # its first two pages committed.
    victim.sandbox.fail_next(1, status=503, path_contains="-400", retry_after=RETRY_AFTER)

    send_cycles(fleet)
    wait_for(
        lambda: any(r.status == 503 for r in victim.sandbox.requests), "org01 mid-cycle", seconds=SECONDS
    )
    holder = wait_for(lambda: lease_pid(victim.store), "org01's lease holder", seconds=SECONDS)
    [killed] = [w for w in workers if w.pid == holder]
    [survivor] = [w for w in workers if w is not killed]
    assert [status for _, status, _, _ in runs_of(victim.store)] == ["running"]
    killed.process.send_signal(signal.SIGKILL)
    killed.process.wait(timeout=10)

    def all_done() -> bool:
        return all(any(run[1] == "ok" for run in runs_of(org.store)) for org in fleet.orgs)

    try:
        wait_for(all_done, "every org's cycle (org01's redelivered)", seconds=SECONDS)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nsurviving worker's log:\n{survivor.tail()}") from None

    for org in fleet.orgs:
        assert written_user_fields(org.sandbox) == expected[org.name], org.name
        runs = runs_of(org.store)
        assert overlapping_runs(runs) == [], org.name
    # org01: the killed run, closed as abandoned by its rerun on the surviving worker
    assert [status for _, status, _, _ in runs_of(victim.store)] == ["abandoned", "ok"]
    assert 'okrsync_cycles_total{org="org01",status="ok"} 1.0' in survivor.metrics()
