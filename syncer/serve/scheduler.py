"""`okrsync serve`: one APScheduler job per source, signals, and the HTTP side.

Jobs run on a single worker thread: every cycle rolls up and writes back all key results, and
the store's lease admits one cycle at a time anyway. A job never overlaps itself
(`max_instances=1`), a backlog of missed runs collapses into one (`coalesce`), and a run missed
by less than one period is still made (`misfire_grace_time`). SIGTERM/SIGINT stop scheduling
and wait for the running cycle to finish and commit; SIGHUP re-reads the YAML and keeps the
old settings when the new ones are invalid.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from types import FrameType
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from syncer.config.models import Settings, to_timedelta
from syncer.config.sources import Every, Schedule
from syncer.contract import Connector
from syncer.cycle import CycleOptions, run_cycle
from syncer.errors import ConfigError, LeaseHeldError, OkrsyncError, StoreError
from syncer.serve.alerts import send_alerts
from syncer.serve.telemetry import Health, Telemetry
from syncer.serve.web import ListenError, Pages, address, open_web_server
from syncer.store import runs
from syncer.store.database import Store, open_store
from syncer.store.snapshots import latest_values
from syncer.views.status_html import render_status_page

log = logging.getLogger(__name__)

JITTER_SHARE = 0.1  # spread each run over a tenth of its period, so many workers do not hit a CRM at once
JITTER_MAX = timedelta(seconds=30)
POLL_SECONDS = 1.0  # how often the main thread looks at its stop/reload flags


class ConnectorFactory(Protocol):
    """Opens a settings' connectors by source name; `store` keeps their CRM metadata between runs."""

    def __call__(self, settings: Settings, *, store: Store | None = None) -> Callable[[str], Connector]: ...


def build_trigger(schedule: Schedule, *, zone: ZoneInfo, now: datetime) -> tuple[BaseTrigger, timedelta]:
    """The APScheduler trigger of a source's `schedule`, with jitter, and its period."""
    if isinstance(schedule, Every):
        period = schedule.interval
        return IntervalTrigger(seconds=period.total_seconds(), jitter=_jitter(period), timezone=zone), period
    trigger = CronTrigger.from_crontab(schedule, timezone=zone)
    first = trigger.get_next_fire_time(None, now)
    second = trigger.get_next_fire_time(first, first + timedelta(seconds=1))
    period = second - first
    # from_crontab takes no jitter; the trigger reads this attribute when it computes a fire time.
    trigger.jitter = _jitter(period)
    return trigger, period


def _jitter(period: timedelta) -> float:
    return min(period * JITTER_SHARE, JITTER_MAX).total_seconds()


class Worker:
    """The scheduler, its store, metrics and web server, for one config file."""

    def __init__(
        self,
        settings: Settings,
        *,
        load: Callable[[], Settings],
        connectors: ConnectorFactory,
        clock: Callable[[], datetime],
        port: int | None = None,
    ) -> None:
        self.settings = settings
        self._load = load  # re-reads the YAML; raises ConfigError
        self._connectors = connectors
        self._clock = clock
        self._port = settings.serve.port if port is None else port
        self.store = open_store(settings.store)
        self.telemetry = Telemetry(settings.sources, started_at=clock())
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=1)}, timezone=ZoneInfo(settings.timezone)
        )
        self._stop = threading.Event()
        self._reload = threading.Event()

    def run_source(self, name: str) -> None:
        """The job: one cycle of `name` (pull it, roll up, write back); never raises."""
        settings = self.settings
        if name not in settings.sources:  # dropped by a reload while this run was queued
            return
        try:
            with self.store.sessions() as session:
                previous = latest_values(session)
            report = run_cycle(
                settings,
                self.store,
                self._connectors(settings, store=self.store),
                clock=self._clock,
                options=CycleOptions(sources=[name]),
            )
        except LeaseHeldError as exc:
            log.info("cycle skipped", extra={"source": name, "reason": str(exc)})
            self.telemetry.record_skipped(name, "lease_held")
            return
        except OkrsyncError as exc:  # the store is down (its run could not be recorded), …: one line
            log.error("cycle failed", extra={"source": name, "error": str(exc)})
            self.telemetry.record_skipped(name, "error")
            return
        except Exception:
            # Deliberately broad, the scheduler's job guard: a bug in one cycle must not stop the
            # worker and the other sources' jobs; the traceback goes to the log.
            log.exception("cycle crashed", extra={"source": name})
            self.telemetry.record_skipped(name, "error")
            return
        self.telemetry.record_cycle(name, report, finished_at=self._clock())
        send_alerts(settings, report, previous)

    def schedule(self, settings: Settings, *, first_run_now: bool) -> list[str]:
        """(Re)place one job per source; jobs of sources no longer configured are removed.

        Returns one line per source for the operator: its schedule and when it runs next.
        """
        zone = ZoneInfo(settings.timezone)
        now = datetime.now(zone)
        for job in self.scheduler.get_jobs():
            if job.id not in settings.sources:
                job.remove()
        lines = []
        for name, source in settings.sources.items():
            trigger, period = build_trigger(source.schedule, zone=zone, now=now)
            next_run = _when_next(trigger, now, first_run_now=first_run_now)
            lines.append(f"  {name}: {describe_schedule(source.schedule)}, next run {next_run}")
            # At start a worker runs every source at once (a restart catches up); on reload the
            # jobs keep to their schedule.
            when: dict[str, Any] = {"next_run_time": now} if first_run_now else {}
            self.scheduler.add_job(
                self.run_source,
                trigger,
                args=[name],
                id=name,
                name=f"cycle {name}",
                replace_existing=True,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=max(int(period.total_seconds()), 1),
                **when,
            )
            log.info(
                "scheduled",
                extra={"source": name, "schedule": describe_schedule(source.schedule), "next_run": next_run},
            )
        return lines

    def reload(self) -> bool:
        """Re-read the YAML; an invalid one is logged problem by problem and the old one kept."""
        try:
            settings = self._load()
        except ConfigError as exc:
            for problem in exc.problems:
                log.error("new config refused", extra={"problem": str(problem)})
            return False
        if settings.store != self.settings.store:
            log.error("new config refused", extra={"problem": "the store cannot change on reload: restart"})
            return False
        self.settings = settings
        self.telemetry.track_sources(settings.sources)
        self.schedule(settings, first_run_now=False)
        log.info("config reloaded", extra={"sources": ",".join(settings.sources)})
        return True

    def pages(self) -> Pages:
        return Pages(
            health=self._health,
            metrics=self.telemetry.exposition,
            status=self._status_page,
            token=self._token,
        )

    def _token(self) -> str | None:
        token = self.settings.serve.auth_token
        return None if token is None else token.get_secret_value()

    def _health(self) -> Health:
        stale_after = to_timedelta(self.settings.serve.stale_after)
        return self.telemetry.health(
            now=self._clock(), stale_after=stale_after, scheduler_alive=lambda: self.scheduler.running
        )

    def _status_page(self) -> str:
        with self.store.sessions() as session:
            return render_status_page(session, self.settings, now=self._clock())

    def _close_abandoned_runs(self) -> None:
        """Runs a killed worker left `running` (no live lease) are closed as `abandoned` at start."""
        try:
            closed = runs.close_abandoned_runs(self.store, now=self._clock())
        except StoreError as exc:  # the store is down: the first cycle will say so
            log.error("abandoned runs not closed", extra={"error": type(exc).__name__})
            return
        if closed:
            log.warning("closed abandoned runs", extra={"runs": ",".join(map(str, closed))})

    def request_stop(self) -> None:
        self._stop.set()

    def serve_forever(self, announce: Callable[[str], None] = lambda _line: None) -> int:
        """Run until SIGTERM/SIGINT (or `request_stop`); returns the exit code (0).

        `announce` gets what the operator starting the worker reads: where it listens, then each
        source's schedule. Raises ListenError (the store closed) when the address cannot be bound.
        """
        try:
            server = open_web_server(self.settings.serve.host, self._port, self.pages())
        except ListenError:
            self.store.close()
            raise
        serving = serving_line(self.settings.serve.host, int(server.server_address[1]))
        log.info(serving)
        announce(serving)
        previous = {sig: signal.signal(sig, self._on_signal) for sig in _SIGNALS if _in_main_thread()}
        try:
            self._close_abandoned_runs()
            for line in self.schedule(self.settings, first_run_now=True):
                announce(line)  # the "scheduled" log event carries the same
            self.scheduler.start()
            while not self._stop.wait(POLL_SECONDS):
                if self._reload.is_set():
                    self._reload.clear()
                    self.reload()
            log.info("stopping: waiting for the running cycle")
            self.scheduler.shutdown(wait=True)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            server.shutdown()
            server.server_close()
            self.store.close()
        log.info("stopped")
        return 0

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        # Only set flags here: the main loop does the work outside the signal handler.
        (self._reload if signum == signal.SIGHUP else self._stop).set()


_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def serving_line(host: str, port: int) -> str:
    """The line that says where the worker listens (the port bound, when 0 asked for any)."""
    return f"serving the status page on http://{address(host, port)}/ (metrics /metrics, health /healthz)"


def describe_schedule(schedule: Schedule) -> str:
    return f"every {schedule.every}" if isinstance(schedule, Every) else f"cron '{schedule}'"


def _when_next(trigger: BaseTrigger, now: datetime, *, first_run_now: bool) -> str:
    """When a job runs next: at start it runs at once, then on its trigger (jitter included)."""
    following = trigger.get_next_fire_time(now if first_run_now else None, now)
    at = following.strftime("%Y-%m-%d %H:%M:%S %Z") if following else "never"
    return f"now, then {at}" if first_run_now else at
