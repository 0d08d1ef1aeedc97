"""The retry policies (tenacity): the only place that builds a `Retrying`.

Retry one request at a time (an idempotent read, or a write keyed by id), never a generator,
a pull or a cycle. Tests pass `sleep=waits.append`, so no test sleeps.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from syncer.errors import TransientCrmError

log = logging.getLogger(__name__)

MAX_RETRY_AFTER_SECONDS = 120.0  # a CRM asking for longer is treated as a failed call
_BACKOFF = wait_exponential_jitter(initial=1, max=60, jitter=1)


def _wait(state: RetryCallState) -> float:
    """Wait as long as the CRM asks (Retry-After); otherwise back off exponentially."""
    error = state.outcome.exception() if state.outcome else None
    if isinstance(error, TransientCrmError) and error.retry_after is not None:
        return min(error.retry_after, MAX_RETRY_AFTER_SECONDS)
    return _BACKOFF(state)


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    log.warning(
        "retrying crm call",
        extra={
            "attempt": state.attempt_number,
            "error": str(error),
            "wait_seconds": round(state.next_action.sleep, 2) if state.next_action else None,
        },
    )


def crm_calls(
    *,
    max_attempts: int = 6,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[RetryCallState], None] | None = None,
) -> Retrying:
    """Retry TransientCrmError with backoff; everything else propagates at once.

    `on_retry` lets a connector count retries for the run summary.
    """

    def before_sleep(state: RetryCallState) -> None:
        _log_retry(state)
        if on_retry is not None:
            on_retry(state)

    return Retrying(
        retry=retry_if_exception_type(TransientCrmError),
        wait=_wait,
        stop=stop_after_attempt(max_attempts),
        before_sleep=before_sleep,
        reraise=True,
        sleep=sleep,
    )
