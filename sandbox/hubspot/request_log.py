"""Every request the HubSpot sandbox served, for tests to assert call counts and payloads.

Not the Salesforce sandbox's log: in HubSpot a POST is often a read (search, batch/read), so
"is a write" depends on the kind of request. The Authorization header and the token endpoint's
secrets never enter the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sandbox.request_log import RequestLog as SharedLog
from sandbox.request_log import mask_form

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


RequestLog = SharedLog[LoggedRequest]  # the shared, thread-safe log, of this sandbox's entries


def redact_form(form: dict[str, str]) -> dict[str, str]:
    return mask_form(form, SECRET_FORM_FIELDS)
