"""`GET query?q=`, `queryAll?q=` and queryMore (`query/{locator}-{offset}`), paged as Salesforce does.

Pages hold 2,000 records unless `Sforce-Query-Options: batchSize=N` asks for fewer (clamped to
200..2,000), or two long-text fields are selected (then 200). The first call snapshots the matching
ids in a cursor; `nextRecordsUrl` is host-relative and absent on the last page (§1.1).
"""

from __future__ import annotations

import re
from typing import Any

from sandbox.salesforce.errors import ApiError, malformed_query
from sandbox.salesforce.exchange import ApiRequest, ApiResponse, SandboxState
from sandbox.salesforce.query_cursors import QueryCursor
from sandbox.salesforce.soql import BoundQuery, Projector, prepare_query, select_ids

DEFAULT_BATCH_SIZE = 2_000
MIN_BATCH_SIZE = 200
LONG_TEXT_BATCH_SIZE = 200
_BATCH_OPTION = re.compile(r"batchSize\s*=\s*(\d+)", re.IGNORECASE)


def run_query(state: SandboxState, request: ApiRequest) -> ApiResponse:
    """The first page of a query (`query`) or of a query including deleted rows (`queryAll`)."""
    text = request.params.get("q", "")
    if not text.strip():
        raise malformed_query("A query string must be provided")
    endpoint = "queryAll" if request.route["endpoint"].lower() == "queryall" else "query"
    bound = prepare_query(text, state.org.schema)
    org = state.org
    with org.lock:
        ids = select_ids(bound, org, include_deleted=endpoint == "queryAll", today=org.clock.now().date())
        if bound.count_only:
            return ApiResponse(200, _page_body([], total=len(ids), next_url=None))
        batch_size = requested_batch_size(request, bound) or DEFAULT_BATCH_SIZE
        next_url = None
        if len(ids) > batch_size:
            cursor = state.cursors.open(bound, ids, endpoint=endpoint, batch_size=batch_size)
            next_url = _next_url(request, cursor, batch_size)
        records = _records(state, request, bound, ids[:batch_size])
        return ApiResponse(200, _page_body(records, total=len(ids), next_url=next_url))


def query_more(state: SandboxState, request: ApiRequest) -> ApiResponse:
    """The page of an open cursor starting at the offset in the locator."""
    cursor = state.cursors.get(request.route["locator"])
    offset = int(request.route["offset"])
    if cursor is None or offset > len(cursor.ids):
        raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    batch_size = requested_batch_size(request, cursor.bound) or cursor.batch_size
    end = offset + batch_size
    with state.org.lock:
        cursor.finished = cursor.finished or end >= len(cursor.ids)
        next_url = None if end >= len(cursor.ids) else _next_url(request, cursor, end)
        records = _records(state, request, cursor.bound, cursor.ids[offset:end])
        return ApiResponse(200, _page_body(records, total=len(cursor.ids), next_url=next_url))


def requested_batch_size(request: ApiRequest, bound: BoundQuery) -> int | None:
    """The page size asked for, clamped to what Salesforce allows; None for the default."""
    long_text = sum(1 for column in bound.columns if column.path.field.is_long_text)
    if long_text >= 2:
        return LONG_TEXT_BATCH_SIZE
    match = _BATCH_OPTION.search(request.headers.get("sforce-query-options", ""))
    if not match:
        return None
    return min(max(int(match.group(1)), MIN_BATCH_SIZE), DEFAULT_BATCH_SIZE)


def _records(
    state: SandboxState, request: ApiRequest, bound: BoundQuery, ids: list[str]
) -> list[dict[str, Any]]:
    """The JSON records of `ids` as they are now (a record purged since the snapshot is skipped)."""
    org = state.org
    projector = Projector(
        bound, source=org, schema=org.schema, api_version=request.version, convert=org.to_user_currency
    )
    return [projector.project(record) for record_id in ids if (record := org.lookup(record_id)) is not None]


def _next_url(request: ApiRequest, cursor: QueryCursor, offset: int) -> str:
    """Host-relative, as Salesforce sends it: `/services/data/v59.0/query/01g…-2000`."""
    return f"{request.url_prefix()}/{cursor.endpoint}/{cursor.locator}-{offset}"


def _page_body(records: list[dict[str, Any]], *, total: int, next_url: str | None) -> dict[str, Any]:
    page: dict[str, Any] = {"totalSize": total, "done": next_url is None}
    if next_url is not None:
        page["nextRecordsUrl"] = next_url
    page["records"] = records
    return page
