"""Every request the sandbox served, for tests to assert call counts and payloads.

Secrets never enter the log: the Authorization header is reduced to its scheme, and the token
endpoint's client secret, password and assertion are masked.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

LOGGED_HEADERS = ("Sforce-Query-Options", "Content-Type", "Accept", "User-Agent", "Authorization")
SECRET_FORM_FIELDS = frozenset({"client_secret", "password", "assertion"})
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    """One request and the status it was answered with."""

    at: datetime
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    body: Any  # parsed JSON, the form of a token request, or None
    kind: str  # e.g. "token", "query", "query_more", "describe", "composite_update", "composite_upsert"
    status: int

    @property
    def is_write(self) -> bool:
        """A data-changing REST call (the token request is not one)."""
        return self.method in WRITE_METHODS and self.path.startswith("/services/data/")


class RequestLog:
    """The served requests, oldest first; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[LoggedRequest] = []

    def append(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._entries.append(entry)

    def __iter__(self) -> Iterator[LoggedRequest]:
        with self._lock:
            return iter(list(self._entries))

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __getitem__(self, index: int) -> LoggedRequest:
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
        writes: bool | None = None,
    ) -> list[LoggedRequest]:
        """The requests matching every criterion given."""
        return [
            entry
            for entry in self
            if (kind is None or entry.kind == kind)
            and (method is None or entry.method == method.upper())
            and (path_contains is None or path_contains in entry.path)
            and (writes is None or entry.is_write == writes)
        ]

    def count(self, **criteria: Any) -> int:
        """How many requests match, e.g. `count(kind="query_more")` or `count(writes=True)`."""
        return len(self.filter(**criteria))

    def kinds(self) -> dict[str, int]:
        """Requests per kind."""
        counts: dict[str, int] = {}
        for entry in self:
            counts[entry.kind] = counts.get(entry.kind, 0) + 1
        return counts


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    """The logged subset of the headers, with only the scheme of Authorization."""
    kept = {name: headers[name.lower()] for name in LOGGED_HEADERS if name.lower() in headers}
    if "Authorization" in kept:
        kept["Authorization"] = kept["Authorization"].split(" ", 1)[0] + " ***"
    return kept


def redact_form(form: dict[str, str]) -> dict[str, str]:
    return {key: ("***" if key in SECRET_FORM_FIELDS else value) for key, value in form.items()}
