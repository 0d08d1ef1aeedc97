"""Stopping `okrsync run` on a signal without losing or half-recording anything.

Ctrl-C (SIGINT) raises KeyboardInterrupt where the program is; SIGTERM (a CronJob deadline, a
deploy) only sets a flag, which the cycle checks at safe points (after a page is committed,
between write batches, between phases) and in its retry waits, so the batch in flight commits.
Either way the run is recorded `interrupted` and the process exits 128 + the signal's number.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class Interrupted(BaseException):
    """A stop was requested by a signal. A BaseException, like KeyboardInterrupt, so that no
    `except Exception` on the way up (a retry loop, a connector) swallows it."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"stopped by {signal.Signals(signum).name}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class StopRequest:
    """A stop flag a signal handler sets and the cycle polls."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._signum = signal.SIGTERM.value

    def request(self, signum: int) -> None:
        self._signum = signum
        self._event.set()

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        """Raise Interrupted when a stop was requested: call it where stopping loses nothing."""
        if self._event.is_set():
            raise Interrupted(self._signum)

    def sleep(self, seconds: float) -> None:
        """time.sleep that ends early, raising Interrupted, when a stop is requested."""
        if self._event.wait(seconds):
            raise Interrupted(self._signum)


@contextmanager
def stop_on_sigterm() -> Iterator[StopRequest]:
    """Within the block, SIGTERM requests a stop instead of killing the process."""
    stop = StopRequest()
    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        yield stop
        return

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.request(signum)

    previous = signal.signal(signal.SIGTERM, on_signal)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGTERM, previous)
