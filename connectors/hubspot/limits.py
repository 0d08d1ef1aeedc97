"""Client-side rate limits: token buckets that keep okrsync under HubSpot's limits before a 429.

HubSpot counts general calls per app in a rolling 10 seconds and search calls per second, in a
bucket of their own (docs/crm-apis.md §3.2, §3.7). The clock and sleep are injected: tests never wait.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from syncer.config.sources import RateLimit

CallKind = Literal["general", "search"]
TEN_SECONDS = 10.0  # the burst window of the general limit (docs/crm-apis.md §3.7)


class TokenBucket:
    """At most `capacity` calls in any `period` seconds, refilled continuously."""

    def __init__(
        self,
        capacity: float,
        period: float,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        self._capacity = capacity
        self._rate = capacity / period
        self._tokens = capacity
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self.waited_seconds = 0.0

    def take(self) -> None:
        """Take one token, sleeping until one is free."""
        self._refill()
        if self._tokens < 1.0:
            wait = (1.0 - self._tokens) / self._rate
            self.waited_seconds += wait
            self._sleep(wait)
            self._refill()
            self._tokens = max(self._tokens, 1.0)  # a fake sleep may not move a fake clock
        self._tokens -= 1.0

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self._capacity, self._tokens + (now - self._updated) * self._rate)
        self._updated = now


class RateLimiter:
    """One bucket for general calls, one for search (search is exempt from the 10-s bucket)."""

    def __init__(
        self, config: RateLimit, *, clock: Callable[[], float], sleep: Callable[[float], None]
    ) -> None:
        self._buckets: dict[CallKind, TokenBucket] = {
            "general": TokenBucket(config.requests_per_10s, TEN_SECONDS, clock=clock, sleep=sleep),
            # One token of capacity: search allows no burst beyond its per-second rate.
            "search": TokenBucket(
                min(config.search_per_second, 1.0),
                min(config.search_per_second, 1.0) / config.search_per_second,
                clock=clock,
                sleep=sleep,
            ),
        }

    def take(self, kind: CallKind) -> None:
        self._buckets[kind].take()

    @property
    def waited_seconds(self) -> float:
        return sum(bucket.waited_seconds for bucket in self._buckets.values())
