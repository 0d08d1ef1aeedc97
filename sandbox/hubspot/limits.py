"""Rate limits (docs/crm-apis.md §3.7): a rolling 10-second bucket per app, a daily count per
account, and search's own per-second cap (search is exempt from the 10-second bucket).

Windows run on real monotonic time, not the sandbox clock: a frozen clock must not freeze them.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from sandbox.hubspot.exchange import HubSpotError

TEN_SECONDLY_LIMIT = 190  # Professional/Enterprise (§3.7)
DAILY_LIMIT = 1_000_000
SEARCH_PER_SECOND = 5
INTERVAL_MS = 10_000
MESSAGES = {
    "TEN_SECONDLY_ROLLING": "You have reached your ten_secondly_rolling limit.",
    "SECONDLY": "You have reached your secondly limit.",
    "DAILY": "You have reached your daily limit.",
}


def rate_limit_error(policy: str) -> HubSpotError:
    """429 with HubSpot's RATE_LIMIT body for `policy` (TEN_SECONDLY_ROLLING, SECONDLY or DAILY)."""
    message = MESSAGES.get(policy, f"You have reached your {policy.lower()} limit.")
    return HubSpotError(429, message, category=None, errorType="RATE_LIMIT", policyName=policy)


class RateLimits:
    """Counts requests and says when one is over a limit; thread-safe."""

    def __init__(
        self,
        *,
        ten_secondly: int | None = TEN_SECONDLY_LIMIT,
        daily: int = DAILY_LIMIT,
        search_per_second: int | None = SEARCH_PER_SECOND,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ten_secondly = ten_secondly
        self.daily = daily
        self.search_per_second = search_per_second
        self.daily_used = 0
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._burst: deque[float] = deque()
        self._searches: deque[float] = deque()

    def consume(self, *, search: bool) -> None:
        """Count one request; 429 (uncounted) when a limit is reached."""
        with self._lock:
            now = self._monotonic()
            _drop_before(self._burst, now - INTERVAL_MS / 1000)
            _drop_before(self._searches, now - 1)
            if self.daily_used >= self.daily:
                raise rate_limit_error("DAILY")
            if (
                search
                and self.search_per_second is not None
                and len(self._searches) >= self.search_per_second
            ):
                raise rate_limit_error("SECONDLY")
            if not search and self.ten_secondly is not None and len(self._burst) >= self.ten_secondly:
                raise rate_limit_error("TEN_SECONDLY_ROLLING")
            (self._searches if search else self._burst).append(now)
            self.daily_used += 1

    def headers(self, *, daily: bool) -> dict[str, str]:
        """The X-HubSpot-RateLimit-* headers; the daily pair is not sent to OAuth callers (§3.7)."""
        with self._lock:
            _drop_before(self._burst, self._monotonic() - INTERVAL_MS / 1000)
            headers = {"X-HubSpot-RateLimit-Interval-Milliseconds": str(INTERVAL_MS)}
            if self.ten_secondly is not None:
                headers["X-HubSpot-RateLimit-Max"] = str(self.ten_secondly)
                headers["X-HubSpot-RateLimit-Remaining"] = str(max(0, self.ten_secondly - len(self._burst)))
            if daily:
                headers["X-HubSpot-RateLimit-Daily"] = str(self.daily)
                headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(max(0, self.daily - self.daily_used))
            return headers

    def reset(self) -> None:
        """Forget the rolling windows (not the daily count)."""
        with self._lock:
            self._burst.clear()
            self._searches.clear()


def _drop_before(window: deque[float], cutoff: float) -> None:
    while window and window[0] <= cutoff:
        window.popleft()
