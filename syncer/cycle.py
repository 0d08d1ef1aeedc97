"""One cycle: pull every source → roll up key results → write back what changed.

The cycle is idempotent: run twice with no CRM change, it pulls nothing new and writes
nothing. Each phase can run alone (`okrsync run --only pull|rollup|push`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, cast

from sqlalchemy.orm import Session

from syncer import admission, closing, currencies, drift, outcomes, staleness, targets_from_crm
from syncer.config.models import Settings
from syncer.config.object_streams import declared_names
from syncer.contract import Connector
from syncer.errors import CrmError, OkrsyncError, OrgMismatchError, SourceUnreachableError
from syncer.failures import describe_error
from syncer.interruption import StopRequest
from syncer.progress import NO_PROGRESS, Progress
from syncer.pull import SourceResult, pull_bound, pull_source
from syncer.records import StreamName
from syncer.rollup import ROLLUP_CONNECTIONS, compute_key_results
from syncer.staleness import StaleKeyResult
from syncer.store import identities, lease, runs, snapshots, zones
from syncer.store.database import Store
from syncer.store.transaction import transaction
from syncer.values import KeyResultValue
from syncer.writeback import PushResult

log = logging.getLogger(__name__)

Phase = Literal["pull", "rollup", "push"]
PHASES: tuple[Phase, ...] = ("pull", "rollup", "push")

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_REJECTED = 0, 1, 2, 3


@dataclass
class CycleResult:
    run_id: int
    started_at: datetime
    pulls: list[SourceResult] = field(default_factory=list)
    values: list[KeyResultValue] = field(default_factory=list)
    pushes: list[PushResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # a source or phase that failed
    api_calls: int = 0
    retries: int = 0
    stale: list[StaleKeyResult] = field(default_factory=list)  # not snapshotted, not written
    phase: str = "start"  # the phase running now: an unexpected error is reported with it
    interrupted: str | None = None  # Ctrl-C or SIGTERM stopped the cycle
    sources: Sequence[str] = ()  # the sources this cycle runs for (empty: all)
    planned: dict[str, list[drift.FieldDiff]] = field(default_factory=dict)  # dry run: source → diff
    closed: closing.ClosingReport = field(default_factory=closing.ClosingReport)  # ended periods

    @property
    def rejected_writes(self) -> int:
        return sum(p.failed_records for p in self.pushes)

    @property
    def failing_stale(self) -> list[StaleKeyResult]:
        """Stale key results held back by this cycle's own sources: they fail it. Those of a
        source another job pulls (`serve`, `--source`) are shown and left unwritten, and fail
        that source's cycles instead."""
        return [s for s in self.stale if not self.sources or s.source in self.sources]

    @property
    def exit_code(self) -> int:
        if self.errors or self.failing_stale or any(p.failed for p in self.pulls):
            return EXIT_FAILED
        return EXIT_REJECTED if self.rejected_writes else EXIT_OK

    @property
    def status(self) -> str:
        if self.interrupted:
            return "interrupted"
        return {EXIT_OK: "ok", EXIT_REJECTED: "partial"}.get(self.exit_code, "failed")


@dataclass(frozen=True)
class CycleOptions:
    phases: Sequence[Phase] = PHASES
    sources: Sequence[str] | None = None  # None: every source
    full: bool = False  # resync from scratch instead of from the cursors
    force: bool = False  # write every value, ignoring the ledger (`okrsync push --force`)
    dry_run: bool = False  # push reads the CRM back and reports the diff; writes nothing (`okrsync plan`)
    stop: StopRequest | None = None  # polled where stopping loses nothing (SIGTERM)
    progress: Progress = NO_PROGRESS  # a live display on a terminal (`okrsync run`)


def run_cycle(
    settings: Settings,
    store: Store,
    open_connector: Callable[[str], Connector],
    *,
    clock: Callable[[], datetime],
    options: CycleOptions = CycleOptions(),
) -> CycleResult:
    """Run one cycle and record it in the runs table; CRM failures are reported, not raised.

    Holds the store's cycle lease throughout: raises LeaseHeldError, touching nothing, when
    another worker is running a cycle on the same store. Any other exception in any phase is
    recorded as `failed` with its error; Ctrl-C and SIGTERM (Interrupted) are recorded as
    `interrupted` and raised on. Raises StoreError when the run's end cannot be recorded.
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
) -> CycleResult:
    names = [n for n in settings.sources if options.sources is None or n in options.sources]
    started = clock()
    run_id = transaction(store, lambda session: _start(session, names, started))
    report = CycleResult(run_id=run_id, started_at=started, sources=names)
    log.info("cycle started", extra={"run_id": run_id, "sources": ",".join(names)})
    connectors: dict[str, Connector] = {}
    try:
        report.phase = "opening connectors"
        for name in names:
            connectors[name] = open_connector(name)
        # One org per store: a source reaching another org stops the cycle (exit 2) before any pull.
        kinds = {name: settings.sources[name].kind for name in connectors}
        verified = identities.verify_sources(store, connectors, kinds, report.errors, now=started)
        if "pull" in options.phases:  # a source left out fails its streams' pull in this cycle
            staleness.record_unpulled(
                store, settings, set(connectors) - set(verified), report.errors, now=started
            )
        _run_phases(settings, store, verified, report, options, clock)
    except OrgMismatchError:  # exit 2; the run is recorded failed with the message (report.errors)
        raise
    except CrmError as exc:
        report.errors.append(str(exc))
    except OkrsyncError as exc:  # a store fault (StoreError) and the other expected failures
        outcomes.note_failure(report, exc)
    except Exception as exc:
        # Deliberately broad, the run-recording guard: a bug or a bad value in any phase must still
        # leave the run `failed` with its error, never `running` or `ok` (README, "Commands": every
        # run is recorded as what happened).
        outcomes.note_failure(report, exc)
    except BaseException as exc:  # Ctrl-C, SIGTERM: record it, then let it stop the process
        report.interrupted = describe_error(exc)
        raise
    finally:
        outcomes.close_connectors(connectors, report)
        outcomes.record_end(lambda: _finish(store, report, clock()), report)
    return report


def _run_phases(
    settings: Settings,
    store: Store,
    connectors: Mapping[str, Connector],
    report: CycleResult,
    options: CycleOptions,
    clock: Callable[[], datetime],
) -> None:
    checkpoint = options.stop.check if options.stop else None
    unreachable: set[str] = set()  # sources whose host could not be reached: nothing more is sent
    if "pull" in options.phases:
        report.phase = "pull"
        for name, connector in connectors.items():
            # The built-in streams, then those the source declares (README "Any object as a stream").
            source = settings.sources[name]
            streams = [*source.streams, *cast(list[StreamName], declared_names(source))]
            options.progress.step(f"pulling from {name}")
            try:
                # A changed `timezone` re-reads the source's local dates: see store.zones.
                full = zones.prepare_pull(store, name, settings.timezone, now=report.started_at)
                pulled = pull_source(
                    store,
                    connector,
                    streams,
                    until=pull_bound(report.started_at, connectors.values()),  # Connector.cursor_resolution
                    full=options.full or full,
                    rules=admission.rules_from(settings),
                    checkpoint=checkpoint,
                    progress=options.progress,
                )
                report.pulls.append(pulled)
                if not pulled.failed:
                    zones.record_complete_pull(store, name, settings.timezone, now=report.started_at)
                # Quotas change mid-quarter: re-read every cycle (README "Targets from the CRM").
                report.errors += targets_from_crm.read_targets(
                    store, settings, name, connector, now=report.started_at
                )
            except CrmError as exc:  # auth refused, retries exhausted: this source fails, others go on
                log.error("source failed", extra={"source": name, "error": str(exc)})
                report.errors.append(str(exc))
                if isinstance(exc, SourceUnreachableError):
                    unreachable.add(name)
    if "rollup" in options.phases or "push" in options.phases:
        report.phase = "rollup"
        options.progress.step("rolling up")
        now, save = clock(), "rollup" in options.phases
        rolled = transaction(
            store, lambda session: _roll_up(session, settings, report.run_id, now, save=save)
        )
        report.values, report.stale, mixed, report.closed = rolled
        report.errors += mixed
    if "push" in options.phases:
        report.phase = "push"
        for name, connector in connectors.items():
            if name in unreachable:  # its one error is on the record; its writes stay pending
                log.warning("write-back skipped: source unreachable", extra={"source": name})
                continue
            options.progress.step(
                f"reading back from {name}" if options.dry_run else f"writing back to {name}"
            )
            try:  # the ledger's changes, plus drifted fields where `verify` is due (syncer.drift)
                if options.dry_run:
                    report.planned[name] = drift.diff_source(
                        store.sessions, settings, connector, report.values
                    )
                    continue
                pushed = drift.push_source(
                    store.sessions,
                    settings,
                    connector,
                    report.values,
                    now=clock(),
                    force=options.force,
                    checkpoint=checkpoint,
                    progress=options.progress,
                )
                report.pushes += [pushed] if pushed else []
            except CrmError as exc:
                log.error("write-back failed", extra={"source": name, "error": str(exc)})
                report.errors.append(str(exc))


def _finish(store: Store, report: CycleResult, now: datetime) -> None:
    counts = runs.RunCounts(
        status=report.status,
        pulled=sum(s.changed for p in report.pulls for s in p.streams),
        rejected=sum(s.rejected for p in report.pulls for s in p.streams),
        written=sum(p.written_fields for p in report.pushes),
        write_errors=report.rejected_writes,
        api_calls=report.api_calls,
        retries=report.retries,
        error="; ".join(
            [*report.errors, *([staleness.summary(report.stale)] if report.failing_stale else [])]
        )
        or None,
        details={
            "repaired_fields": sum(p.repaired_fields for p in report.pushes),
            "streams": {
                f"{p.source}.{s.stream}": {
                    "received": s.received,
                    "changed": s.changed,
                    "rejected": s.rejected,
                    "rejected_reasons": dict(s.reasons),
                }
                for p in report.pulls
                for s in p.streams
            },
            "write_errors": [e for p in report.pushes for e in p.errors][:50],
            "stale": [f"{s.key}: {s.explanation}" for s in report.stale],
            **report.closed.details(),  # README "Closing a period": late data after close
        },
    )
    transaction(store, lambda session: runs.finish(session, report.run_id, counts, now=now))
    _log_finished(report, counts, now)


def _start(session: Session, names: list[str], started: datetime) -> int:
    """Close the runs left `running` and open this one. Run again after a commit whose answer was
    lost, the first attempt's row is closed as abandoned, so no row stays `running`."""
    runs.close_abandoned(session, now=started)  # we hold the lease: no other run is alive
    return runs.start(session, names, now=started)


def _roll_up(
    session: Session, settings: Settings, run_id: int, now: datetime, *, save: bool
) -> tuple[list[KeyResultValue], list[StaleKeyResult], list[str], closing.ClosingReport]:
    """Values, stale key results and mixed-currency errors, with the run's snapshot when `save`.
    Reads and writes only the store, so a retried transaction computes the same again."""
    # Pulls are committed: the rollup may read the streams on several connections.
    live = closing.live_settings(session, settings, now=now)  # a frozen period is not recomputed
    values = compute_key_results(session, live, now=now, connections=ROLLUP_CONNECTIONS)
    # Unknown is not zero: a key result over data that did not arrive is neither kept nor written.
    stale = staleness.load_stale(session, settings)
    values = staleness.without_stale(values, stale)
    # Money carries its sources' home currency; a key result mixing currencies is not written.
    values, mixed = currencies.with_currencies(session, settings, values)
    # Ended periods: recomputed until close_after has passed, then frozen (syncer.closing).
    values, closed = closing.close_periods(
        session, settings, values, stale, now=now, connections=ROLLUP_CONNECTIONS, save=save
    )
    if save:
        snapshots.save_snapshot(session, run_id, values)
    return values, stale, mixed, closed


def _log_finished(report: CycleResult, counts: runs.RunCounts, now: datetime) -> None:
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
            "repaired": counts.details.get("repaired_fields", 0),
            "write_errors": counts.write_errors,
            "api_calls": counts.api_calls,
            "duration_seconds": round((now - report.started_at).total_seconds(), 3),
        },
    )
