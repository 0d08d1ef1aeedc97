"""`okrsync check` and `fields ensure` for HubSpot: write-back properties against the properties API.

Reads `GET /crm/v3/properties/{object}` and creates what is missing (docs/crm-apis.md §3.4): the
upsert key with `hasUniqueValue`, and a custom object's schema through `/crm/v3/schemas`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from connectors.hubspot.client import RAW, PortalClient
from connectors.hubspot.mapping import Pipelines, results
from syncer.config.models import HubSpotSource, KeyedTarget, OwnerTarget
from syncer.contract import FieldKind, FieldSpec, Finding
from syncer.errors import CrmError, RejectedRequestError

GROUP_NAME = "okrsync"  # a property group of our own: default group names vary by object (§3.4)
# FieldSpec kind → (type, fieldType, numberDisplayHint) of the properties API (docs/crm-apis.md §3.4).
PROPERTY_TYPES: dict[FieldKind, tuple[str, str, str | None]] = {
    "number": ("number", "number", None),
    "percent": ("number", "number", "percentage"),
    "text": ("string", "text", None),
    "status": ("string", "text", None),
    "datetime": ("datetime", "date", None),
    "date": ("date", "date", None),
    "key": ("string", "text", None),
}
CUSTOM_OBJECT_FIX = (
    "custom objects need a HubSpot Enterprise portal; on other tiers write per-rep values onto "
    "records the rep owns (e.g. their deals) instead"
)


def fetch_properties(client: PortalClient, obj: str) -> dict[str, Mapping[str, Any]] | None:
    """Property name → definition; None when the object does not exist (404/400)."""
    try:
        raw = client.call(f"list {obj} properties", lambda api: api.properties.get_all(obj, **RAW))
    except RejectedRequestError as exc:
        if exc.status in (400, 404):
            return None
        raise
    return {str(row.get("name")): row for row in results(raw)}


def is_fit(spec: FieldSpec, definition: Mapping[str, Any]) -> bool:
    wanted = PROPERTY_TYPES[spec.kind][0]
    kind = definition.get("type")
    fits = kind == wanted or (wanted == "string" and kind == "enumeration")
    return fits and (spec.kind != "key" or bool(definition.get("hasUniqueValue")))


def missing_fields(client: PortalClient, specs: Sequence[FieldSpec]) -> list[FieldSpec]:
    """The specs HubSpot lacks, or holds with a type that cannot take the value."""
    known: dict[str, dict[str, Mapping[str, Any]] | None] = {}
    missing: list[FieldSpec] = []
    for spec in specs:
        if spec.object not in known:
            known[spec.object] = fetch_properties(client, spec.object)
        definition = (known[spec.object] or {}).get(spec.field)
        if definition is None or not is_fit(spec, definition):
            missing.append(spec)
    return missing


def create_fields(client: PortalClient, specs: Sequence[FieldSpec]) -> list[Finding]:
    """Create each missing property (a missing object: its schema); one finding per spec."""
    findings: list[Finding] = []
    by_object: dict[str, list[FieldSpec]] = {}
    for spec in specs:
        by_object.setdefault(spec.object, []).append(spec)
    for obj, group in by_object.items():
        if fetch_properties(client, obj) is None:
            findings += _create_schema(client, obj, group)
            continue
        _ensure_group(client, obj)
        findings += [_create_property(client, spec) for spec in group]
    return findings


def property_body(spec: FieldSpec) -> dict[str, Any]:
    kind, field_type, hint = PROPERTY_TYPES[spec.kind]
    body: dict[str, Any] = {"name": spec.field, "label": spec.label, "type": kind, "fieldType": field_type}
    if hint:
        body["numberDisplayHint"] = hint
    if spec.kind == "key":
        body["hasUniqueValue"] = True  # upsert idProperty needs it; it cannot change later (§3.4)
    return body


def _create_property(client: PortalClient, spec: FieldSpec) -> Finding:
    subject = f"{spec.object}.{spec.field}"
    body = {**property_body(spec), "groupName": GROUP_NAME}
    try:
        client.call(f"create property {subject}", lambda api: api.properties.create(spec.object, body, **RAW))
    except RejectedRequestError as exc:
        return Finding("error", subject, f"could not create the property: {exc}", fix="create it in HubSpot")
    return Finding("ok", subject, "property created")


def _ensure_group(client: PortalClient, obj: str) -> None:
    body = {"name": GROUP_NAME, "label": "okrsync"}
    try:
        client.call(f"create {obj} property group", lambda api: api.groups.create(obj, body, **RAW))
    except RejectedRequestError as exc:
        if exc.status != 409:  # 409: the group exists already
            raise


def _create_schema(client: PortalClient, obj: str, specs: list[FieldSpec]) -> list[Finding]:
    key = next((s.field for s in specs if s.kind == "key"), specs[0].field)
    name = obj.removeprefix("p_")
    body = {
        "name": name,
        "labels": {"singular": name.replace("_", " "), "plural": name.replace("_", " ")},
        "primaryDisplayProperty": key,
        "requiredProperties": [key],
        "properties": [property_body(spec) for spec in specs],
        "associatedObjects": [],
    }
    try:
        client.call(f"create schema {obj}", lambda api: api.schemas.create(body, **RAW))
    except CrmError as exc:
        return [
            Finding("error", f"{obj}.{s.field}", f"cannot create object {obj}: {exc}", fix=CUSTOM_OBJECT_FIX)
            for s in specs
        ]
    # Said on success too: ops should know which tier the object needs, and the alternative.
    created = f"created with custom object {obj} ({CUSTOM_OBJECT_FIX})"
    return [Finding("ok", f"{obj}.{s.field}", created) for s in specs]


def check(
    client: PortalClient,
    config: HubSpotSource,
    writeback: Sequence[OwnerTarget | KeyedTarget],
    stage_metadata: Callable[[], Pipelines],
) -> list[Finding]:
    """Pipelines named by the streams exist; write-back objects and properties exist."""
    findings: list[Finding] = []
    pipelines = stage_metadata()
    for stream, stream_config in config.streams.items():
        for name in stream_config.pipelines:
            if name.lower() not in pipelines.ids and name not in pipelines.ids:
                findings.append(
                    Finding(
                        "error",
                        f"{stream}.pipelines",
                        f"no deal pipeline `{name}`",
                        fix="use a pipeline id or label",
                    )
                )
    for target in writeback:
        properties = fetch_properties(client, target.object)
        if properties is None:
            findings.append(Finding("error", target.object, "object not found", fix=CUSTOM_OBJECT_FIX))
            continue
        for field in target.fields:
            if field not in properties:
                findings.append(
                    Finding(
                        "error",
                        f"{target.object}.{field}",
                        "property missing",
                        fix="okrsync fields ensure --apply",
                    )
                )
    return findings or [Finding("ok", "hubspot", "pipelines and write-back properties found")]
