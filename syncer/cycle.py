"""One cycle: pull every source → roll up key results → write back what changed.

The cycle is idempotent: run twice with no CRM change, it pulls nothing new and writes
nothing. Each phase can run alone (`okrsync run --only pull|rollup|push`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from syncer.config.models import Settings
from syncer.contract import Connector
from syncer.errors import CrmError
from syncer.pull import SourceResult, pull_source
from syncer.rollup import ROLLUP_CONNECTIONS, compute_key_results
from syncer.rollup.values import KeyResultValue
from syncer.store import lease, runs, snapshots
from syncer.store.database import Store
from syncer.writeback import PushResult, plan_writes, push

log = logging.getLogger(__name__)

Phase = Literal["pull", "rollup", "push"]
PHASES: tuple[Phase, ...] = ("pull", "rollup", "push")

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_REJECTED = 0, 1, 2, 3


@dataclass
class CycleReport:
    run_id: int
    started_at: datetime
    pulls: list[SourceResult] = field(default_factory=list)
    values: list[KeyResultValue] = field(default_factory=list)
    pushes: list[PushResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # a source or phase that failed
    api_calls: int = 0
    retries: int = 0

    @property
    def rejected_writes(self) -> int:
        return sum(p.failed_records for p in self.pushes)

    @property
    def exit_code(self) -> int:
        if self.errors or any(p.failed for p in self.pulls):
            return EXIT_FAILED
        return EXIT_REJECTED if self.rejected_writes else EXIT_OK

    @property
    def status(self) -> str:
        return {EXIT_OK: "ok", EXIT_REJECTED: "partial"}.get(self.exit_code, "failed")


@dataclass(frozen=True)
class CycleOptions:
    phases: Sequence[Phase] = PHASES
    sources: Sequence[str] | None = None  # None: every source
    full: bool = False  # resync from scratch instead of from the cursors


def run_cycle(
    settings: Settings,
    store: Store,
    open_connector: Callable[[str], Connector],
    *,
    clock: Callable[[], datetime],
    options: CycleOptions = CycleOptions(),
) -> CycleReport:
    """Run one cycle and record it in the runs table; CRM failures are reported, not raised.

    Holds the store's cycle lease throughout: raises LeaseHeldError, touching nothing, when
    another worker is running a cycle on the same store.
    """
    with lease.hold(store, clock=clock):
        return _run_leased(settings, store, open_connector, clock=clock, options=options)


def _run_leased(
    settings: Settings,
    store: Store,
    open_connector: Callable[[str], Connector],
    *,
    clock: Callable[[], datetime],
    options: CycleOptions,
) -> CycleReport:
    names = [n for n in settings.sources if options.sources is None or n in options.sources]
    # Whole seconds: SOQL datetime literals carry no fraction, so a pull's upper bound and the
    # cursor it leaves must be the same second-aligned instant.
    started = clock().replace(microsecond=0)
    with store.sessions.begin() as session:
        run_id = runs.start(session, names, now=started)
    report = CycleReport(run_id=run_id, started_at=started)
    log.info("cycle started", extra={"run_id": run_id, "sources": ",".join(names)})
    connectors: dict[str, Connector] = {}
    try:
        for name in names:
            connectors[name] = open_connector(name)
        _run_phases(settings, store, connectors, report, options, clock)
    except CrmError as exc:
        report.errors.append(str(exc))
    finally:
        for connector in connectors.values():
            usage = connector.usage()
            report.api_calls += usage.calls
            report.retries += usage.retries
            connector.close()
        _finish(store, report, clock())
    return report


def _run_phases(
    settings: Settings,
    store: Store,
    connectors: Mapping[str, Connector],
    report: CycleReport,
    options: CycleOptions,
    clock: Callable[[], datetime],
) -> None:
    if "pull" in options.phases:
        for name, connector in connectors.items():
            streams = list(settings.sources[name].streams)
            try:
                report.pulls.append(
                    pull_source(store, connector, streams, until=report.started_at, full=options.full)
                )
            except CrmError as exc:  # auth refused, retries exhausted: this source fails, others go on
                log.error("source failed", extra={"source": name, "error": str(exc)})
                report.errors.append(str(exc))
    if "rollup" in options.phases or "push" in options.phases:
        with store.sessions.begin() as session:
            # Pulls are committed: the rollup may read the streams on several connections.
            report.values = compute_key_results(
                session, settings, now=clock(), connections=ROLLUP_CONNECTIONS
            )
            if "rollup" in options.phases:
                snapshots.save_snapshot(session, report.run_id, report.values)
    if "push" in options.phases:
        for name, connector in connectors.items():
            with store.sessions() as session:
                items = plan_writes(session, settings, name, report.values)
            if items:
                try:
                    report.pushes.append(push(store.sessions, connector, items, now=clock()))
                except CrmError as exc:
                    log.error("write-back failed", extra={"source": name, "error": str(exc)})
                    report.errors.append(str(exc))


def _finish(store: Store, report: CycleReport, now: datetime) -> None:
    counts = runs.RunCounts(
        status=report.status,
        pulled=sum(s.changed for p in report.pulls for s in p.streams),
        rejected=sum(s.rejected for p in report.pulls for s in p.streams),
        written=sum(p.written_fields for p in report.pushes),
        write_errors=report.rejected_writes,
        api_calls=report.api_calls,
        retries=report.retries,
        error="; ".join(report.errors) or None,
        details={
            "streams": {
                f"{p.source}.{s.stream}": {
                    "received": s.received,
                    "changed": s.changed,
                    "rejected": s.rejected,
                }
                for p in report.pulls
                for s in p.streams
            },
            "write_errors": [e for p in report.pushes for e in p.errors][:50],
        },
    )
    with store.sessions.begin() as session:
        runs.finish(session, report.run_id, counts, now=now)
    _log_finished(report, counts, now)


def _log_finished(report: CycleReport, counts: runs.RunCounts, now: datetime) -> None:
    for pulled in report.pulls:
        for stream in pulled.streams:
            log.info(
                "stream pulled",
                extra={
                    "run_id": report.run_id,
                    "source": pulled.source,
                    "stream": stream.stream,
                    "received": stream.received,
                    "changed": stream.changed,
                    "rejected": stream.rejected,
                },
            )
    log.info(
        "cycle finished",
        extra={
            "run_id": report.run_id,
            "status": report.status,
            "pulled": counts.pulled,
            "written": counts.written,
            "write_errors": counts.write_errors,
            "api_calls": counts.api_calls,
            "duration_seconds": round((now - report.started_at).total_seconds(), 3),
        },
    )
