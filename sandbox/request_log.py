"""The log of every request a sandbox served, for tests to assert call counts and payloads.

Shared by both sandboxes; each defines its own entry type, because what counts as a write
differs (in HubSpot a POST is often a read: search, batch/read).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any, Generic, Protocol, TypeVar


class Entry(Protocol):
    @property
    def method(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def status(self) -> int: ...
    @property
    def is_write(self) -> bool: ...


E = TypeVar("E", bound=Entry)


class RequestLog(Generic[E]):
    """The served requests, oldest first; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[E] = []

    def append(self, entry: E) -> None:
        with self._lock:
            self._entries.append(entry)

    def __iter__(self) -> Iterator[E]:
        with self._lock:
            return iter(list(self._entries))

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __getitem__(self, index: int) -> E:
        with self._lock:
            return self._entries[index]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def filter(
        self,
        *,
        kind: str | None = None,
        method: str | None = None,
        path_contains: str | None = None,
        status: int | None = None,
        writes: bool | None = None,
    ) -> list[E]:
        """The requests matching every criterion given."""
        return [
            entry
            for entry in self
            if (kind is None or entry.kind == kind)
            and (method is None or entry.method == method.upper())
            and (path_contains is None or path_contains in entry.path)
            and (status is None or entry.status == status)
            and (writes is None or entry.is_write == writes)
        ]

    def count(self, **criteria: Any) -> int:
        """How many requests match, e.g. `count(kind="search")` or `count(writes=True)`."""
        return len(self.filter(**criteria))

    def kinds(self) -> dict[str, int]:
        """Requests per kind."""
        counts: dict[str, int] = {}
        for entry in self:
            counts[entry.kind] = counts.get(entry.kind, 0) + 1
        return counts


def mask_form(form: Mapping[str, str], secret_fields: frozenset[str]) -> dict[str, str]:
    """A token request's form with its secrets masked."""
    return {key: ("***" if key in secret_fields else value) for key, value in form.items()}
