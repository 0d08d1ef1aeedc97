"""A PostgreSQL backend terminated mid-cycle: the transaction runs again, the numbers do not change.

A statement hook on the cycle's own engine, at a chosen statement (a pulled page's upsert after
the first page committed, the rollup's snapshot, the write-back ledger, the run's end), first
terminates every backend of the test database from a separate admin connection
(`pg_terminate_backend`, found through `pg_stat_activity`), so that statement meets a dead
connection. The values written to the Salesforce sandbox are compared with the ones computed
from its raw records in test_salesforce_cycle (plain Python, no okrsync code).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from sandbox.demo import DemoOrg, start_demo_org
from syncer.cli import main
from syncer.commands.crm import connector_factory
from syncer.cycle import run_cycle
from syncer.store import database, runs
from syncer.store.database import Store, open_store
from syncer.store.lease import LEASE_TTL
from tests.integration.test_salesforce_cycle import (
    demo_settings,
    ensure_demo_fields,
    expected_per_rep,
    written_user_fields,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def pg_url(store_url: str) -> str:
    if not store_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: set OKRSYNC_TEST_PG_SERVER")
    return store_url


@pytest.fixture
def demo() -> Iterator[DemoOrg]:
    import time

    with start_demo_org() as started:
        ensure_demo_fields(started.env)
        time.sleep(1.05 - datetime.now(UTC).microsecond / 1e6)  # see test_salesforce_cycle.sandbox
        yield started


class Killer:
    """Terminates the test database's backends right before the `times` first statements starting
    with `prefix` (from an admin connection to the server's maintenance database)."""

    def __init__(self, url: str, prefix: str, times: int = 1) -> None:
        self.database = make_url(url).database
        self.admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
        self.prefix, self.left, self.killed = prefix, times, 0

    def attach(self, engine: Engine) -> None:
        event.listen(engine, "before_cursor_execute", self._before)

    def _before(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if self.left and statement.lstrip().upper().startswith(self.prefix):
            self.left -= 1
            self.killed += self.terminate()

    def terminate(self) -> int:
        with self.admin.connect() as admin:
            pids = admin.execute(
                text(
                    "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                    "WHERE datname = :db AND pid <> pg_backend_pid()"
                ),
                {"db": self.database},
            ).all()
        return len(pids)

    def close(self) -> None:
        self.admin.dispose()


def _cycle(store: Store, settings: Any) -> Any:
    return run_cycle(settings, store, connector_factory(settings), clock=lambda: datetime.now(UTC))


def _last_run(store: Store) -> runs.RunInfo:
    with store.sessions() as session:
        return runs.recent(session, 1)[0]


@pytest.mark.parametrize(
    "prefix",
    [
        "INSERT INTO CALLS",  # a page of the second stream: the deals' pages are committed
        "INSERT INTO KR_SNAPSHOTS",  # the rollup's transaction
        "INSERT INTO WRITE_LEDGER",  # filing a write-back batch
        "UPDATE RUNS",  # recording the run's end
    ],
)
def test_a_terminated_backend_mid_cycle_is_retried_and_changes_no_value(
    demo: DemoOrg, pg_url: str, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = demo_settings(demo.env, pg_url)
    store = open_store(pg_url)
    killer = Killer(pg_url, prefix)
    killer.attach(store.engine)
    try:
        with caplog.at_level(logging.WARNING, logger="syncer.retry"):
            report = _cycle(store, settings)
        run = _last_run(store)
    finally:
        store.close()
        killer.close()

    assert killer.killed >= 1  # the cycle's connection (and any other of its pool) was terminated
    assert [r.getMessage() for r in caplog.records].count("retrying store transaction") == 1
    assert report.exit_code == 0, report.errors
    assert (run.status, run.counts.error) == ("ok", None)
    expected = expected_per_rep(demo.salesforce)
    assert sum(rep["revenue"] for rep in expected.values()) > 0
    assert written_user_fields(demo.salesforce) == expected


def test_a_connection_lost_on_every_attempt_fails_the_run_and_records_it(demo: DemoOrg, pg_url: str) -> None:
    settings = demo_settings(demo.env, pg_url)
    store = open_store(pg_url)
    killer = Killer(pg_url, "INSERT INTO CALLS", times=4)  # every attempt of the page's transaction
    killer.attach(store.engine)
    try:
        report = _cycle(store, settings)
        run = _last_run(store)
    finally:
        store.close()
        killer.close()

    assert killer.left == 0
    assert report.exit_code == 1
    assert run.status == "failed"
    assert run.counts.error is not None
    assert run.counts.error.startswith("pull failed: the connection to the store ")
    assert "was lost" in run.counts.error
    assert "\n" not in run.counts.error


def test_a_store_that_stays_down_is_one_line_and_the_run_is_closed_later(
    demo: DemoOrg,
    pg_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    database_name = make_url(pg_url).database
    killer = Killer(pg_url, "INSERT INTO CALLS")
    original: Callable[[str], Engine] = database.create_store_engine

    def down_after_terminating() -> int:  # the server refuses new connections to the database
        with killer.admin.connect() as admin:
            admin.execute(text(f'ALTER DATABASE "{database_name}" ALLOW_CONNECTIONS false'))
        return Killer.terminate(killer)

    killer.terminate = down_after_terminating  # type: ignore[method-assign]

    def engine_with_killer(url: str) -> Engine:
        engine = original(url)
        killer.attach(engine)
        return engine

    monkeypatch.setattr(database, "create_store_engine", engine_with_killer)
    config = tmp_path / "demo.yaml"
    demo_yaml = (Path(__file__).resolve().parents[2] / "config" / "demo.yaml").read_text()
    config.write_text(demo_yaml.replace("store: sqlite:///okrsync-demo.db", f"store: {pg_url}", 1))
    for name, value in demo.env.items():
        monkeypatch.setenv(name, value)
    try:
        code = main(["run", "-c", str(config)])
    finally:
        with killer.admin.connect() as admin:
            admin.execute(text(f'ALTER DATABASE "{database_name}" ALLOW_CONNECTIONS true'))
        killer.close()

    assert code == 1
    stderr = capsys.readouterr().err
    assert "Traceback" not in stderr
    err = [line for line in stderr.splitlines() if line.strip() and not line.startswith("{")]  # not a log
    assert len(err) == 1, err
    assert "Traceback" not in err[0]
    assert err[0].startswith("okrsync: ")
    assert "could not be recorded" in err[0]  # the store was down for the run's end too
    assert "not currently accepting connections" in err[0] or "was lost" in err[0]
    monkeypatch.undo()
    store = open_store(pg_url)
    try:  # the store is back: once the unreleased lease expires, the run left running is closed
        assert _last_run(store).status == "running"
        assert runs.close_abandoned_runs(store, now=datetime.now(UTC)) == []  # the lease is live
        later = datetime.now(UTC) + LEASE_TTL + timedelta(seconds=1)
        assert runs.close_abandoned_runs(store, now=later) == [_last_run(store).id]
        assert _last_run(store).status == "abandoned"
    finally:
        store.close()
