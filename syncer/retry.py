"""The retry policies (tenacity): the only place that builds a `Retrying`.

Retry one request at a time (an idempotent read, or a write keyed by id), never a generator,
a pull or a cycle (a store transaction is one request: `store_transactions`). Tests pass `sleep=waits.append`, so no test sleeps.
"""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from syncer.contract import WriteItem, WriteResult
from syncer.errors import AuthExpiredError, RejectedRequestError, TransientCrmError, TransientStoreError

log = logging.getLogger(__name__)
T = TypeVar("T")
P = ParamSpec("P")
C = TypeVar("C", bound="Reauthenticates")

MAX_RETRY_AFTER_SECONDS = 120.0  # a CRM asking for longer is treated as a failed call
_BACKOFF = wait_exponential_jitter(initial=1, max=60, jitter=1)


def _wait(state: RetryCallState) -> float:
    """Wait as long as the CRM asks (Retry-After); otherwise back off exponentially."""
    error = state.outcome.exception() if state.outcome else None
    if isinstance(error, TransientCrmError) and error.retry_after is not None:
        return min(error.retry_after, MAX_RETRY_AFTER_SECONDS)
    return _BACKOFF(state)


def _log_retry(state: RetryCallState, message: str = "retrying crm call") -> None:
    error = state.outcome.exception() if state.outcome else None
    log.warning(
        message,
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


_STORE_BACKOFF = wait_exponential_jitter(multiplier=0.5, max=8, jitter=0.5)


def store_transactions(*, max_attempts: int = 4, sleep: Callable[[float], None] = time.sleep) -> Retrying:
    """Retry a whole store transaction on TransientStoreError (connection lost, serialization
    failure, deadlock, SQLite lock) with backoff; every other error propagates at once.

    Only for a transaction that can run again from its start: it was rolled back, and the
    caller keeps no effect of the failed attempt.
    """

    def before_sleep(state: RetryCallState) -> None:
        _log_retry(state, "retrying store transaction")

    return Retrying(
        retry=retry_if_exception_type(TransientStoreError),
        wait=_STORE_BACKOFF,
        stop=stop_after_attempt(max_attempts),
        before_sleep=before_sleep,
        reraise=True,
        sleep=sleep,
    )


# --- Rules both connectors share: failure texts, Retry-After, re-authentication, write retries ---

MESSAGE_LIMIT = 300  # a CRM message can echo a whole query; logs and reports keep this much of it
# Waits before sending retryable records again in the same run: a row lock lasts seconds.
WRITE_RETRY_WAITS_SECONDS = (1.0, 4.0, 15.0)


def clean_message(text: str) -> str:
    """The text on one line, cut to MESSAGE_LIMIT characters."""
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= MESSAGE_LIMIT else flat[: MESSAGE_LIMIT - 1] + "…"


def failure_text(operation: str, message: str | None) -> str:
    """'query failed: <message>', the message flattened and cut short."""
    flat = clean_message(message or "")
    return f"{operation} failed" + (f": {flat}" if flat else "")


def retry_after_seconds(headers: Mapping[str, str], *, millis_from: float | None = None) -> float | None:
    """Seconds from a Retry-After header given in seconds; None when absent or an HTTP date.

    `millis_from`: a value at or above it is read as milliseconds (a CRM that documents both units).
    """
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    try:
        seconds = max(float(value), 0.0) if value is not None else None
    except ValueError:
        return None  # an HTTP date: the exponential backoff is close enough
    if seconds is not None and millis_from is not None and seconds >= millis_from:
        return seconds / 1000.0
    return seconds


class Reauthenticates(Protocol):
    """A CRM client whose token can be dropped, so that the next request fetches a new one."""

    source: str

    def forget_token(self) -> None: ...

    def refused(self, operation: str) -> str:
        """Why a freshly issued token was refused too, and what to fix."""
        ...


def reauthenticated(
    call: Callable[Concatenate[C, str, P], T],
) -> Callable[Concatenate[C, str, P], T]:
    """Wrap a client's `call(operation, …)`: on a 401 forget the token and run it once more; a
    second 401 in a row raises AuthExpiredError with the client's `refused(operation)` text."""

    @functools.wraps(call)
    def once_more(client: C, operation: str, /, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return call(client, operation, *args, **kwargs)
        except AuthExpiredError:
            log.info("re-authenticating", extra={"source": client.source, "operation": operation})
            client.forget_token()
        try:
            return call(client, operation, *args, **kwargs)
        except AuthExpiredError as exc:
            raise AuthExpiredError(
                client.refused(operation), source=client.source, status=exc.status, code=exc.code
            ) from exc

    return once_more


def write_retrying(
    write_once: Callable[[Sequence[WriteItem]], list[WriteResult]],
    items: Sequence[WriteItem],
    *,
    sleep: Callable[[float], None],
    source: str,
    waits: Sequence[float] = WRITE_RETRY_WAITS_SECONDS,
) -> list[WriteResult]:
    """One result per item. Records refused with a retryable error are sent again, alone, after each
    wait in turn; the others keep their error and wait for the next cycle."""
    results = write_once(items)
    for wait in waits:
        again = [i for i, result in enumerate(results) if result.retryable]
        if not again:
            break
        log.info("retrying writes", extra={"source": source, "records": len(again), "wait": wait})
        sleep(wait)
        for i, result in zip(again, write_once([items[i] for i in again]), strict=True):
            results[i] = result
    return results


class PlannedBatch(Protocol):
    """One write call a connector planned, and the input positions of its items, in order."""

    @property
    def positions(self) -> tuple[int, ...]: ...


B = TypeVar("B", bound=PlannedBatch)


def send_batches(
    count: int,
    batches: Iterable[B],
    planned: Mapping[int, WriteResult],
    *,
    send: Callable[[B], list[WriteResult]],
    refuse: Callable[[RejectedRequestError, B], list[WriteResult]],
) -> list[WriteResult]:
    """One result per input position `0 … count-1`: `planned` ones (refused before any call), then
    each batch's answer; a batch the CRM refuses as a whole gets `refuse`'s results for its items.

    A batch that got no answer at all (SourceUnreachableError: refused, TLS, …) is no refusal of its
    items: it propagates, nothing of this call is filed, and every item stays pending in the ledger
    for the next cycle (batches already answered are sent again then: writes are keyed by id).
    """
    results = dict(planned)
    for batch in batches:
        try:
            answered = send(batch)
        except RejectedRequestError as exc:
            answered = refuse(exc, batch)
        results.update(zip(batch.positions, answered, strict=True))
    return [results[i] for i in range(count)]
