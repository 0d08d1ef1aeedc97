"""Single-record sObject routes: read, create, update, delete, and read/upsert by external id.

These are what simple-salesforce's `sf.<Object>.get/create/update/delete/upsert` call; errors are
request-level (`[{"message", "errorCode", "fields"}]`, status 400 or 404).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sandbox.salesforce.collections_api import plan_upsert
from sandbox.salesforce.errors import ApiError, RecordError, not_found
from sandbox.salesforce.exchange import ApiRequest, ApiResponse, SandboxState
from sandbox.salesforce.ids import is_valid_id
from sandbox.salesforce.schema import FieldDef, ObjectDef
from sandbox.salesforce.values import wire_formatter

T = TypeVar("T")


def get_record(state: SandboxState, request: ApiRequest) -> ApiResponse:
    definition = _object(state, request)
    record_id = request.route["id"]
    with state.org.lock:
        record = state.org.get(definition.name, record_id) if is_valid_id(record_id) else None
        if record is None:
            raise not_found()
        if record.get("IsDeleted"):
            raise ApiError(404, "ENTITY_IS_DELETED", "entity is deleted")
        return ApiResponse(200, _record_body(request, definition, record))


def get_by_external_id(state: SandboxState, request: ApiRequest) -> ApiResponse:
    definition = _object(state, request)
    key_field = _external_id_field(definition, request.route["field"])
    matches = state.org.find_ids(definition.name, key_field.name, request.route["value"])
    if not matches:
        raise not_found()
    if len(matches) > 1:
        prefix = request.url_prefix()
        return ApiResponse(300, [f"{prefix}/sobjects/{definition.name}/{record_id}" for record_id in matches])
    record = state.org.get(definition.name, matches[0]) or {}
    return ApiResponse(200, _record_body(request, definition, record))


def create_record(state: SandboxState, request: ApiRequest) -> ApiResponse:
    definition = _object(state, request)
    fields = _body_fields(request)
    with state.org.lock:
        _rejection(state, definition.name, None, fields)
        record_id = _saved(lambda: state.org.insert(definition.name, fields, enforce_access=True))
    return ApiResponse(201, {"id": record_id, "success": True, "errors": []})


def update_record(state: SandboxState, request: ApiRequest) -> ApiResponse:
    definition = _object(state, request)
    fields = _body_fields(request)
    with state.org.lock:
        _rejection(state, definition.name, request.route["id"], fields)
        _saved(lambda: state.org.update(definition.name, request.route["id"], fields, enforce_access=True))
    return ApiResponse(204)


def delete_record(state: SandboxState, request: ApiRequest) -> ApiResponse:
    definition = _object(state, request)
    with state.org.lock:
        _rejection(state, definition.name, request.route["id"], {})
        _saved(lambda: state.org.delete(definition.name, request.route["id"]))
    return ApiResponse(204)


def upsert_record(state: SandboxState, request: ApiRequest) -> ApiResponse:
    """`PATCH sobjects/{object}/{field}/{value}`: 201 when created, 200 when updated."""
    definition = _object(state, request)
    key_field = _external_id_field(definition, request.route["field"])
    fields = {**_body_fields(request), key_field.name: request.route["value"]}
    with state.org.lock:
        outcome = _saved(lambda: plan_upsert(state, definition, key_field, fields, set()))
        assert outcome.write is not None
        record_id = state.org.apply(outcome.write)
    body = {"id": record_id, "success": True, "errors": [], "created": bool(outcome.created)}
    return ApiResponse(201 if outcome.created else 200, body)


def _object(state: SandboxState, request: ApiRequest) -> ObjectDef:
    definition = state.org.schema.object(request.route["object"])
    if definition is None:
        raise not_found()
    return definition


def _external_id_field(definition: ObjectDef, name: str) -> FieldDef:
    key_field = definition.field(name)
    if key_field is None or not key_field.external_id:
        raise ApiError(
            400, "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {name}"
        )
    return key_field


def _body_fields(request: ApiRequest) -> dict[str, Any]:
    body = request.json()
    if not isinstance(body, dict):
        raise ApiError(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")
    return {key: value for key, value in body.items() if key != "attributes"}


def _record_body(request: ApiRequest, definition: ObjectDef, record: dict[str, Any]) -> dict[str, Any]:
    wanted = [f for f in request.params.get("fields", "").split(",") if f]
    fields = [definition.field(name) for name in wanted] if wanted else list(definition.fields.values())
    if any(field is None for field in fields):
        missing = next(name for name, field in zip(wanted, fields, strict=True) if field is None)
        raise ApiError(
            400, "INVALID_FIELD", f"No such column '{missing}' on sobject of type {definition.name}"
        )
    url = f"{request.url_prefix()}/sobjects/{definition.name}/{record['Id']}"
    body: dict[str, Any] = {"attributes": {"type": definition.name, "url": url}}
    for field in fields:
        assert field is not None
        body[field.name] = wire_formatter(field)(record.get(field.name))
    return body


def _rejection(state: SandboxState, object_name: str, record_id: str | None, fields: dict[str, Any]) -> None:
    rejection = state.faults.write_rejection(object_name, record_id, fields)
    if rejection is not None:
        raise ApiError(400, rejection.status_code, rejection.message)


def _saved(action: Callable[[], T]) -> T:
    """Run a write; a per-record error becomes the request's 400 error (404 for a missing record)."""
    try:
        return action()
    except RecordError as error:
        missing = error.status_code == "INVALID_CROSS_REFERENCE_KEY" and not error.fields
        if missing or error.status_code == "ENTITY_IS_DELETED":
            raise ApiError(404, "NOT_FOUND" if missing else error.status_code, error.message) from None
        raise ApiError(400, error.status_code, error.message, fields=error.fields) from None
