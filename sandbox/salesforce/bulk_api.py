"""Bulk API 2.0 query routes under `jobs/query` (docs/crm-apis.md §1.3).

Create (the SOQL checked by the sandbox's evaluator; ORDER BY, LIMIT, OFFSET and aggregates
refused), status (UploadComplete → InProgress → JobComplete over two calls), results as CSV with
`Sforce-Locator` / `Sforce-NumberOfRecords` (412 JOB_NOT_COMPLETE before completion), abort,
delete and list. Refusal codes and wording are the sandbox's [unconfirmed]; statuses are
Salesforce's.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from sandbox.salesforce.bulk_jobs import FINISHED, BulkJob, from_locator, to_locator
from sandbox.salesforce.errors import ApiError, not_found
from sandbox.salesforce.exchange import ApiRequest, ApiResponse, SandboxState
from sandbox.salesforce.soql import BoundQuery, Projector, prepare_query, select_ids
from sandbox.salesforce.soql.binding import Column

OPERATIONS = ("query", "queryAll")
DEFAULT_MAX_RECORDS = 50_000  # "a default based on the service" (§1.3): simple-salesforce's value
FORMAT = {"contentType": "CSV", "columnDelimiter": "COMMA", "lineEnding": "LF"}  # the only one served


def create_job(state: SandboxState, request: ApiRequest) -> ApiResponse:
    """`POST jobs/query` {"operation", "query", …}: a job in UploadComplete."""
    body = request.json()
    if not isinstance(body, dict):
        raise _invalid_job("the request body must be a JSON object")
    operation, text = body.get("operation"), body.get("query")
    if operation not in OPERATIONS:
        raise _invalid_job(f"operation must be one of {', '.join(OPERATIONS)}, not {operation!r}")
    if not isinstance(text, str) or not text.strip():
        raise _invalid_job("query is required")
    for key, value in FORMAT.items():
        if body.get(key, value) != value:
            raise _invalid_job(f"{key} {body[key]!r} is not supported by this sandbox; use {value}")
    org = state.org
    bound = prepare_query(text, org.schema)
    _check_bulk_soql(bound)
    token = request.headers.get("authorization", "").partition(" ")[2].strip()
    with org.lock:
        ids = select_ids(bound, org, include_deleted=operation == "queryAll", today=org.clock.now().date())
        job = state.bulk_jobs.add(
            lambda job_id: BulkJob(
                job_id,
                operation,
                bound,
                ids,
                api_version=request.version,
                created_by=state.tokens.user_for(token),
                created_at=org.clock.now(),
            )
        )
    return ApiResponse(200, job.body())


def get_job(state: SandboxState, request: ApiRequest) -> ApiResponse:
    """`GET jobs/query/{id}`: each call moves an unfinished job on."""
    job = _job(state, request)
    job.poll()
    return ApiResponse(200, job.body())


def list_jobs(state: SandboxState, request: ApiRequest) -> ApiResponse:
    """`GET jobs/query`: every job, one page."""
    records = [job.body() for job in state.bulk_jobs.all()]
    return ApiResponse(200, {"done": True, "records": records, "nextRecordsUrl": None})


def abort_job(state: SandboxState, request: ApiRequest) -> ApiResponse:
    """`PATCH jobs/query/{id}` {"state": "Aborted"}: only an unfinished job can be aborted."""
    job = _job(state, request)
    body = request.json()
    if not isinstance(body, dict) or body.get("state") != "Aborted":
        raise _invalid_job('a query job can only be changed to {"state": "Aborted"}')
    if job.state in FINISHED:
        raise ApiError(400, "INVALIDJOB", f"Job {job.id} is already {job.state} and cannot be aborted")
    job.state = "Aborted"
    return ApiResponse(200, job.body())


def delete_job(state: SandboxState, request: ApiRequest) -> ApiResponse:
    """`DELETE jobs/query/{id}`: not while the job is InProgress."""
    job = _job(state, request)
    if job.state == "InProgress":
        raise ApiError(400, "INVALIDJOB", f"Job {job.id} is InProgress; abort it before deleting it")
    state.bulk_jobs.remove(job.id)
    return ApiResponse(204)


def get_results(state: SandboxState, request: ApiRequest) -> ApiResponse:
    """`GET jobs/query/{id}/results?maxRecords=&locator=`: one result set as CSV."""
    job = _job(state, request)
    if job.state != "JobComplete":
        message = (
            "can only download query results of successfully completed bulk job with status: "
            f"JOB_COMPLETE. Current status: {_status_word(job.state)}"
        )
        raise ApiError(412, "JOB_NOT_COMPLETE", message)
    if request.version != job.api_version:  # §1.3: results need the version that created the job
        raise ApiError(409, "INVALIDJOB", f"Job {job.id} was created with API version {job.api_version}")
    start, size = _window(request, len(job.ids))
    end = min(start + size, len(job.ids))
    with state.org.lock:
        data, count = _csv(state, request, job.bound, job.ids[start:end])
    headers = {
        "Content-Type": "text/csv",
        "Sforce-Locator": to_locator(end) if end < len(job.ids) else "null",
        "Sforce-NumberOfRecords": str(count),
    }
    return ApiResponse(200, data, headers)  # bytes: the server sends them as they are


def _check_bulk_soql(bound: BoundQuery) -> None:
    """What Bulk API 2.0 refuses that REST queries allow (§1.3 "SOQL not supported")."""
    query = bound.query
    refused = [
        ("aggregate functions such as COUNT()", bound.count_only),
        ("ORDER BY", bool(query.order_by)),
        ("LIMIT", query.limit is not None),
        ("OFFSET", query.offset is not None),
    ]
    for what, present in refused:
        if present:
            raise ApiError(400, "INVALIDJOB", f"{what} is not supported by Bulk API 2.0 query jobs")


def _csv(state: SandboxState, request: ApiRequest, bound: BoundQuery, ids: list[str]) -> tuple[bytes, int]:
    """(CSV, rows): the header and one line per record, every value quoted; null is empty."""
    org = state.org
    projector = Projector(
        bound, source=org, schema=org.schema, api_version=request.version, convert=org.to_user_currency
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow([".".join((*column.path.names[:-1], column.key)) for column in bound.columns])
    count = 0
    for record_id in ids:
        record = org.lookup(record_id)
        if record is None:  # purged since the job ran
            continue
        projected = projector.project(record)
        writer.writerow([_cell(column, projected) for column in bound.columns])
        count += 1
    return out.getvalue().encode("utf-8"), count


def _cell(column: Column, projected: dict[str, Any]) -> str:
    value: Any = projected
    for name in (*column.path.names[:-1], column.key):
        value = value.get(name) if isinstance(value, dict) else None
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if column.path.field.type == "datetime" and isinstance(value, str) and value.endswith("+0000"):
        return value[: -len("+0000")] + "Z"  # Bulk CSV spells UTC `Z`, REST JSON `+0000`
    return str(value)


def _window(request: ApiRequest, total: int) -> tuple[int, int]:
    """(first row, rows) asked for by `locator` and `maxRecords`."""
    raw_size = request.params.get("maxRecords", str(DEFAULT_MAX_RECORDS))
    if not raw_size.isdigit() or int(raw_size) < 1:
        raise ApiError(400, "INVALIDJOB", f"maxRecords must be a positive integer, not {raw_size!r}")
    locator = request.params.get("locator") or None
    start = 0 if locator is None else from_locator(locator)
    if start is None or start > total:
        raise ApiError(400, "INVALIDLOCATOR", f"Invalid locator: {locator}")
    return start, int(raw_size)


def _job(state: SandboxState, request: ApiRequest) -> BulkJob:
    job = state.bulk_jobs.get(request.route["job"])
    if job is None:
        raise not_found()
    return job


def _status_word(job_state: str) -> str:
    return {"UploadComplete": "UPLOAD_COMPLETE", "InProgress": "IN_PROGRESS"}.get(
        job_state, job_state.upper()
    )


def _invalid_job(message: str) -> ApiError:
    return ApiError(400, "INVALIDJOB", message)
