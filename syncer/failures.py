"""Failures as one line: what a run record, a stream status and the terminal say about an error."""

from __future__ import annotations

from syncer.errors import OkrsyncError
from syncer.interruption import Interrupted

MAX_CHARS = 500  # a run's error column and a terminal line stay readable


def describe_error(exc: BaseException) -> str:
    """`exc` in one line: okrsync's own errors by their message, others with their type."""
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted (Ctrl-C)"
    if isinstance(exc, Interrupted):
        return f"interrupted ({exc})"
    lines = str(exc).strip().splitlines()
    first = lines[0].strip() if lines else ""
    text = first if isinstance(exc, OkrsyncError) and first else f"{type(exc).__name__}: {first}".rstrip(": ")
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1] + "…"
