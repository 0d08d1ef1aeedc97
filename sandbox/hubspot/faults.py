"""Failure injection: failing the next requests, rejecting chosen inputs of batch writes.

Tests arrange failures through the HubSpotSandbox methods (`fail_next`, `reject_upserts`); the
server consults this plan on every request and every batch input.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass

from sandbox.hubspot.exchange import HubSpotError
from sandbox.hubspot.limits import rate_limit_error

DEFAULT_MESSAGES = {
    500: "internal error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
    423: "Locked: too many writes to this object; retry after 2 seconds",
}  # fmt: skip


@dataclass(slots=True)
class _FailRule:
    remaining: int
    status: int
    policy: str | None
    path_contains: str | None
    retry_after: int | None
    message: str | None = None
    category: str | None = None

    def error(self) -> HubSpotError:
        if self.status == 429:
            error = rate_limit_error(self.policy or "TEN_SECONDLY_ROLLING")
        else:
            message = self.message or DEFAULT_MESSAGES.get(self.status, f"injected failure {self.status}")
            category = self.category or ("INTERNAL_ERROR" if self.status >= 500 else "ERROR")
            error = HubSpotError(self.status, message, category=category)
        if self.retry_after is not None:
            error.headers["Retry-After"] = str(self.retry_after)
        return error


@dataclass(slots=True)
class _Rejection:
    message: str
    remaining: int | None  # None: every time
    category: str = "VALIDATION_ERROR"


@dataclass(frozen=True, slots=True)
class InputRejection:
    """Why one batch input fails: HubSpot's error message and category."""

    message: str
    category: str


class FaultPlan:
    """The failures still to inject; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fail_rules: list[_FailRule] = []
        self._rejections: dict[str, _Rejection] = {}

    def fail_next(
        self,
        count: int,
        *,
        status: int,
        policy: str | None,
        path_contains: str | None,
        retry_after: int | None,
        message: str | None = None,
        category: str | None = None,
    ) -> None:
        with self._lock:
            self._fail_rules.append(
                _FailRule(count, status, policy, path_contains, retry_after, message, category)
            )

    def request_failure(self, path: str) -> HubSpotError | None:
        """The injected error for a request to `path`, consuming one use."""
        with self._lock:
            for rule in self._fail_rules:
                if rule.remaining > 0 and (rule.path_contains is None or rule.path_contains in path):
                    rule.remaining -= 1
                    return rule.error()
            self._fail_rules = [rule for rule in self._fail_rules if rule.remaining > 0]
        return None

    def reject(
        self, messages: Mapping[str, str], *, times: int | None, category: str = "VALIDATION_ERROR"
    ) -> None:
        with self._lock:
            for key, message in messages.items():
                self._rejections[key] = _Rejection(message, times, category)

    def input_rejection(self, *keys: str | None) -> InputRejection | None:
        """The message for a batch input known by any of `keys` (record id, unique value), consuming a use."""
        with self._lock:
            for key in keys:
                rejection = self._rejections.get(key) if key is not None else None
                if rejection is None or rejection.remaining == 0:
                    continue
                if rejection.remaining is not None:
                    rejection.remaining -= 1
                return InputRejection(rejection.message, rejection.category)
        return None

    def clear(self) -> None:
        with self._lock:
            self._fail_rules.clear()
            self._rejections.clear()
