"""A fleet worker's Prometheus metrics: the `serve` worker's cycle metrics, labelled by org.

Any worker may run any org's cycle, so each worker counts the cycles it ran; Prometheus adds the
workers up (`sum by (org)`). Key-result values are not exported here: with dozens of orgs they
would multiply the series, and each org's store, status page and report hold them.
"""

from __future__ import annotations

import threading
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from syncer.cycle import CycleResult
from syncer.serve.telemetry import DURATION_BUCKETS, SUCCESS, Health


class FleetTelemetry:
    def __init__(self, orgs: list[str], *, started_at: datetime) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.started_at = started_at
        self._lock = threading.Lock()
        self.last_success: dict[str, datetime | None] = dict.fromkeys(orgs)
        by_org = ["org"]
        self.cycles = Counter(
            "okrsync_cycles", "Cycles by outcome", [*by_org, "status"], registry=self.registry
        )
        self.running = Gauge(
            "okrsync_cycles_running", "Cycles this worker is running now", by_org, registry=self.registry
        )
        self.pulled = Counter(
            "okrsync_records_pulled", "Records changed by pulls", by_org, registry=self.registry
        )
        self.written = Counter("okrsync_fields_written", "CRM fields written", by_org, registry=self.registry)
        self.write_errors = Counter(
            "okrsync_write_errors", "Records the CRM rejected", by_org, registry=self.registry
        )
        self.api_calls = Counter("okrsync_api_calls", "CRM API calls", by_org, registry=self.registry)
        self.duration = Histogram(
            "okrsync_cycle_duration_seconds",
            "Cycle duration",
            by_org,
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.last_success_at = Gauge(
            "okrsync_last_success_timestamp_seconds",
            "End of the last successful cycle this worker ran",
            by_org,
            registry=self.registry,
        )

    def record_cycle(self, org: str, report: CycleResult, *, finished_at: datetime) -> None:
        self.cycles.labels(org, report.status).inc()
        self.pulled.labels(org).inc(sum(s.changed for p in report.pulls for s in p.streams))
        self.written.labels(org).inc(sum(p.written_fields for p in report.pushes))
        self.write_errors.labels(org).inc(report.rejected_writes)
        self.api_calls.labels(org).inc(report.api_calls)
        self.duration.labels(org).observe(max((finished_at - report.started_at).total_seconds(), 0.0))
        if report.status in SUCCESS:
            with self._lock:
                self.last_success[org] = finished_at
            self.last_success_at.labels(org).set(finished_at.timestamp())

    def record_skipped(self, org: str, status: str) -> None:
        """A task that ran no cycle: `lease_held`, `deferred` (retried later) or `error`."""
        self.cycles.labels(org, status).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def health(self, consuming: bool) -> Health:
        """Healthy while the worker consumes from the broker. Freshness is not judged per worker
        (another worker may run an org's cycles): alert on `okrsync_last_success_timestamp_seconds`."""
        with self._lock:
            shown = {org: (t.isoformat() if t else None) for org, t in self.last_success.items()}
        if not consuming:
            return Health(False, "the worker is not consuming from the broker", shown)
        return Health(True, "ok", shown)
