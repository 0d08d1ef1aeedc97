"""Every request the HubSpot sandbox served, for tests to assert call counts and payloads.

Not the Salesforce sandbox's log: in HubSpot a POST is often a read (search, batch/read), so
"is a write" depends on the kind of request. The Authorization header and the token endpoint's
secrets never enter the log.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

WRITE_KINDS = frozenset(
    {
        "batch_update",
        "batch_upsert",
        "batch_create",
        "property_create",
        "property_group_create",
        "schema_create",
    }
)
SECRET_FORM_FIELDS = frozenset({"client_secret", "refresh_token", "code"})


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    """One request and the status it was answered with."""

    at: datetime
    method: str
    path: str
    params: dict[str, str]
    body: Any  # parsed JSON, the (masked) form of a token request, or None
    kind: str  # "list", "read", "search", "batch_read", "batch_update", "batch_upsert", "owners", …
    status: int

    @property
    def is_write(self) -> bool:
        return self.kind in WRITE_KINDS


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
        status: int | None = None,
        writes: bool | None = None,
    ) -> list[LoggedRequest]:
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
        """How many requests match, e.g. `count(kind="search")` or `count(status=429)`."""
        return len(self.filter(**criteria))

    def kinds(self) -> dict[str, int]:
        """Requests per kind."""
        counts: dict[str, int] = {}
        for entry in self:
            counts[entry.kind] = counts.get(entry.kind, 0) + 1
        return counts


def redact_form(form: dict[str, str]) -> dict[str, str]:
    return {key: ("***" if key in SECRET_FORM_FIELDS else value) for key, value in form.items()}
