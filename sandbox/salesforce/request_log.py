"""Every request the sandbox served, for tests to assert call counts and payloads.

Secrets never enter the log: the Authorization header is reduced to its scheme, and the token
endpoint's client secret, password and assertion are masked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sandbox.request_log import RequestLog as SharedLog
from sandbox.request_log import mask_form

LOGGED_HEADERS = (
    "Sforce-Query-Options", "Content-Type", "Accept", "User-Agent", "Authorization", "If-Modified-Since",
)  # fmt: skip
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


RequestLog = SharedLog[LoggedRequest]  # the shared, thread-safe log, of this sandbox's entries


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    """The logged subset of the headers, with only the scheme of Authorization."""
    kept = {name: headers[name.lower()] for name in LOGGED_HEADERS if name.lower() in headers}
    if "Authorization" in kept:
        kept["Authorization"] = kept["Authorization"].split(" ", 1)[0] + " ***"
    return kept


def redact_form(form: dict[str, str]) -> dict[str, str]:
    return mask_form(form, SECRET_FORM_FIELDS)
