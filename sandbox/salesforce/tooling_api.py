"""Custom object and field creation and their security, as `okrsync fields ensure` uses them.

`POST tooling/sobjects/CustomObject` adds a custom object (a text Name, owner, stamps) that no one
may create or edit records of until a permission set holding an ObjectPermissions row for it is
assigned to the integration user.

`POST tooling/sobjects/CustomField` adds the field to the schema (describe shows it at once) with
no access for the integration user: not updateable until a permission set holding a
FieldPermissions row for it is assigned to that user (docs/crm-apis.md §1.11). `PermissionSet`,
`FieldPermissions`, `ObjectPermissions` and `PermissionSetAssignment` are accepted as sObject
creates.
"""

from __future__ import annotations

import re
from typing import Any

from sandbox.salesforce.errors import ApiError
from sandbox.salesforce.exchange import ApiRequest, ApiResponse, SandboxState
from sandbox.salesforce.org_schema import custom_object

OBJECT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*__c\Z")
OBJECT_ACCESS = ""  # the grant of a whole object's records (ObjectPermissions), not of a field
TYPES = {"Number": "double", "Percent": "percent", "Text": "string", "Picklist": "picklist",
         "DateTime": "datetime", "Date": "date"}  # fmt: skip


def create_field(state: SandboxState, request: ApiRequest) -> ApiResponse:
    body = request.json() or {}
    object_name, _, name = str(body.get("FullName", "")).partition(".")
    metadata = body.get("Metadata") or {}
    type_ = TYPES.get(str(metadata.get("type")))
    definition = state.org.schema.object(object_name)
    if definition is None or not name.endswith("__c") or type_ is None:
        raise ApiError(400, "FIELD_INTEGRITY_EXCEPTION", f"cannot create field {body.get('FullName')!r}")
    if definition.field(name) is not None:
        raise ApiError(
            400, "DUPLICATE_DEVELOPER_NAME", f"There is already a field named {name} on {object_name}"
        )
    values = (metadata.get("valueSet") or {}).get("valueSetDefinition", {}).get("value", [])
    state.org.schema.add_field(
        object_name,
        name,
        type_,  # type: ignore[arg-type]
        label=str(metadata.get("label") or name),
        length=int(metadata.get("length") or (255 if type_ in ("string", "picklist") else 0)),
        precision=int(metadata.get("precision") or 0),
        scale=int(metadata.get("scale") or 0),
        external_id=bool(metadata.get("externalId")),
        unique=bool(metadata.get("unique")),
        picklist_values=tuple(str(v["fullName"]) for v in values),
        updateable=False,  # no field-level security yet
        createable=False,
    )
    return ApiResponse(
        201, {"id": state.org.new_id("User")[:3] + "00N" + name[:9], "success": True, "errors": []}
    )


def create_object(state: SandboxState, request: ApiRequest) -> ApiResponse:
    body = request.json() or {}
    name = str(body.get("FullName", ""))
    metadata = body.get("Metadata") or {}
    name_field = metadata.get("nameField") or {}
    if not OBJECT_NAME.match(name) or not metadata.get("label") or not metadata.get("pluralLabel"):
        raise ApiError(400, "FIELD_INTEGRITY_EXCEPTION", f"cannot create object {name!r}")
    if name_field.get("type") != "Text" or metadata.get("deploymentStatus") != "Deployed":
        raise ApiError(400, "FIELD_INTEGRITY_EXCEPTION", "nameField must be Text; deploymentStatus Deployed")
    schema = state.org.schema
    if schema.object(name) is not None:
        raise ApiError(400, "DUPLICATE_DEVELOPER_NAME", f"There is already an object named {name}")
    taken = {definition.key_prefix for definition in schema}
    prefix = next(f"a{n:02X}" for n in range(16, 256) if f"a{n:02X}" not in taken)
    label = str(metadata["label"])
    schema.add_object(
        custom_object(
            name, label, str(metadata["pluralLabel"]), prefix, str(name_field.get("label") or label)
        )
    )
    return ApiResponse(201, {"id": "01I" + prefix + name[:12], "success": True, "errors": []})


def create_permission_record(state: SandboxState, request: ApiRequest) -> ApiResponse:
    body: dict[str, Any] = request.json() or {}
    kind = request.route["object"]
    permissions = state.permissions
    if kind == "PermissionSet":
        set_id = f"0PS{len(permissions.grants):015d}"
        permissions.grants[set_id] = set()
        return ApiResponse(201, {"id": set_id, "success": True, "errors": []})
    parented = kind in ("FieldPermissions", "ObjectPermissions")
    set_id = str(body.get("ParentId") if parented else body.get("PermissionSetId"))
    if set_id not in permissions.grants:
        raise ApiError(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
    if kind == "ObjectPermissions" and body.get("PermissionsCreate") and body.get("PermissionsEdit"):
        permissions.grants[set_id].add((str(body.get("SobjectType")), OBJECT_ACCESS))
    elif kind == "FieldPermissions" and body.get("PermissionsEdit"):
        object_name, _, name = str(body.get("Field", "")).partition(".")
        permissions.grants[set_id].add((object_name, name))
    elif kind == "PermissionSetAssignment":
        permissions.assigned.add((set_id, str(body.get("AssigneeId"))))
    _apply(state)
    return ApiResponse(
        201, {"id": f"0{kind[:2]}{len(permissions.assigned):015d}", "success": True, "errors": []}
    )


def _apply(state: SandboxState) -> None:
    """Make editable every object and field a permission set assigned to the integration user grants."""
    user = state.org.running_user_id
    for set_id, assignee in state.permissions.assigned:
        if assignee[:15] != user[:15]:
            continue
        for object_name, name in state.permissions.grants[set_id]:
            definition = state.org.schema.object(object_name)
            if name == OBJECT_ACCESS and definition is not None:
                definition.createable = definition.updateable = True
            elif definition is not None and definition.field(name) is not None:
                state.org.schema.update_field(object_name, name, updateable=True, createable=True)
