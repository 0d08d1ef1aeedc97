"""Client-side rate limits: rolling windows that keep okrsync under HubSpot's limits before a 429.

HubSpot counts general calls per app in a rolling 10 seconds and search calls per second, in a
window of their own (docs/crm-apis.md §3.2, §3.7). A rolling window, not a token bucket: a bucket
that starts full lets twice its capacity through in the first window, so a bucket set to the
portal's limit is answered 429 and one set below it leaves the limit unused.

HubSpot counts a call when it arrives. The 10-second window counts each call from its answer:
HubSpot saw it no later than that, and sees the next call no earlier than it is sent, so the two
are a whole window apart on HubSpot's clock too, whatever the network did; it costs one call's
latency per 10 s. In the one-second search window that latency would cost too much (0.88 of the
limit against the sandbox, tests/integration/test_hubspot_rate.py), so a search counts from
halfway between its sending and its answer: no earlier than its arrival as long as the request
takes no longer to get there than the answer takes to be made and come back. The clock and sleep
are injected: tests never wait.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from typing import Literal

from syncer.config.sources import RateLimit

CallKind = Literal["general", "search"]
TEN_SECONDS = 10.0  # the window of the general limit (docs/crm-apis.md §3.7)
ONE_SECOND = 1.0  # the window of the search limit (docs/crm-apis.md §3.2)


class RollingWindow:
    """At most `capacity` calls in any `period` seconds."""

    def __init__(
        self,
        capacity: int,
        period: float,
        *,
        from_answer: bool = True,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        self._period = period
        self._counted: deque[float] = deque(maxlen=capacity)  # when the last `capacity` calls count
        self._sent = 0.0
        self._from_answer = from_answer  # else from halfway through the call
        self._clock = clock
        self._sleep = sleep
        self.waited_seconds = 0.0

    def take(self) -> None:
        """Wait until one more call fits in the window (a fake sleep may not move a fake clock)."""
        if len(self._counted) == self._counted.maxlen:
            wait = self._counted[0] + self._period - self._clock()
            if wait > 0:
                self.waited_seconds += wait
                self._sleep(wait)
        self._sent = self._clock()

    def done(self) -> None:
        """The call taken last has its answer (or failed): it counts from now, or halfway through."""
        now = self._clock()
        self._counted.append(now if self._from_answer else (self._sent + now) / 2)


class RateLimiter:
    """One window for general calls, one for search (search is exempt from the 10-s window)."""

    def __init__(
        self, config: RateLimit, *, clock: Callable[[], float], sleep: Callable[[float], None]
    ) -> None:
        per_second = config.search_per_second
        # Whole calls per second; below one a second, one call per 1/rate seconds.
        search = (math.floor(per_second), ONE_SECOND) if per_second >= 1 else (1, ONE_SECOND / per_second)
        self._windows: dict[CallKind, RollingWindow] = {
            "general": RollingWindow(config.requests_per_10s, TEN_SECONDS, clock=clock, sleep=sleep),
            "search": RollingWindow(*search, from_answer=False, clock=clock, sleep=sleep),
        }

    def take(self, kind: CallKind) -> None:
        self._windows[kind].take()

    def done(self, kind: CallKind) -> None:
        self._windows[kind].done()

    @property
    def waited_seconds(self) -> float:
        return sum(window.waited_seconds for window in self._windows.values())
