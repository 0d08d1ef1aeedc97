"""Custom object schemas (`/crm/v3/schemas`, also `/crm-object-schemas/v3/schemas` as the Python
client calls it): creating one adds an object type reachable by its objectTypeId (`2-…`), its
fullyQualifiedName (`p{portalId}_{name}`), `p_{name}` and its name.

`KEY_RESULTS_SCHEMA` is the okrsync key-result object, created at start when the sandbox is
asked for it; otherwise `okrsync fields ensure` has it to create.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.hubspot.exchange import HubSpotError, validation_error
from sandbox.hubspot.portal import ObjectType, Portal
from sandbox.hubspot.properties import PropertyDef, custom_object_properties, property_from_create
from sandbox.hubspot.values import to_hs_time

FIRST_CUSTOM_TYPE = 2_160_001
KEY_RESULTS_SCHEMA: dict[str, Any] = {
    "name": "key_results",
    "labels": {"singular": "Key result", "plural": "Key results"},
    "primaryDisplayProperty": "okr_name",
    "requiredProperties": ["okr_key"],
    "searchableProperties": ["okr_key", "okr_name"],
    "secondaryDisplayProperties": [],
    "properties": [
        {
            "name": "okr_key",
            "label": "Key result key",
            "type": "string",
            "fieldType": "text",
            "hasUniqueValue": True,
        },
        {"name": "okr_name", "label": "Key result", "type": "string", "fieldType": "text"},
    ],
    "associatedObjects": [],
}
DEFAULT_FIELD_TYPES = {"string": "text", "number": "number", "date": "date", "datetime": "date",
                       "enumeration": "select", "bool": "booleancheckbox"}  # fmt: skip


def create_schema(portal: Portal, egg: Mapping[str, Any]) -> dict[str, Any]:
    """Register a custom object from an `ObjectSchemaEgg`; 400 when incomplete, 409 when the name is taken."""
    missing = [key for key in ("name", "labels", "requiredProperties", "properties") if not egg.get(key)]
    if missing:
        raise validation_error(f"Object schema is missing required fields: {', '.join(missing)}")
    name = str(egg["name"])
    with portal.lock:
        if f"p_{name}".lower() in portal.aliases:
            raise HubSpotError(
                409, f"Object type with name '{name}' already exists", category="OBJECT_ALREADY_EXISTS"
            )
        now = portal.clock.now()
        properties: dict[str, PropertyDef] = {p.name: p for p in custom_object_properties()}
        for raw in egg["properties"]:
            raw = {
                "groupName": f"{name}_information",
                "fieldType": DEFAULT_FIELD_TYPES.get(raw.get("type", ""), "text"),
                **raw,
            }
            definition = property_from_create(raw, existing=properties, at=now)
            properties[definition.name] = definition
        type_id = f"2-{FIRST_CUSTOM_TYPE + len(portal.schemas)}"
        qualified = f"p{portal.portal_id}_{name}"
        defaults = ("hs_createdate", "hs_lastmodifieddate", "hs_object_id")
        portal.add_type(ObjectType(qualified, type_id, name.upper(), defaults, properties), f"p_{name}", name)
        schema = {"id": type_id.split("-")[1], "objectTypeId": type_id, "name": name, "fullyQualifiedName": qualified,
                  "labels": dict(egg["labels"]), "createdAt": to_hs_time(now), "updatedAt": to_hs_time(now),
                  "archived": False, "metaType": "PORTAL_SPECIFIC", "associations": [],
                  **{key: list(egg.get(key) or []) for key in ("requiredProperties", "searchableProperties",
                                                                "secondaryDisplayProperties")},
                  "primaryDisplayProperty": egg.get("primaryDisplayProperty")}  # fmt: skip
        portal.schemas.append(schema)
        return schema


def schema_json(portal: Portal, schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with its current properties (properties created later are included)."""
    object_type = portal.types[schema["fullyQualifiedName"]]
    return schema | {"properties": [p.to_json() for p in object_type.properties.values()]}
