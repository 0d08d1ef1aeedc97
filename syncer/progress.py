"""What a cycle tells a watching user as it goes: the step it is on and the records pulled so far.

The engine only calls this interface; `okrsync run` on a terminal gives it a live display
(`syncer.views.progress`), everything else the silent `NO_PROGRESS` (logs already say the same
to machines).
"""

from __future__ import annotations

from typing import Protocol

from syncer.records import StreamName


class Progress(Protocol):
    def step(self, text: str) -> None:
        """A step starts ("rolling up", "writing back to hub"); a page count ends with it."""

    def page(self, source: str, stream: StreamName, records: int, *, expected: int | None = None) -> None:
        """A page of `records` rows of `source`'s `stream` is stored; `expected`, when the CRM
        said it on the first page, is how many rows the whole pull will read."""

    def wrote(self, source: str, records: int, *, total: int) -> None:
        """A write-back batch of `records` records of `source` is filed; `total` are being sent."""


class _Silent:
    def step(self, text: str) -> None:
        pass

    def page(self, source: str, stream: StreamName, records: int, *, expected: int | None = None) -> None:
        pass

    def wrote(self, source: str, records: int, *, total: int) -> None:
        pass


NO_PROGRESS: Progress = _Silent()
