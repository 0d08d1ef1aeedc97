"""/healthz and /metrics over real HTTP on 127.0.0.1, with an injected clock."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from syncer.cycle import CycleResult
from syncer.pull import SourceResult, StreamResult
from syncer.serve.telemetry import Telemetry
from syncer.serve.web import Pages, open_web_server
from syncer.values import KeyResultValue, Period
from syncer.writeback import PushResult

T0 = datetime(2026, 10, 5, 12, 0, tzinfo=UTC)
STALE_AFTER = timedelta(hours=1)


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Worker:
    """What the server reads: telemetry, a clock and whether the scheduler runs."""

    clock: Clock = field(default_factory=Clock)
    alive: bool = True
    telemetry: Telemetry = field(default_factory=lambda: Telemetry(["sfdc"], started_at=T0))

    def pages(self) -> Pages:
        return Pages(
            health=lambda: self.telemetry.health(
                now=self.clock(), stale_after=STALE_AFTER, scheduler_alive=lambda: self.alive
            ),
            metrics=self.telemetry.exposition,
            status=lambda: "<h1>status</h1>",
        )


@pytest.fixture
def served() -> Iterator[tuple[Worker, int]]:
    worker = Worker()
    server = open_web_server("127.0.0.1", 0, worker.pages())
    yield worker, int(server.server_address[1])
    server.shutdown()
    server.server_close()


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def kr_value(group_kind: str = "total", group_key: str = "") -> KeyResultValue:
    return KeyResultValue(
        objective="q-revenue",
        key_result="revenue",
        group_kind=group_kind,
        group_key=group_key,
        period=Period(T0.date().replace(month=10, day=1), T0.date().replace(month=12, day=31)),
        value=Decimal("412000"),
        baseline=Decimal("500000"),
        target=Decimal("575000"),
        direction="increase",
        progress=0.72,
        score=0.72,
        expected=0.1,
        status="on_track",
        projected=Decimal("600000"),
        updated_at=T0,
    )


def ok_report(started_at: datetime) -> CycleResult:
    report = CycleResult(run_id=7, started_at=started_at, api_calls=12, retries=1)
    report.pulls.append(SourceResult("sfdc", streams=[StreamResult("deals", received=5, changed=3)]))
    report.pushes.append(PushResult("sfdc", written_fields=4, written_records=2, failed_records=0, errors=[]))
    report.values.extend([kr_value(), kr_value("owner", "ana@example.com")])
    return report


def test_healthz_is_ok_during_the_startup_grace_then_503_when_stale(served) -> None:
    worker, port = served
    worker.clock.now = T0 + STALE_AFTER
    assert get(port, "/healthz")[0] == 200
    worker.clock.now = T0 + STALE_AFTER + timedelta(seconds=1)
    status, body = get(port, "/healthz")
    assert status == 503
    assert "sfdc" in json.loads(body)["reason"]


def test_healthz_follows_the_last_successful_cycle(served) -> None:
    worker, port = served
    finished = T0 + timedelta(minutes=50)
    worker.telemetry.record_cycle("sfdc", ok_report(T0 + timedelta(minutes=49)), finished_at=finished)
    worker.clock.now = finished + STALE_AFTER
    status, body = get(port, "/healthz")
    assert (status, json.loads(body)["last_success"]["sfdc"]) == (200, finished.isoformat())
    worker.clock.now = finished + STALE_AFTER + timedelta(seconds=1)
    assert get(port, "/healthz")[0] == 503


def test_healthz_is_503_when_the_scheduler_stopped(served) -> None:
    worker, port = served
    worker.alive = False
    status, body = get(port, "/healthz")
    assert (status, json.loads(body)["reason"]) == (503, "the scheduler is not running")


def test_metrics_carry_every_series(served) -> None:
    worker, port = served
    worker.telemetry.record_cycle("sfdc", ok_report(T0), finished_at=T0 + timedelta(seconds=3))
    worker.telemetry.record_skipped("sfdc", "lease_held")
    status, text = get(port, "/metrics")
    assert status == 200
    for series in [
        'okrsync_cycles_total{source="sfdc",status="ok"} 1.0',
        'okrsync_cycles_total{source="sfdc",status="lease_held"} 1.0',
        'okrsync_records_pulled_total{source="sfdc"} 3.0',
        'okrsync_fields_written_total{source="sfdc"} 4.0',
        'okrsync_write_errors_total{source="sfdc"} 0.0',
        'okrsync_api_calls_total{source="sfdc"} 12.0',
        'okrsync_retries_total{source="sfdc"} 1.0',
        'okrsync_cycle_duration_seconds_bucket{le="5.0",source="sfdc"} 1.0',
        f'okrsync_last_success_timestamp_seconds{{source="sfdc"}} {(T0 + timedelta(seconds=3)).timestamp():.9e}',
        'okrsync_key_result_value{group="total",key_result="revenue",objective="q-revenue"} 412000.0',
        'okrsync_key_result_progress{group="owner:ana@example.com",key_result="revenue",objective="q-revenue"} 0.72',
        'okrsync_key_result_score{group="total",key_result="revenue",objective="q-revenue"} 0.72',
    ]:
        assert series in text, series


def test_two_workers_never_share_a_counter() -> None:
    first, second = Telemetry(["sfdc"], started_at=T0), Telemetry(["sfdc"], started_at=T0)
    first.record_skipped("sfdc", "error")
    assert b'status="error"' in first.exposition()
    assert b'status="error"' not in second.exposition()


def test_status_page_and_unknown_paths(served) -> None:
    _, port = served
    assert get(port, "/") == (200, "<h1>status</h1>")
    assert get(port, "/nope")[0] == 404
