"""Prometheus metrics of one worker, and the freshness `/healthz` judges.

Every worker builds its own `CollectorRegistry` (never prometheus-client's global default), so
two workers in one process, or two tests, never share a counter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from syncer.cycle import CycleResult
from syncer.staleness import StaleKeyResult
from syncer.values import KeyResultValue

# Cycles last from a second (nothing changed) to many minutes (a first full pull).
DURATION_BUCKETS = (1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
SUCCESS = ("ok", "partial")  # partial: complete, some records rejected and retried next cycle


@dataclass(frozen=True, slots=True)
class Health:
    """What `/healthz` answers: healthy or not, and why."""

    healthy: bool
    reason: str
    last_success: dict[str, str | None]


class Telemetry:
    """The worker's metrics and the last successful cycle of each source."""

    def __init__(self, sources: Iterable[str], *, started_at: datetime) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.started_at = started_at
        self.last_success: dict[str, datetime | None] = dict.fromkeys(sources)
        by_source = ["source"]
        self.cycles = Counter(
            "okrsync_cycles", "Cycles by outcome", [*by_source, "status"], registry=self.registry
        )
        self.pulled = Counter(
            "okrsync_records_pulled", "Records changed by pulls", by_source, registry=self.registry
        )
        self.written = Counter(
            "okrsync_fields_written", "CRM fields written", by_source, registry=self.registry
        )
        self.write_errors = Counter(
            "okrsync_write_errors", "Records the CRM rejected", by_source, registry=self.registry
        )
        self.api_calls = Counter("okrsync_api_calls", "CRM API calls", by_source, registry=self.registry)
        self.retries = Counter("okrsync_retries", "Retried CRM calls", by_source, registry=self.registry)
        self.duration = Histogram(
            "okrsync_cycle_duration_seconds",
            "Cycle duration",
            by_source,
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.last_success_at = Gauge(
            "okrsync_last_success_timestamp_seconds",
            "End of the last successful cycle",
            by_source,
            registry=self.registry,
        )
        kr = ["objective", "key_result", "group"]
        self.kr_value = Gauge("okrsync_key_result_value", "Key-result value", kr, registry=self.registry)
        self.kr_progress = Gauge("okrsync_key_result_progress", "Progress 0..1+", kr, registry=self.registry)
        self.kr_score = Gauge("okrsync_key_result_score", "Score 0.0-1.0", kr, registry=self.registry)
        self.kr_stale = Gauge(
            "okrsync_key_result_stale",
            "1 while a key result is not written because a stream it reads failed or never completed",
            ["objective", "key_result", "source", "reason"],
            registry=self.registry,
        )

    def record_cycle(self, source: str, report: CycleResult, *, finished_at: datetime) -> None:
        """Count one finished cycle of `source` and publish its key-result values."""
        self.cycles.labels(source, report.status).inc()
        self.pulled.labels(source).inc(sum(s.changed for p in report.pulls for s in p.streams))
        self.written.labels(source).inc(sum(p.written_fields for p in report.pushes))
        self.write_errors.labels(source).inc(report.rejected_writes)
        self.api_calls.labels(source).inc(report.api_calls)
        self.retries.labels(source).inc(report.retries)
        self.duration.labels(source).observe(max((finished_at - report.started_at).total_seconds(), 0.0))
        if report.status in SUCCESS:
            self.last_success[source] = finished_at
            self.last_success_at.labels(source).set(finished_at.timestamp())
        self.record_values(report.values)
        if report.values or report.stale:  # the rollup ran: it judged every key result
            self.record_stale(report.stale)

    def record_skipped(self, source: str, status: str) -> None:
        """A tick that ran no cycle: `lease_held` (another worker) or `error` (store down…)."""
        self.cycles.labels(source, status).inc()

    def record_values(self, values: Iterable[KeyResultValue]) -> None:
        for value in values:
            group = "total" if value.group_kind == "total" else f"{value.group_kind}:{value.group_key}"
            labels = (value.objective, value.key_result, group)
            if value.value is not None:
                self.kr_value.labels(*labels).set(float(value.value))
            if value.progress is not None:
                self.kr_progress.labels(*labels).set(value.progress)
            if value.score is not None:
                self.kr_score.labels(*labels).set(value.score)

    def record_stale(self, stale: Iterable[StaleKeyResult]) -> None:
        """Publish exactly these stale key results (the ones fresh again disappear)."""
        self.kr_stale.clear()
        for item in stale:
            self.kr_stale.labels(item.objective, item.key_result, item.source, item.reason).set(1)

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format."""
        return generate_latest(self.registry)

    def health(self, *, now: datetime, stale_after: timedelta, scheduler_alive: Callable[[], bool]) -> Health:
        """Healthy while the scheduler runs and every source succeeded within `stale_after`.

        A source that has not succeeded yet is judged from the worker's start: the first
        cycle gets `stale_after` to finish (the startup grace).
        """
        shown = {s: (t.isoformat() if t else None) for s, t in self.last_success.items()}
        if not scheduler_alive():
            return Health(False, "the scheduler is not running", shown)
        stale = sorted(s for s, t in self.last_success.items() if now - (t or self.started_at) > stale_after)
        if stale:
            return Health(False, f"no successful cycle within {stale_after} for: {', '.join(stale)}", shown)
        return Health(True, "ok", shown)

    def track_sources(self, sources: Iterable[str]) -> None:
        """Judge exactly these sources from now on (a reloaded config may add or drop some)."""
        self.last_success = {source: self.last_success.get(source) for source in sources}
