"""The objects API: list, read one, and batch read/update/upsert (docs/crm-apis.md §3.1, §3.3).

Batches take at most 100 inputs. Inputs that fail (unknown id, injected rejection) are answered
with HTTP 207: the good inputs are applied and listed in `results`, the failures in `errors`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sandbox.hubspot.exchange import ApiRequest, ApiResponse, HubSpotError, validation_error
from sandbox.hubspot.faults import InputRejection
from sandbox.hubspot.portal import HsRecord, ObjectType
from sandbox.hubspot.state import SandboxState
from sandbox.hubspot.values import to_hs_time

LIST_DEFAULT_LIMIT = 10
LIST_MAX_LIMIT = 100  # §3.1
BATCH_MAX_INPUTS = 100  # §3.3


def list_objects(state: SandboxState, request: ApiRequest) -> ApiResponse:
    """`GET /crm/v3/objects/{type}`: id order, paged by `after` (the next id)."""
    object_type = state.portal.object_type(request.route["type"])
    limit = _int_param(request, "limit", LIST_DEFAULT_LIMIT)
    if not 0 < limit <= LIST_MAX_LIMIT:
        raise validation_error(f"limit must be between 1 and {LIST_MAX_LIMIT}")
    after = _int_param(request, "after", 0)
    archived = (request.param("archived") or "false").lower() == "true"
    names = object_type.known(request.csv_param("properties") or object_type.default_properties)
    page: list[HsRecord] = []
    following: HsRecord | None = None
    with state.portal.lock:
        for record in object_type.iter_from(after - 1 if after else 0):
            if record.archived != archived:
                continue
            if len(page) == limit:
                following = record
                break
            page.append(record)
        body: dict[str, Any] = {"results": [record.to_json(names) for record in page]}
    if following is not None:
        link = f"{state.base_url}{request.path}?limit={limit}&after={following.id}"
        body["paging"] = {"next": {"after": following.id, "link": link}}
    return ApiResponse(200, body)


def read_object(state: SandboxState, request: ApiRequest) -> ApiResponse:
    """`GET /crm/v3/objects/{type}/{id}` (optionally `idProperty`): 404 when absent."""
    object_type = state.portal.object_type(request.route["type"])
    archived = (request.param("archived") or "false").lower() == "true"
    names = object_type.known(request.csv_param("properties") or object_type.default_properties)
    with state.portal.lock:
        record = _find(object_type, request.route["id"], request.param("idProperty"))
        if record is None or record.archived != archived:
            raise HubSpotError(404, "Object not found.", category="OBJECT_NOT_FOUND")
        return ApiResponse(200, record.to_json(names))


def batch_read(state: SandboxState, request: ApiRequest) -> ApiResponse:
    object_type = state.portal.object_type(request.route["type"])
    body = request.json_object()
    inputs = _inputs(body)
    id_property = body.get("idProperty")
    names = object_type.known(body.get("properties") or object_type.default_properties)
    started = state.portal.clock.now()
    results, missing = [], []
    with state.portal.lock:
        for item in inputs:
            record = _find(object_type, str(item.get("id")), id_property)
            if record is None or record.archived:
                missing.append(str(item.get("id")))
            else:
                results.append(record.to_json(names))
    errors = [_not_found(object_type, missing)] if missing else []
    return _batch_response(results, errors, started, state.portal.clock.now())


def batch_update(state: SandboxState, request: ApiRequest) -> ApiResponse:
    """Inputs `{id, properties}` (or `{id: <unique value>, idProperty}`); applied one by one."""
    object_type = state.portal.object_type(request.route["type"])
    inputs = _inputs(request.json_object())
    _check_duplicates(item.get("id") for item in inputs)
    _check_properties(object_type, inputs)
    started = state.portal.clock.now()
    results, errors, missing = [], [], []
    with state.portal.lock:
        for item in inputs:
            record = _find(object_type, str(item.get("id")), item.get("idProperty"))
            if record is None or record.archived:
                missing.append(str(item.get("id")))
                continue
            rejection = state.faults.input_rejection(record.id, str(item.get("id")))
            if rejection is not None:
                errors.append(_input_error(rejection, str(item.get("id"))))
                continue
            values = _writable(object_type, item.get("properties") or {})
            record = state.portal.update(object_type.name, record.id, values)
            results.append(record.to_json(_touched(values)))
    errors += [_not_found(object_type, missing)] if missing else []
    return _batch_response(results, errors, started, state.portal.clock.now())


def batch_upsert(state: SandboxState, request: ApiRequest) -> ApiResponse:
    """Inputs `{id: <unique value>, idProperty, properties}`: update the record holding that value, or create it."""
    object_type = state.portal.object_type(request.route["type"])
    inputs = _inputs(request.json_object())
    _check_duplicates(item.get("id") for item in inputs)
    _check_properties(object_type, inputs)
    for item in inputs:
        _check_id_property(object_type, item.get("idProperty"))
    started = state.portal.clock.now()
    results, errors = [], []
    with state.portal.lock:
        for item in inputs:
            key, id_property = str(item.get("id")), str(item["idProperty"])
            rejection = state.faults.input_rejection(key)
            if rejection is not None:
                errors.append(_input_error(rejection, key))
                continue
            values = _writable(object_type, item.get("properties") or {})
            existing = object_type.find_unique(id_property, key)
            if existing is None:
                record = state.portal.create(object_type.name, {**values, id_property: key})
            else:
                record = state.portal.update(object_type.name, existing.id, values)
            body = record.to_json(_touched({**values, id_property: key}))
            results.append(body | {"new": existing is None})
    return _batch_response(results, errors, started, state.portal.clock.now())


def _int_param(request: ApiRequest, name: str, default: int) -> int:
    raw = request.param(name)
    try:
        return default if raw in (None, "") else int(raw)
    except ValueError:
        raise validation_error(f"{name} must be an integer, was {raw!r}") from None


def _inputs(body: dict[str, Any]) -> list[dict[str, Any]]:
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not all(isinstance(item, dict) for item in inputs):
        raise validation_error("inputs must be a list of objects")
    if len(inputs) > BATCH_MAX_INPUTS:
        raise validation_error(f"Batch input is limited to {BATCH_MAX_INPUTS} inputs, got {len(inputs)}",
                               context={"inputs": [str(len(inputs))]})  # fmt: skip
    return inputs


def _check_duplicates(ids: Iterable[object]) -> None:
    counts = Counter(str(i) for i in ids)
    duplicates = sorted(key for key, n in counts.items() if n > 1)
    if duplicates:
        raise validation_error(f"Duplicate IDs found in batch input: {duplicates}. IDs must be unique")


def _check_properties(object_type: ObjectType, inputs: list[dict[str, Any]]) -> None:
    unknown = sorted(
        {
            name
            for item in inputs
            for name in (item.get("properties") or {})
            if name not in object_type.properties
        }
    )
    if unknown:
        details = [{"isValid": False, "message": f'Property "{name}" does not exist', "error": "PROPERTY_DOESNT_EXIST",
                    "name": name} for name in unknown]  # fmt: skip
        raise validation_error(f"Property values were not valid: {details}",
                               errors=[{"message": f'Property "{n}" does not exist', "code": "PROPERTY_DOESNT_EXIST",
                                        "context": {"propertyName": [n]}} for n in unknown])  # fmt: skip


def _check_id_property(object_type: ObjectType, id_property: object) -> None:
    if not id_property:
        raise validation_error("idProperty is required for upsert")
    definition = object_type.properties.get(str(id_property))
    if definition is None or not definition.has_unique_value:
        raise validation_error(f"Property {id_property} is not a unique identifier property; "
                               "upsert needs a property with hasUniqueValue")  # fmt: skip


def _find(object_type: ObjectType, key: str, id_property: object) -> HsRecord | None:
    if id_property and id_property != "hs_object_id":
        return object_type.find_unique(str(id_property), key)
    return object_type.records.get(key)


def _writable(object_type: ObjectType, properties: dict[str, Any]) -> dict[str, Any]:
    # Read-only values are ignored on update, not refused (docs/crm-apis.md §3.6).
    return {name: value for name, value in properties.items() if not object_type.properties[name].read_only}


def _touched(values: dict[str, Any]) -> list[str]:
    return [*values, "hs_object_id", "hs_lastmodifieddate"]


def _not_found(object_type: ObjectType, ids: list[str]) -> dict[str, Any]:
    message = f"Could not get some {object_type.singular} objects, they may be deleted or not exist. Check that ids are valid."
    return {"status": "error", "category": "OBJECT_NOT_FOUND", "message": message, "context": {"ids": ids},
            "errors": [], "links": {}}  # fmt: skip


def _input_error(rejection: InputRejection, key: str) -> dict[str, Any]:
    return {"status": "error", "category": rejection.category, "message": rejection.message,
            "context": {"ids": [key]}, "errors": [], "links": {}}  # fmt: skip


def _batch_response(
    results: list[dict[str, Any]], errors: list[dict[str, Any]], started: datetime, completed: datetime
) -> ApiResponse:
    body: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": to_hs_time(started),
                            "completedAt": to_hs_time(completed)}  # fmt: skip
    if not errors:
        return ApiResponse(200, body)
    return ApiResponse(207, body | {"numErrors": len(errors), "errors": errors})
