"""Honest run records: every way a cycle can end is recorded as what happened, never as `ok`.

One test per crash kind (a fault injected into a fake CRM or the store), interrupts, abandoned
runs, and a store that cannot record the failure itself.
"""

from __future__ import annotations

import decimal
import signal
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from syncer import cycle as cycle_module
from syncer.cli import main
from syncer.config import load_settings
from syncer.config.models import Settings
from syncer.contract import Connector, Cursor, Page, WriteItem, WriteResult
from syncer.cycle import CycleOptions, CycleResult, run_cycle
from syncer.errors import StoreError
from syncer.interruption import Interrupted, StopRequest
from syncer.records import StreamName
from syncer.store import cursors, lease, runs, stream_status, upserts
from syncer.store.database import Store
from syncer.store.runs import RunInfo, recent
from tests.fakes import T0, FakeConnector, deal, owner

pytestmark = pytest.mark.store
ENV = {"SF_TOKEN": "tok-abcdef"}
CONFIG = """\
version: 1
store: {store}
timezone: UTC
sources:
  sfdc:
    kind: salesforce
    instance_url: https://example.my.salesforce.com
    auth: {{method: access_token, access_token: "${{SF_TOKEN}}"}}
    streams:
      deals: {{object: Opportunity}}
objectives:
  - key: q
    period: {{start: 2026-10-01, end: 2026-12-31}}
    key_results:
      - key: won
        metric: {{kind: count, stream: deals, where: {{is_won: true}}, date: close_date}}
        target: 10
writeback:
  - source: sfdc
    object: OKR_Key_Result__c
    upsert_on: OKR_Key__c
    fields: {{Value__c: "*.value"}}
"""
CLOCK_START = T0 + timedelta(days=1)


@pytest.fixture
def config(tmp_path: Path, store_url: str) -> Path:
    path = tmp_path / "okr.yaml"
    path.write_text(CONFIG.format(store=store_url))
    return path


@pytest.fixture
def settings(config: Path) -> Settings:
    return load_settings(config, ENV)


def crm(**overrides: object) -> FakeConnector:
    deals = [deal(f"d{i}", minutes=i, source="sfdc") for i in range(5)]
    return FakeConnector(source="sfdc", records={"deals": deals}, owners=[owner("u1", "a@x.io")], **overrides)  # type: ignore[arg-type]


def cycle(
    settings: Settings,
    store: Store,
    opened: Callable[[str], Connector],
    options: CycleOptions | None = None,
) -> CycleResult:
    return run_cycle(settings, store, opened, clock=lambda: CLOCK_START, options=options or CycleOptions())


def last_run(store: Store) -> RunInfo:
    with store.sessions() as session:
        return recent(session, limit=1)[0]


class PullFails(FakeConnector):
    def pull(self, stream: StreamName, *, since: Cursor | None, until: datetime) -> Iterator[Page]:
        raise RuntimeError("the mapping met a value it did not expect")


class WriteFails(FakeConnector):
    def write(self, items: Sequence[WriteItem]) -> list[WriteResult]:
        raise ValueError("a value the client cannot serialise")


def test_the_baseline_cycle_is_ok(settings: Settings, store: Store) -> None:
    report = cycle(settings, store, lambda name: crm())  # type: ignore[arg-type, return-value]
    assert (report.status, report.exit_code) == ("ok", 0)
    assert last_run(store).status == "ok"


def test_an_exception_in_pull_fails_the_run_with_the_error(settings: Settings, store: Store) -> None:
    failing = PullFails(source="sfdc", owners=[owner("u1", "a@x.io")])
    report = cycle(settings, store, lambda name: failing)  # type: ignore[arg-type, return-value]
    run = last_run(store)
    assert (report.exit_code, run.status) == (1, "failed")
    assert run.counts.error == "pull failed: RuntimeError: the mapping met a value it did not expect"
    with store.sessions() as session:
        state = stream_status.load_states(session)[("sfdc", "deals")]
    assert (state.completed_at, state.error) == (
        None,
        "RuntimeError: the mapping met a value it did not expect",
    )
    assert not report.pushes  # nothing written after a failed pull


def test_an_exception_in_rollup_fails_the_run_with_the_error(
    settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def invalid(*args: object, **kwargs: object) -> None:
        raise decimal.InvalidOperation([decimal.InvalidOperation])

    monkeypatch.setattr(cycle_module, "compute_key_results", invalid)
    fake = crm()
    report = cycle(settings, store, lambda name: fake)  # type: ignore[arg-type, return-value]
    run = last_run(store)
    assert (report.exit_code, run.status) == (1, "failed")
    assert run.counts.error is not None
    assert run.counts.error.startswith("rollup failed: InvalidOperation")
    assert run.counts.pulled == 5  # what the pull did is still counted
    assert fake.writes == []


def test_an_exception_in_push_fails_the_run_with_the_error(settings: Settings, store: Store) -> None:
    failing = WriteFails(
        source="sfdc", records={"deals": [deal("d1", source="sfdc")]}, owners=[owner("u1", "a@x.io")]
    )
    report = cycle(settings, store, lambda name: failing)  # type: ignore[arg-type, return-value]
    run = last_run(store)
    assert (report.exit_code, run.status) == (1, "failed")
    assert run.counts.error == "push failed: ValueError: a value the client cannot serialise"


def test_an_exception_opening_a_connector_fails_the_run_with_the_error(
    settings: Settings, store: Store
) -> None:
    def missing_ca_bundle(name: str) -> Connector:
        raise FileNotFoundError(2, "No such file or directory", "/etc/ssl/private-ca.pem")

    report = cycle(settings, store, missing_ca_bundle)
    run = last_run(store)
    assert (report.exit_code, run.status) == (1, "failed")
    assert run.counts.error is not None
    assert run.counts.error.startswith("opening connectors failed: FileNotFoundError:")
    assert "/etc/ssl/private-ca.pem" in run.counts.error


def test_a_store_error_mid_pull_fails_the_run_with_the_error(
    settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(*args: object, **kwargs: object) -> int:
        raise OperationalError("INSERT INTO deals …", {}, Exception("database or disk is full"))

    monkeypatch.setattr(upserts, "upsert_records", disk_full)
    report = cycle(settings, store, lambda name: crm())  # type: ignore[arg-type, return-value]
    run = last_run(store)
    assert (report.exit_code, run.status) == (1, "failed")
    assert run.counts.error is not None
    # The driver error left the store as a StoreError (syncer.store.faults): its advice, then the driver's text.
    assert run.counts.error.startswith("pull failed: the store's disk is full: free space")
    assert "database or disk is full" in run.counts.error


def test_a_store_that_cannot_record_the_failure_raises_one_line(
    settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def store_down(*args: object, **kwargs: object) -> None:
        raise OperationalError("UPDATE runs …", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr(runs, "finish", store_down)
    with pytest.raises(StoreError) as raised:
        cycle(settings, store, lambda name: PullFails(source="sfdc"))  # type: ignore[arg-type, return-value]
    message = str(raised.value)
    assert "\n" not in message
    assert "could not be recorded as failed" in message
    assert "server closed the connection unexpectedly" in message
    assert "RuntimeError: the mapping met a value it did not expect" in message  # the first error too


def test_run_prints_one_line_and_exits_1_when_the_store_fails_before_the_run_starts(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def store_down(*args: object, **kwargs: object) -> None:
        raise OperationalError("INSERT INTO runs …", {}, Exception("disk I/O error\nmore detail"))

    monkeypatch.setenv("SF_TOKEN", ENV["SF_TOKEN"])
    monkeypatch.setattr("syncer.commands.cycles.run_cycle", store_down)
    assert main(["run", "-c", str(config)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["okrsync: cycle failed: OperationalError: (builtins.Exception) disk I/O error"]


def test_ctrl_c_marks_the_run_interrupted_and_goes_on_up(settings: Settings, store: Store) -> None:
    class CtrlC(FakeConnector):
        def pull(self, stream: StreamName, *, since: Cursor | None, until: datetime) -> Iterator[Page]:
            yield from []
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cycle(settings, store, lambda name: CtrlC(source="sfdc"))  # type: ignore[arg-type, return-value]
    run = last_run(store)
    assert (run.status, run.counts.error) == ("interrupted", None)
    assert run.finished_at is not None


def test_sigterm_lets_the_page_in_flight_commit_then_marks_the_run_interrupted(
    settings: Settings, store: Store
) -> None:
    stop = StopRequest()
    fake = crm(page_size=2)

    class StopAfterFirstPage(FakeConnector):
        def pull(self, stream: StreamName, *, since: Cursor | None, until: datetime) -> Iterator[Page]:
            for page in fake.pull(stream, since=since, until=until):
                stop.request(signal.SIGTERM)  # arrives while this page is being stored
                yield page

    terminating = StopAfterFirstPage(source="sfdc", owners=fake.owners)
    with pytest.raises(Interrupted) as raised:
        cycle(settings, store, lambda name: terminating, CycleOptions(stop=stop))  # type: ignore[arg-type, return-value]
    assert raised.value.exit_code == 143
    assert last_run(store).status == "interrupted"
    with store.sessions() as session:
        assert upserts.count_rows(session, "deals") == 2  # the page in flight committed…
        assert cursors.load(session, "sfdc", "deals") == Cursor(fake.records["deals"][1].modified_at, "d1")
        state = stream_status.load_states(session)[("sfdc", "deals")]
    assert state.error == "interrupted (stopped by SIGTERM)"  # …but the stream did not complete


def test_a_run_left_running_is_abandoned_at_the_next_cycle(settings: Settings, store: Store) -> None:
    with store.sessions.begin() as session:
        killed = runs.start(session, ["sfdc"], now=T0)
    cycle(settings, store, lambda name: crm())  # type: ignore[arg-type, return-value]
    with store.sessions() as session:
        statuses = {r.id: (r.status, r.counts.error) for r in recent(session)}
    assert statuses[killed] == ("abandoned", runs.ABANDONED_ERROR)
    assert [status for _, (status, _) in sorted(statuses.items())] == ["abandoned", "ok"]


def test_serve_start_closes_runs_only_when_no_live_holder_has_the_lease(store: Store) -> None:
    now = datetime.now(UTC)
    with store.sessions.begin() as session:
        running = runs.start(session, ["sfdc"], now=now)
        assert lease.try_acquire(session, lease.CYCLE_LEASE, lease.new_holder(), now=now)  # we are alive
    assert runs.close_abandoned_runs(store, now=now) == []  # a live cycle: its run is not touched
    assert runs.close_abandoned_runs(store, now=now + 2 * lease.LEASE_TTL) == [running]  # expired
    assert last_run(store).status == "abandoned"
