"""The fewest Salesforce API calls one stream's pull can take (docs/crm-apis.md §7.1), for the
benchmark JSON's per-stream "calls" / "minimum_calls".

- REST: ⌈n/2000⌉ query pages (one even for an empty window).
- Bulk API 2.0: 2 calls (the REST page whose totalSize chose Bulk, and the job's create) +
  ⌈n/50000⌉ result sets + ⌈log2(seconds)⌉ status polls (at least one) for a job of that many
  seconds: no client can learn that a job finished with fewer polls than a doubling wait takes.
- Plus the describes the stream is the first to need in its run, and the token request.
"""

from __future__ import annotations

import math
from typing import Any

REST_PAGE_ROWS = 2_000  # §1.1: the largest query page
BULK_RESULT_ROWS = 50_000  # §1.3: connectors.salesforce.bulk.RESULT_SET_ROWS


def bulk_polls(job_seconds: float | None) -> int:
    """Status polls of a job taking `job_seconds` (None: unknown, the one poll that finds it done)."""
    if job_seconds is None or job_seconds <= 2:
        return 1
    return math.ceil(math.log2(job_seconds))


def minimum_calls(
    rows: int, *, bulk: bool, job_seconds: float | None = None, describes: int = 0, token: int = 0
) -> int:
    """The fewest calls a pull of `rows` rows can make: REST pages, or a Bulk job's calls, plus
    `describes` (objects this stream is the first to describe in the run; 0 when a run with
    nothing changed checks them all with one Describe Global, counted on the first stream) and
    `token` (1 on the run's first stream with an OAuth flow)."""
    if bulk:
        pull = 2 + max(1, math.ceil(rows / BULK_RESULT_ROWS)) + bulk_polls(job_seconds)
    else:
        pull = max(1, math.ceil(rows / REST_PAGE_ROWS))
    return pull + describes + token


def stream_calls(
    calls: int,
    rows: int,
    *,
    bulk: bool,
    job_seconds: float | None = None,
    describes: int = 0,
    token: int = 0,
) -> dict[str, Any]:
    """The benchmark JSON's per-stream entry: `calls` made beside `minimum_calls` and their ratio."""
    minimum = minimum_calls(rows, bulk=bulk, job_seconds=job_seconds, describes=describes, token=token)
    return {"calls": calls, "minimum_calls": minimum, "calls_over_minimum": round(calls / minimum, 3)}
