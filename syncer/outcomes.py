"""How a cycle ends on the record: honest run status whatever went wrong.

No path records `ok` after an exception: an unexpected error in any phase is added to the
report's errors (so the run is `failed`, with the phase and the error); an interrupt marks it
`interrupted`. When the run's end cannot be recorded (the store is down), the error still reaches
the user as one line (StoreError), unless an interrupt is already on its way up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from syncer.contract import Connector
from syncer.errors import StoreError
from syncer.failures import describe_error

if TYPE_CHECKING:
    from syncer.cycle import CycleResult

log = logging.getLogger(__name__)


def note_failure(report: CycleResult, exc: Exception) -> None:
    """Record an unexpected exception as the cycle's failure, naming the phase it stopped."""
    error = f"{report.phase} failed: {describe_error(exc)}"
    report.errors.append(error)
    log.error("cycle failed", extra={"run_id": report.run_id, "phase": report.phase, "error": error})
    log.debug("cycle failure traceback", exc_info=exc)  # --log-level DEBUG shows where


def close_connectors(connectors: Mapping[str, Connector], report: CycleResult) -> None:
    """Add each connector's API usage to the report and close it; a failing one fails the run."""
    for name, connector in connectors.items():
        try:
            usage = connector.usage()
            report.api_calls += usage.calls
            report.retries += usage.retries
            connector.close()
        except Exception as exc:
            # Part of the cycle's run-recording guard, so deliberately broad: this runs before the
            # run's end is recorded, and whatever a connector's close raises must fail the run,
            # not skip the record and leave the run `running`.
            report.errors.append(f"closing {name} failed: {describe_error(exc)}")


def record_end(finish: Callable[[], None], report: CycleResult) -> None:
    """Run `finish` (which writes the run's end); raise StoreError in one line when it fails."""
    try:
        finish()
    except (StoreError, LookupError) as exc:  # the store failed, or lost the run's row
        cause = f" (the cycle had failed: {report.errors[0]})" if report.errors else ""
        message = (
            f"run {report.run_id} could not be recorded as {report.status}: {describe_error(exc)}{cause}"
        )
        if report.interrupted:  # the interrupt goes on up; it must not turn into a store error
            log.error("run not recorded", extra={"run_id": report.run_id, "error": message})
            return
        raise StoreError(message) from exc
