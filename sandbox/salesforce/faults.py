"""Failure injection: failing the next requests, rejecting writes to chosen records.

Tests arrange failures here through the SalesforceSandbox methods (`fail_next`, `reject_writes`);
the server consults it on every request and every record write.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sandbox.salesforce.errors import ApiError, RecordError

WritePredicate = Callable[[str, str | None, Mapping[str, Any]], str | None]
DEFAULT_MESSAGES = {
    "SERVER_UNAVAILABLE": "Server unavailable, please try again later",
    "REQUEST_LIMIT_EXCEEDED": "TotalRequests Limit exceeded.",
    "INVALID_SESSION_ID": "Session expired or invalid",
    "UNKNOWN_EXCEPTION": "An unexpected error occurred. Please include this ErrorId if you contact support",
}


@dataclass(slots=True)
class _FailRule:
    remaining: int
    error: ApiError
    path_contains: str | None
    retry_after: int | None


@dataclass(slots=True)
class _WriteRule:
    decide: WritePredicate
    times: int | None  # per record (id, or external-id value for creates); None: always
    seen: dict[str, int]


class FaultPlan:
    """The failures still to inject; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fail_rules: list[_FailRule] = []
        self._write_rules: list[_WriteRule] = []

    def fail_next(
        self,
        count: int,
        *,
        status: int,
        error_code: str,
        path_contains: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        text = DEFAULT_MESSAGES.get(error_code, error_code.replace("_", " ").lower())
        with self._lock:
            self._fail_rules.append(
                _FailRule(count, ApiError(status, error_code, text), path_contains, retry_after)
            )

    def request_failure(self, path: str) -> tuple[ApiError, int | None] | None:
        """The injected error for a request to `path` (and its Retry-After), consuming one use."""
        with self._lock:
            for rule in self._fail_rules:
                applies = (
                    path.startswith("/services/data/")
                    if rule.path_contains is None
                    else rule.path_contains in path
                )
                if applies and rule.remaining > 0:
                    rule.remaining -= 1
                    return rule.error, rule.retry_after
            self._fail_rules = [rule for rule in self._fail_rules if rule.remaining > 0]
        return None

    def reject_writes(self, decide: WritePredicate, *, times: int | None) -> None:
        with self._lock:
            self._write_rules.append(_WriteRule(decide, times, {}))

    def write_rejection(
        self, object_name: str, record_id: str | None, fields: Mapping[str, Any]
    ) -> RecordError | None:
        """The injected per-record error for this write, if a rule still applies to it."""
        with self._lock:
            for rule in self._write_rules:
                code = rule.decide(object_name, record_id, fields)
                if code is None:
                    continue
                key = record_id or repr(sorted(fields.items(), key=lambda item: item[0]))
                used = rule.seen.get(key, 0)
                if rule.times is not None and used >= rule.times:
                    continue
                rule.seen[key] = used + 1
                return RecordError(code, _record_message(code, record_id))
        return None

    def clear(self) -> None:
        with self._lock:
            self._fail_rules.clear()
            self._write_rules.clear()


def by_record_id(codes: Mapping[str, str]) -> WritePredicate:
    """A rule rejecting writes to the given record ids (15 or 18 characters) with their codes."""
    by_id15 = {record_id[:15]: code for record_id, code in codes.items()}
    return lambda _object, record_id, _fields: by_id15.get(record_id[:15]) if record_id else None


def _record_message(code: str, record_id: str | None) -> str:
    if code == "UNABLE_TO_LOCK_ROW":
        return f"unable to obtain exclusive access to this record or 1 records: {record_id or ''}".strip()
    return DEFAULT_MESSAGES.get(code, f"injected failure: {code}")
