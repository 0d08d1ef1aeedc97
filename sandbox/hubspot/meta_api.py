"""Metadata routes: properties, custom object schemas, owners and deal pipelines
(docs/crm-apis.md §3.4, §3.5).
"""

from __future__ import annotations

from typing import Any

from sandbox.hubspot.exchange import ApiRequest, ApiResponse, HubSpotError, validation_error
from sandbox.hubspot.properties import property_from_create
from sandbox.hubspot.schemas import create_schema, schema_json
from sandbox.hubspot.state import SandboxState

OWNERS_DEFAULT_LIMIT = 100
OWNERS_MAX_LIMIT = 500


def list_properties(state: SandboxState, request: ApiRequest) -> ApiResponse:
    object_type = state.portal.object_type(request.route["type"])
    with state.portal.lock:
        return ApiResponse(200, {"results": [p.to_json() for p in object_type.properties.values()]})


def read_property(state: SandboxState, request: ApiRequest) -> ApiResponse:
    object_type = state.portal.object_type(request.route["type"])
    definition = object_type.properties.get(request.route["name"])
    if definition is None:
        raise HubSpotError(
            404, f"Unable to find property {request.route['name']}", category="OBJECT_NOT_FOUND"
        )
    return ApiResponse(200, definition.to_json())


def create_property(state: SandboxState, request: ApiRequest) -> ApiResponse:
    """201 with the new property; 400 VALIDATION_ERROR when a required field is missing, 409 on a duplicate."""
    object_type = state.portal.object_type(request.route["type"])
    with state.portal.lock:
        definition = property_from_create(
            request.json_object(), existing=object_type.properties, at=state.portal.clock.now()
        )
        object_type.properties[definition.name] = definition
    return ApiResponse(201, definition.to_json())


def create_property_group(state: SandboxState, request: ApiRequest) -> ApiResponse:
    """`POST /crm/v3/properties/{type}/groups`: 201 with the group; 409 when its name is taken."""
    object_type = state.portal.object_type(request.route["type"])
    body = request.json_object()
    name, label = body.get("name"), body.get("label")
    if not name or not label:
        raise validation_error("Property group needs a name and a label")
    with state.portal.lock:
        taken = {p.group_name for p in object_type.properties.values()} | object_type.property_groups
        if name in taken:
            raise HubSpotError(409, f"Property group {name} already exists", category="CONFLICT")
        object_type.property_groups.add(str(name))
    return ApiResponse(201, {"name": name, "label": label, "displayOrder": -1, "archived": False})


def list_schemas(state: SandboxState, request: ApiRequest) -> ApiResponse:
    with state.portal.lock:
        return ApiResponse(200, {"results": [schema_json(state.portal, s) for s in state.portal.schemas]})


def read_schema(state: SandboxState, request: ApiRequest) -> ApiResponse:
    name = request.route["type"]
    with state.portal.lock:
        for schema in state.portal.schemas:
            if state.portal.aliases.get(name.lower()) == schema["fullyQualifiedName"]:
                return ApiResponse(200, schema_json(state.portal, schema))
    raise HubSpotError(404, f"Unable to find object schema {name}", category="OBJECT_NOT_FOUND")


def post_schema(state: SandboxState, request: ApiRequest) -> ApiResponse:
    schema = create_schema(state.portal, request.json_object())
    return ApiResponse(201, schema_json(state.portal, schema))


def list_owners(state: SandboxState, request: ApiRequest) -> ApiResponse:
    """`GET /crm/v3/owners`: by id, paged by `after` (an owner id); archived owners only with archived=true."""
    limit = int(request.param("limit") or OWNERS_DEFAULT_LIMIT)
    if not 0 < limit <= OWNERS_MAX_LIMIT:
        raise validation_error(f"limit must be between 1 and {OWNERS_MAX_LIMIT}")
    after = int(request.param("after") or 0)
    archived = (request.param("archived") or "false").lower() == "true"
    email = (request.param("email") or "").lower()
    owners = [
        owner
        for owner in state.portal.owners
        if owner["archived"] == archived
        and int(owner["id"]) >= after
        and (not email or owner["email"] == email)
    ]
    body: dict[str, Any] = {"results": owners[:limit]}
    if len(owners) > limit:
        following = owners[limit]["id"]
        link = f"{state.base_url}{request.path}?limit={limit}&after={following}"
        body["paging"] = {"next": {"after": following, "link": link}}
    return ApiResponse(200, body)


def read_owner(state: SandboxState, request: ApiRequest) -> ApiResponse:
    owner_id = request.route["id"]
    for owner in state.portal.owners:
        if owner["id"] == owner_id:
            return ApiResponse(200, owner)
    raise HubSpotError(404, f"Owner {owner_id} not found", category="OBJECT_NOT_FOUND")


def list_pipelines(state: SandboxState, request: ApiRequest) -> ApiResponse:
    return ApiResponse(200, {"results": _pipelines(state, request)})


def read_pipeline(state: SandboxState, request: ApiRequest) -> ApiResponse:
    for pipeline in _pipelines(state, request):
        if pipeline["id"] == request.route["id"]:
            return ApiResponse(200, pipeline)
    raise HubSpotError(404, f"Unable to find pipeline {request.route['id']}", category="OBJECT_NOT_FOUND")


def _pipelines(state: SandboxState, request: ApiRequest) -> list[dict[str, Any]]:
    object_type = state.portal.object_type(request.route["type"])
    return state.portal.pipelines if object_type.name == "deals" else []


def account_details(state: SandboxState, request: ApiRequest) -> ApiResponse:
    """`GET /account-info/v3/details`: portal id, time zone and currencies of the portal."""
    portal = state.portal
    with portal.lock:
        return ApiResponse(
            200,
            {
                "portalId": portal.portal_id,
                "accountType": "STANDARD",
                "timeZone": portal.time_zone,
                "companyCurrency": portal.company_currency,
                "additionalCurrencies": list(portal.additional_currencies),
                "utcOffset": "-05:00",
                "utcOffsetMilliseconds": -18_000_000,
                "uiDomain": "app.hubspot.com",
                "dataHostingLocation": "na1",
            },
        )
