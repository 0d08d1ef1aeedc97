"""Bulk API 2.0 query jobs of the sandbox: state, the ids they matched, and result-set locators.

A job matches its ids when created (values are read when a result set is served, as query
cursors do) and completes over status calls: UploadComplete → InProgress → JobComplete
(docs/crm-apis.md §1.3). By default a job completes on its second status call; with
`BulkJobs(seconds=N)` it completes N seconds of wall time after it was created, whatever the
calls, as a real job does (a client's polling schedule is then measured, not assumed). Serves
no HTTP; `bulk_api.py` does.
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sandbox.salesforce.ids import IdSequence
from sandbox.salesforce.soql import BoundQuery
from sandbox.salesforce.values import format_datetime

JOB_KEY_PREFIX = "750"  # AsyncApexJob ids, as in simple-salesforce's fixture (§1.3 "Job JSON")
POLLS_TO_COMPLETE = 2  # status calls a job takes to finish: the first sees InProgress
FINISHED = frozenset({"JobComplete", "Failed", "Aborted"})


@dataclass(slots=True)
class BulkJob:
    """One query job; `ids` are the matching records, in the order their result sets serve them."""

    id: str
    operation: str  # "query" or "queryAll"
    bound: BoundQuery
    ids: list[str]
    api_version: str
    created_by: str | None
    created_at: datetime
    state: str = "UploadComplete"
    polls: int = 0
    # Monotonic time at which the job completes; None: on its POLLS_TO_COMPLETE-th status call.
    completes_at: float | None = None

    def poll(self) -> None:
        """One status call: the job moves on until it is complete."""
        if self.state in FINISHED:
            return
        self.polls += 1
        if self.completes_at is not None:
            done = time.monotonic() >= self.completes_at
        else:
            done = self.polls >= POLLS_TO_COMPLETE
        self.state = "JobComplete" if done else "InProgress"

    def body(self) -> dict[str, Any]:
        """The job JSON Salesforce answers with (§1.3 "Job JSON")."""
        done = self.state == "JobComplete"
        return {
            "id": self.id,
            "operation": self.operation,
            "object": self.bound.object.name,
            "createdById": self.created_by,
            "createdDate": format_datetime(self.created_at),
            "state": self.state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(self.api_version),
            "jobType": "V2Query",
            "lineEnding": "LF",
            "columnDelimiter": "COMMA",
            "numberRecordsProcessed": len(self.ids) if done else 0,
            "retries": 0,
            "totalProcessingTime": 0,
        }


class BulkJobs:
    """Jobs by id, oldest first; thread-safe."""

    def __init__(self, *, seconds: float | None = None) -> None:
        """`seconds`: wall time each job takes to complete; None: two status calls."""
        self._lock = threading.Lock()
        self._jobs: dict[str, BulkJob] = {}
        self._ids = IdSequence(JOB_KEY_PREFIX)
        self.seconds = seconds

    def add(self, job_for: Callable[[str], BulkJob]) -> BulkJob:
        """Store the job `job_for(new id)` builds."""
        with self._lock:
            job = job_for(self._ids.next_id())
            if self.seconds is not None:
                job.completes_at = time.monotonic() + self.seconds
            self._jobs[job.id] = job
            return job

    def get(self, job_id: str) -> BulkJob | None:
        with self._lock:
            return self._jobs.get(job_id)

    def remove(self, job_id: str) -> None:
        with self._lock:
            self._jobs.pop(job_id, None)

    def all(self) -> list[BulkJob]:
        with self._lock:
            return list(self._jobs.values())


def to_locator(offset: int) -> str:
    """An opaque locator like Salesforce's `MTAwMDA` (base64 of the offset, unpadded)."""
    return base64.b64encode(str(offset).encode()).decode().rstrip("=")


def from_locator(locator: str) -> int | None:
    """The offset a locator stands for; None for one this sandbox did not hand out."""
    try:
        text = base64.b64decode(locator + "=" * (-len(locator) % 4), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None
