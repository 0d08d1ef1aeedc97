"""The live display `okrsync run` shows on a terminal: the step it is on, and per stream the
records pulled so far with their rate, so 700,000 records are not minutes of silence.

It draws on stderr and vanishes when the cycle ends (the summary on stdout says what was
pulled); off a terminal (cron, CI, `kubectl logs`) nothing is drawn and the logs say the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console, RenderableType
from rich.progress import (
    BarColumn,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress import Progress as RichProgress
from rich.text import Text

from syncer.progress import NO_PROGRESS, Progress
from syncer.records import StreamName


class _RecordsColumn(ProgressColumn):
    """ "12,345 of 50,000 records · 6,100/s" for a stream ("12,345 records" when the CRM gave no
    total); nothing for a step."""

    def render(self, task: Task) -> Text:
        if not task.fields.get("counts"):
            return Text("")
        rate = f" · {task.speed:,.0f}/s" if task.speed else ""
        of = f" of {int(task.total):,}" if task.total is not None else ""
        return Text(f"{int(task.completed):,}{of} records{rate}")


class _KnownTotalBar(ProgressColumn):
    """A bar for a stream whose total the CRM gave (Salesforce's totalSize); nothing otherwise,
    since a bar that cannot fill says less than the count beside it."""

    def __init__(self) -> None:
        super().__init__()
        self._bar = BarColumn(bar_width=24)

    def render(self, task: Task) -> RenderableType:
        return self._bar.render(task) if task.fields.get("counts") and task.total is not None else Text("")


class _Display:
    def __init__(self, bar: RichProgress) -> None:
        self._bar = bar
        self._step: TaskID | None = None
        self._streams: dict[tuple[str, str], tuple[TaskID, int]] = {}  # task, records so far

    def step(self, text: str) -> None:
        self._end_step()
        self._step = self._bar.add_task(text, total=None, counts=False)

    def page(self, source: str, stream: StreamName, records: int, *, expected: int | None = None) -> None:
        key = (source, stream)
        if key not in self._streams:
            self._streams[key] = (self._bar.add_task(f"  {source} {stream}", total=None, counts=True), 0)
        task, count = self._streams[key]
        self._streams[key] = (task, count + records)
        if expected is not None:  # the window's rows; the look-back's re-read rows are not stored
            self._bar.update(task, total=max(expected, count + records))
        self._bar.advance(task, records)

    def wrote(self, source: str, records: int, *, total: int) -> None:
        key = (source, "written")
        if key not in self._streams:
            task = self._bar.add_task(f"  {source} write-back", total=total, counts=True)
            self._streams[key] = (task, 0)
        task, count = self._streams[key]
        self._streams[key] = (task, count + records)
        self._bar.advance(task, records)

    def _end_step(self) -> None:
        """A finished step, and each stream it pulled, turn their spinner into a tick."""
        if self._step is not None:
            self._bar.update(self._step, total=1, completed=1)
        for task, count in self._streams.values():
            self._bar.update(task, total=count, completed=count)
        self._streams = {}


@contextmanager
def live_progress(console: Console) -> Iterator[Progress]:
    """A display on `console` while the block runs, if it is a terminal; else NO_PROGRESS."""
    if not console.is_terminal:
        yield NO_PROGRESS
        return
    columns = (
        SpinnerColumn(finished_text="✓"),
        TextColumn("{task.description}", markup=False),
        _KnownTotalBar(),
        _RecordsColumn(),
        TimeElapsedColumn(),
    )
    with RichProgress(*columns, console=console, transient=True) as bar:
        yield _Display(bar)
