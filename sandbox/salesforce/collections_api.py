"""sObject Collections: `composite/sobjects` update (PATCH), create (POST), delete (DELETE) and
upsert by external id (`PATCH composite/sobjects/{object}/{field}`), docs/crm-apis.md §1.4.

At most 200 records a call. Every record is checked first; with `allOrNone` one failure rolls the
whole call back (the others report ALL_OR_NONE_OPERATION_ROLLED_BACK), without it the valid
records are written. Results come back in request order; per-record errors use `statusCode`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sandbox.salesforce.errors import ApiError, RecordError, not_found
from sandbox.salesforce.exchange import ApiRequest, ApiResponse, SandboxState
from sandbox.salesforce.ids import is_valid_id, to_id18
from sandbox.salesforce.org import PendingWrite
from sandbox.salesforce.schema import FieldDef, ObjectDef

MAX_RECORDS = 200
ROLLED_BACK = RecordError(
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "Record rolled back because not all records were valid and the request was using AllOrNone header",
)
BODY_KEYS = frozenset({"attributes", "id"})


@dataclass(slots=True)
class _Outcome:
    """What happened to one record before anything was written."""

    record_id: str | None  # reported in the result
    write: PendingWrite | None = None
    error: RecordError | None = None
    created: bool | None = None  # upserts only


def update_records(state: SandboxState, request: ApiRequest) -> ApiResponse:
    records, all_or_none = _collection_body(request)
    with state.org.lock:
        outcomes = [_attempt(record, lambda r: _plan_update(state, r)) for record in records]
        return ApiResponse(200, _commit(state, outcomes, all_or_none))


def create_records(state: SandboxState, request: ApiRequest) -> ApiResponse:
    records, all_or_none = _collection_body(request)
    with state.org.lock:
        outcomes = [_attempt(record, lambda r: _plan_create(state, r)) for record in records]
        return ApiResponse(200, _commit(state, outcomes, all_or_none))


def delete_records(state: SandboxState, request: ApiRequest) -> ApiResponse:
    ids = [i for i in request.params.get("ids", "").split(",") if i]
    if len(ids) > MAX_RECORDS:
        raise _too_many()
    all_or_none = request.params.get("allOrNone", "false").lower() == "true"
    with state.org.lock:
        outcomes = [_attempt({"id": record_id}, lambda r: _plan_delete(state, r["id"])) for record_id in ids]
        return ApiResponse(200, _commit(state, outcomes, all_or_none))


def upsert_records(state: SandboxState, request: ApiRequest) -> ApiResponse:
    definition = state.org.schema.object(request.route["object"])
    if definition is None:
        raise not_found()
    key_field = definition.field(request.route["field"])
    if key_field is None or not key_field.external_id:
        message = f"Field name provided, {request.route['field']} is not an External ID or indexed field for {definition.name}"
        raise ApiError(400, "INVALID_FIELD", message)
    records, all_or_none = _collection_body(request)
    keys = [_key_of(record, key_field) for record in records]
    duplicates = {k for k in keys if k is not None and keys.count(k) > 1}
    with state.org.lock:
        outcomes = [
            _attempt(record, lambda r: plan_upsert(state, definition, key_field, r, duplicates))
            for record in records
        ]
        return ApiResponse(200, _commit(state, outcomes, all_or_none))


def plan_upsert(
    state: SandboxState,
    definition: ObjectDef,
    key_field: FieldDef,
    record: Mapping[str, Any],
    duplicates: set[str],
) -> _Outcome:
    """Check one upsert: an update of the record holding the external id, or an insert."""
    declared = _declared_type(record, required=False)
    if declared is not None and declared.lower() != definition.name.lower():
        raise RecordError("INVALID_TYPE", f"Record type {declared} does not match {definition.name}")
    if _record_id(record) is not None:
        raise RecordError("INVALID_FIELD", "Id is not allowed in an upsert by external id", fields=["Id"])
    key = _key_of(record, key_field)
    if key is None:
        raise RecordError("MISSING_ARGUMENT", f"{key_field.name} not specified", fields=[key_field.name])
    if key in duplicates:
        raise RecordError(
            "DUPLICATE_EXTERNAL_ID", f"Duplicate external id specified: {key}", fields=[key_field.name]
        )
    fields = _fields(record)
    matches = state.org.find_ids(definition.name, key_field.name, key)
    if len(matches) > 1:
        message = f"{key_field.label}: more than one record found for external id field: {matches}"
        raise RecordError("DUPLICATE_EXTERNAL_ID", message, fields=[key_field.name])
    target = matches[0] if matches else None
    _check_rejection(state, definition.name, target, fields)
    if target is None:
        return _Outcome(
            None, state.org.prepare_insert(definition.name, fields, enforce_access=True), created=True
        )
    write = state.org.prepare_update(definition.name, target, fields, enforce_access=True)
    return _Outcome(target, write, created=False)


def _collection_body(request: ApiRequest) -> tuple[list[Any], bool]:
    body = request.json()
    records = body.get("records") if isinstance(body, dict) else None
    if not isinstance(records, list):
        raise ApiError(400, "JSON_PARSER_ERROR", "The request body must be an object with a records array")
    if len(records) > MAX_RECORDS:
        raise _too_many()
    return records, bool(body.get("allOrNone", False))


def _too_many() -> ApiError:
    return ApiError(
        400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records into this call"
    )


def _attempt(record: Any, plan: Callable[[Mapping[str, Any]], _Outcome]) -> _Outcome:
    raw_id = _record_id(record) if isinstance(record, dict) else None
    try:
        if not isinstance(record, dict):
            raise RecordError("JSON_PARSER_ERROR", "each record must be a JSON object")
        return plan(record)
    except RecordError as error:
        valid = isinstance(raw_id, str) and is_valid_id(raw_id) and error.status_code != "MALFORMED_ID"
        return _Outcome(to_id18(raw_id) if valid and isinstance(raw_id, str) else None, error=error)


def _plan_update(state: SandboxState, record: Mapping[str, Any]) -> _Outcome:
    object_name = _object_name(state, record)
    record_id = _record_id(record)
    if not record_id:
        raise RecordError("MISSING_ARGUMENT", "Id not specified in an update call")
    fields = _fields(record)
    _check_rejection(state, object_name, str(record_id), fields)
    write = state.org.prepare_update(object_name, str(record_id), fields, enforce_access=True)
    return _Outcome(write.record_id, write)


def _plan_create(state: SandboxState, record: Mapping[str, Any]) -> _Outcome:
    object_name = _object_name(state, record)
    if _record_id(record):
        raise RecordError("INVALID_FIELD", "cannot specify Id in an insert call", fields=["Id"])
    fields = _fields(record)
    _check_rejection(state, object_name, None, fields)
    return _Outcome(None, state.org.prepare_insert(object_name, fields, enforce_access=True))


def _plan_delete(state: SandboxState, record_id: str) -> _Outcome:
    definition = state.org.schema.object_for_id(record_id) if is_valid_id(record_id) else None
    if definition is None:
        raise RecordError("MALFORMED_ID", f"malformed id {record_id}")
    _check_rejection(state, definition.name, record_id, {})
    write = state.org.prepare_delete(definition.name, record_id)
    return _Outcome(write.record_id, write)


def _commit(state: SandboxState, outcomes: list[_Outcome], all_or_none: bool) -> list[dict[str, Any]]:
    if all_or_none and any(outcome.error for outcome in outcomes):
        return [_result(o.record_id, o.error or ROLLED_BACK, o.created) for o in outcomes]
    results = []
    for outcome in outcomes:
        if outcome.write is not None and outcome.error is None:
            outcome.record_id = state.org.apply(outcome.write)
        results.append(_result(outcome.record_id, outcome.error, outcome.created))
    return results


def _result(record_id: str | None, error: RecordError | None, created: bool | None) -> dict[str, Any]:
    result: dict[str, Any] = {"id": record_id} if record_id else {}
    result["success"] = error is None
    result["errors"] = [] if error is None else [error.body()]
    if created is not None:
        result["created"] = created and error is None
    return result


def _declared_type(record: Mapping[str, Any], *, required: bool) -> str | None:
    attributes = record.get("attributes")
    declared = attributes.get("type") if isinstance(attributes, dict) else None
    if declared is None and required:
        raise RecordError("INVALID_TYPE", "Must send a concrete entity type.")
    return str(declared) if declared is not None else None


def _object_name(state: SandboxState, record: Mapping[str, Any]) -> str:
    declared = _declared_type(record, required=True)
    definition = state.org.schema.object(declared or "")
    if definition is None:
        raise RecordError("INVALID_TYPE", f"sObject type '{declared}' is not supported.")
    return definition.name


def _fields(record: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if key.lower() not in BODY_KEYS}


def _record_id(record: Mapping[str, Any]) -> Any:
    """The record's `id` (JSON keys are case-insensitive to Salesforce)."""
    return next((value for key, value in record.items() if key.lower() == "id"), None)


def _key_of(record: Any, key_field: FieldDef) -> str | None:
    """The record's external id value, lower-cased (external ids match case-insensitively)."""
    if not isinstance(record, dict):
        return None
    value = next((v for k, v in record.items() if k.lower() == key_field.name.lower()), None)
    return None if value in (None, "") else str(value).lower()


def _check_rejection(
    state: SandboxState, object_name: str, record_id: str | None, fields: Mapping[str, Any]
) -> None:
    rejection = state.faults.write_rejection(object_name, record_id, fields)
    if rejection is not None:
        raise rejection
