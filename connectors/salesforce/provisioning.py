"""`okrsync fields ensure` for Salesforce: which write-back fields are missing, and creating them.

Fields are created through the Tooling API (`POST tooling/sobjects/CustomField`, one call per
field; docs/crm-apis.md §1.11 notes mdapi bypasses our session); a missing custom object (a
history object, README "History as CRM records") first, through `tooling/sobjects/CustomObject`. A new field has no field-level
security, so the integration user gets edit access through a permission set (`FieldPermissions`).
Builds request bodies; the connector sends them through OrgClient.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simple_salesforce.api import Salesforce

from connectors.salesforce.client import REQUEST_TIMEOUT
from connectors.salesforce.mapping import FieldInfo
from syncer.contract import STATUS_VALUES, FieldKind, FieldSpec

PERMISSION_SET = "okrsync_writeback"  # the permission set granting edit access to okrsync's fields
# describe types that can hold each kind of value.
FITTING_TYPES: dict[FieldKind, frozenset[str]] = {
    "number": frozenset({"double", "currency", "percent", "int"}),
    "percent": frozenset({"percent", "double"}),
    "text": frozenset({"string", "textarea", "picklist", "email"}),
    "status": frozenset({"picklist", "string"}),
    "datetime": frozenset({"datetime"}),
    "date": frozenset({"date", "datetime"}),
    "key": frozenset({"string"}),
}


def fits(spec: FieldSpec, info: FieldInfo | None) -> bool:
    """True when the org's field exists and its type can hold the spec's values (a key: External ID)."""
    if info is None or info.type not in FITTING_TYPES[spec.kind]:
        return False
    return info.external_id if spec.kind == "key" else True


def field_metadata(spec: FieldSpec) -> dict[str, Any]:
    """The Tooling API CustomField body for one spec."""
    metadata: dict[str, Any] = {"label": spec.label[:40]}
    match spec.kind:
        case "number":
            metadata |= {"type": "Number", "precision": 18, "scale": 4}
        case "percent":
            # 16 digits before the point: a key result far past a small target (progress_pct
            # 366000.0) must fit, or Salesforce refuses the rep's whole record.
            metadata |= {"type": "Percent", "precision": 18, "scale": 2}
        case "text":
            metadata |= {"type": "Text", "length": 255}
        case "key":
            metadata |= {"type": "Text", "length": 255, "externalId": True, "unique": True}
        case "status":
            values = [{"fullName": v, "label": v, "default": False} for v in STATUS_VALUES]
            metadata |= {
                "type": "Picklist",
                "valueSet": {"restricted": True, "valueSetDefinition": {"value": values}},
            }
        case "datetime":
            metadata |= {"type": "DateTime"}
        case "date":
            metadata |= {"type": "Date"}
    return {"FullName": f"{spec.object}.{spec.field}", "Metadata": metadata}


def field_permission(permission_set_id: str, spec: FieldSpec) -> dict[str, Any]:
    """The FieldPermissions record giving the permission set read and edit access to the field."""
    return {
        "ParentId": permission_set_id,
        "SobjectType": spec.object,
        "Field": f"{spec.object}.{spec.field}",
        "PermissionsRead": True,
        "PermissionsEdit": True,
    }


# Fields every custom object has from its creation: never created as custom fields.
STANDARD_FIELDS = frozenset({"Name"})


def object_metadata(name: str) -> dict[str, Any]:
    """The Tooling API CustomObject body of a custom object okrsync writes (a history object):
    a text Name, deployed, readable and writable org-wide (okrsync's records are not secrets)."""
    label = name.removesuffix("__c").replace("_", " ")
    metadata = {
        "label": label[:40],
        "pluralLabel": f"{label}s"[:40],
        "nameField": {"type": "Text", "label": f"{label} Name"[:40]},
        "deploymentStatus": "Deployed",
        "sharingModel": "ReadWrite",
    }
    return {"FullName": name, "Metadata": metadata}


def object_permission(permission_set_id: str, object_name: str) -> dict[str, Any]:
    """The ObjectPermissions record letting the permission set read, create and edit the object's
    records: a new custom object grants no one access (docs/crm-apis.md §1.11)."""
    return {
        "ParentId": permission_set_id,
        "SobjectType": object_name,
        "PermissionsRead": True,
        "PermissionsCreate": True,
        "PermissionsEdit": True,
    }


def create_object_request(body: dict[str, Any]) -> Callable[[Salesforce], object]:
    """`POST tooling/sobjects/CustomObject` with one object's body."""

    def run(sf: Salesforce) -> object:
        return sf.toolingexecute("sobjects/CustomObject", method="POST", data=body, timeout=REQUEST_TIMEOUT)

    return run


def create_field_request(body: dict[str, Any]) -> Callable[[Salesforce], object]:
    """`POST tooling/sobjects/CustomField` with one field's body."""

    def run(sf: Salesforce) -> object:
        return sf.toolingexecute("sobjects/CustomField", method="POST", data=body, timeout=REQUEST_TIMEOUT)

    return run


def create_record_request(object_name: str, body: dict[str, Any]) -> Callable[[Salesforce], str]:
    """`POST sobjects/{object}` (PermissionSet, FieldPermissions, …); the new record's id."""

    def run(sf: Salesforce) -> str:
        created = sf.restful(f"sobjects/{object_name}", method="POST", json=body, timeout=REQUEST_TIMEOUT)
        return str(created["id"]) if isinstance(created, dict) else ""

    return run
