"""The sandbox clock: frozen at a given instant (deterministic tests) or ticking with wall time."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta


class SandboxClock:
    """Aware-UTC time of the sandbox; tests move it with `advance` (e.g. to expire tokens)."""

    def __init__(self, start: datetime, *, ticking: bool) -> None:
        if start.tzinfo is None:
            raise ValueError("the sandbox clock needs an aware datetime")
        self._start = start.astimezone(UTC)
        self._ticking = ticking
        self._started = time.monotonic()
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            elapsed = timedelta(seconds=time.monotonic() - self._started) if self._ticking else timedelta(0)
            return self._start + self._offset + elapsed

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward (or back) by `delta`."""
        with self._lock:
            self._offset += delta
