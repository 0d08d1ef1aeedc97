"""When each object's metadata last changed, by the sandbox clock, for `If-Modified-Since`.

Tests change the schema in many ways (fields added, removed, made read-only, record types), so
a change is noticed, not only declared: each describe body is fingerprinted when served, and a
new fingerprint dates the object's change to when the schema said it changed (`Schema`'s
change hook calls `touch`), or else to the moment it is served, never earlier than the change.
Metadata never served before dates from `baseline`, the seeded org's (docs/crm-apis.md §1.12).
"""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any


class MetadataDates:
    def __init__(self, baseline: datetime) -> None:
        self._baseline = baseline
        self._seen: dict[str, tuple[str, datetime]] = {}  # object → (fingerprint, changed at)
        self._touched: dict[str, datetime] = {}  # object → first change since it was last served
        self._lock = threading.Lock()

    def touch(self, object_name: str, at: datetime) -> None:
        """The schema changed `object_name` at `at`."""
        with self._lock:
            self._touched.setdefault(object_name.lower(), at)

    def modified_at(self, object_name: str, body: Any, now: datetime) -> datetime:
        """When `body`, the object's describe as served now, last changed."""
        digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
        with self._lock:
            touched = self._touched.pop(object_name.lower(), None)
            seen = self._seen.get(object_name)
            if seen is None:
                seen = (digest, self._baseline)
            elif seen[0] != digest:
                seen = (digest, touched or now)
            self._seen[object_name] = seen
            return seen[1]


def not_modified(modified_at: datetime, header: str | None) -> bool:
    """Whether `If-Modified-Since: header` lets the server answer 304: HTTP dates have whole
    seconds, so the change is compared at that precision (as a strict server would)."""
    if not header:
        return False
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return False  # an unreadable date is ignored, as HTTP says
    if since.tzinfo is None:
        return False
    return modified_at.replace(microsecond=0) <= since
