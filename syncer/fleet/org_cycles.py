"""What a fleet worker does with one task: one cycle of one org, the same `run_cycle` as `okrsync run`.

The cycle holds the org's store lease (`syncer/store/lease.py`), so an org never runs twice at
once, whichever workers its tasks reach. A task that finds the lease held raises
`LeaseHeldError` to the task (`app.py`), which skips or defers it; nothing here fails loudly for it.
Each org's store is opened once per worker process and shared by its threads.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime

from syncer.cycle import CycleOptions, run_cycle
from syncer.errors import LeaseHeldError, OkrsyncError
from syncer.fleet.fleet_file import Fleet
from syncer.fleet.telemetry import FleetTelemetry
from syncer.serve.alerts import send_alerts
from syncer.serve.scheduler import ConnectorFactory
from syncer.store.database import Store, open_store
from syncer.store.snapshots import latest_values

log = logging.getLogger(__name__)


class UnknownOrgError(OkrsyncError):
    """A task names an org this worker's fleet file does not list (an older or newer fleet file)."""


class OrgCycles:
    def __init__(
        self,
        fleet: Fleet,
        *,
        connectors: ConnectorFactory,
        telemetry: FleetTelemetry,
        clock: Callable[[], datetime],
    ) -> None:
        self.fleet = fleet
        self.telemetry = telemetry
        self._connectors = connectors
        self._clock = clock
        self._stores: dict[str, Store] = {}
        self._lock = threading.Lock()

    def store(self, org: str) -> Store:
        with self._lock:
            if org not in self._stores:
                self._stores[org] = open_store(self.fleet.orgs[org].settings.store)
            return self._stores[org]

    def run(self, org: str, sources: Sequence[str] | None) -> str:
        """One cycle of `org` (of `sources`, or all); its run status. Raises LeaseHeldError when
        another cycle of the org holds its store's lease, and UnknownOrgError; nothing else."""
        if org not in self.fleet.orgs:
            raise UnknownOrgError(f"no org named {org} in {self.fleet.file}")
        settings = self.fleet.orgs[org].settings
        wanted = [s for s in sources if s in settings.sources] if sources is not None else None
        self.telemetry.running.labels(org).inc()
        try:
            store = self.store(org)
            with store.sessions() as session:
                previous = latest_values(session)  # what alerts compare the new statuses with
            report = run_cycle(
                settings,
                store,
                self._connectors(settings, store=store),
                clock=self._clock,
                options=CycleOptions(sources=wanted),
            )
        except LeaseHeldError:
            raise
        except OkrsyncError as exc:  # the store is down (the run could not be recorded), …: one line
            log.error("cycle failed", extra={"org": org, "error": str(exc)})
            self.telemetry.record_skipped(org, "error")
            return "error"
        except Exception:
            # Deliberately broad, as `serve`'s job guard: a bug in one org's cycle must not take the
            # worker and the other orgs' tasks down; the traceback goes to the log.
            log.exception("cycle crashed", extra={"org": org})
            self.telemetry.record_skipped(org, "error")
            return "error"
        finally:
            self.telemetry.running.labels(org).dec()
        self.telemetry.record_cycle(org, report, finished_at=self._clock())
        log.info("org cycle finished", extra={"org": org, "run_id": report.run_id, "status": report.status})
        send_alerts(settings, report, previous)
        return report.status

    def close(self) -> None:
        with self._lock:
            for store in self._stores.values():
                store.close()
            self._stores.clear()
