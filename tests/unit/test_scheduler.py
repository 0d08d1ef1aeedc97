"""The serve worker without signals or a web server: triggers, jobs, lease skips, reloads."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from syncer.config import load_settings
from syncer.config.models import Settings
from syncer.config.sources import Every
from syncer.contract import Connector
from syncer.serve.scheduler import Worker, build_trigger
from syncer.store import lease
from syncer.store.database import Store, open_store
from syncer.store.runs import recent
from tests.fakes import FakeConnector, deal, owner

ZONE = ZoneInfo("America/New_York")
NOW = datetime(2026, 10, 5, 12, 0, 30, tzinfo=ZONE)
ENV = {"SF_TOKEN": "tok-abcdef"}
CONFIG = """\
version: 1
store: {store}
sources:
  sfdc:
    kind: salesforce
    instance_url: https://example.my.salesforce.com
    auth:
      method: access_token
      access_token: ${{SF_TOKEN}}
    schedule: {schedule}
    streams:
      deals: {{object: Opportunity}}
"""


def test_cron_schedule_fires_on_the_minute_with_a_tenth_of_its_period_as_jitter() -> None:
    trigger, period = build_trigger("*/15 * * * *", zone=ZONE, now=NOW)
    assert isinstance(trigger, CronTrigger)
    assert period == timedelta(minutes=15)
    assert trigger.jitter == 30  # capped: a tenth of 15 minutes would be 90 s
    fire = trigger.get_next_fire_time(None, NOW)
    assert NOW.replace(minute=15, second=0) <= fire <= NOW.replace(minute=15, second=30)


def test_every_schedule_is_an_interval_with_jitter() -> None:
    trigger, period = build_trigger(Every(every="10s"), zone=ZONE, now=NOW)
    assert isinstance(trigger, IntervalTrigger)
    assert (period, trigger.jitter) == (timedelta(seconds=10), 1.0)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "okr.yaml"
    path.write_text(CONFIG.format(store=f"sqlite:///{tmp_path / 'okr.db'}", schedule="{every: 10m}"))
    return path


def fake_connectors(settings: Settings, *, store: Store | None = None) -> Callable[[str], Connector]:
    crm = FakeConnector(
        source="sfdc", records={"deals": [deal("d1"), deal("d2")]}, owners=[owner("u1", "a@x.io")]
    )
    return lambda name: crm  # type: ignore[return-value]


@pytest.fixture
def worker(config: Path) -> Iterator[Worker]:
    opened = Worker(
        load_settings(config, ENV),
        load=lambda: load_settings(config, ENV),
        connectors=fake_connectors,
        clock=lambda: datetime.now(UTC),
    )
    yield opened
    opened.store.close()


def test_a_job_runs_one_cycle_of_its_source_and_counts_it(worker: Worker) -> None:
    worker.run_source("sfdc")
    with worker.store.sessions() as session:
        [run] = recent(session)
    assert (run.sources, run.status, run.counts.pulled) == ("sfdc", "ok", 2)
    assert b'okrsync_cycles_total{source="sfdc",status="ok"} 1.0' in worker.telemetry.exposition()


def test_a_tick_while_another_worker_holds_the_lease_is_skipped(worker: Worker, config: Path) -> None:
    other = open_store(load_settings(config, ENV).store)
    try:
        with lease.hold(other, clock=lambda: datetime.now(UTC)):
            worker.run_source("sfdc")
    finally:
        other.close()
    with worker.store.sessions() as session:
        assert recent(session) == []
    assert b'status="lease_held"} 1.0' in worker.telemetry.exposition()


def test_reload_refuses_an_invalid_config_and_keeps_the_old_one(
    worker: Worker, config: Path, caplog: pytest.LogCaptureFixture
) -> None:
    worker.schedule(worker.settings, first_run_now=False)
    worker.scheduler.start(paused=True)  # scheduled, never fired
    good = config.read_text()
    config.write_text(good.replace("{every: 10m}", "'every ten minutes'"))
    with caplog.at_level(logging.ERROR):
        assert not worker.reload()
    problems = [getattr(r, "problem", "") for r in caplog.records if r.message == "new config refused"]
    assert any(p.startswith(f"{config}:10: ") for p in problems)  # the problem with its file:line
    assert worker.settings.sources["sfdc"].schedule == Every(every="10m")
    config.write_text(good.replace("{every: 10m}", "'*/5 * * * *'"))
    assert worker.reload()
    [job] = worker.scheduler.get_jobs()
    assert isinstance(job.trigger, CronTrigger)
    assert worker.settings.sources["sfdc"].schedule == "*/5 * * * *"
    worker.scheduler.shutdown()
