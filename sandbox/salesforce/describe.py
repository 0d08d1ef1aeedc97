"""`GET sobjects/` (describeGlobal) and `GET sobjects/{object}/describe`, shaped as Salesforce.

Both answer `If-Modified-Since` with 304 Not Modified and no body when nothing they describe
changed since (docs/crm-apis.md §1.12); Describe Global looks at every object.
"""

from __future__ import annotations

from typing import Any

from sandbox.salesforce.errors import not_found
from sandbox.salesforce.exchange import ApiRequest, ApiResponse, SandboxState
from sandbox.salesforce.metadata_dates import not_modified
from sandbox.salesforce.schema import NUMBER_TYPES, TEXT_TYPES, FieldDef, ObjectDef
from sandbox.salesforce.values import to_wire

SOAP_TYPES = {
    "id": "tns:ID", "reference": "tns:ID", "currency": "xsd:double", "double": "xsd:double",
    "percent": "xsd:double", "int": "xsd:int", "boolean": "xsd:boolean", "date": "xsd:date",
    "datetime": "xsd:dateTime",
}  # fmt: skip
MASTER_RECORD_TYPE_ID = "012000000000000AAA"


def describe_global(state: SandboxState, request: ApiRequest) -> ApiResponse:
    since = request.headers.get("if-modified-since")
    if since:  # "no available object's metadata has changed": every object is looked at
        now = state.org.clock.now()
        changed = [
            state.metadata_dates.modified_at(d.name, _full_describe(state, d, request), now)
            for d in state.org.schema
        ]
        if all(not_modified(at, since) for at in changed):
            return ApiResponse(304)
    sobjects = [_summary(definition, request.url_prefix()) for definition in state.org.schema]
    return ApiResponse(200, {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": sobjects})


def describe_object(state: SandboxState, request: ApiRequest) -> ApiResponse:
    definition = state.org.schema.object(request.route["object"])
    if definition is None:
        raise not_found()
    body = _full_describe(state, definition, request)
    changed = state.metadata_dates.modified_at(definition.name, body, state.org.clock.now())
    if not_modified(changed, request.headers.get("if-modified-since")):
        return ApiResponse(304)
    return ApiResponse(200, body)


def _full_describe(state: SandboxState, definition: ObjectDef, request: ApiRequest) -> dict[str, Any]:
    body = _summary(definition, request.url_prefix())
    body["fields"] = [describe_field(field) for field in definition.fields.values()]
    body["childRelationships"] = _child_relationships(state, definition)
    body["recordTypeInfos"] = _record_type_infos(state, definition, request.url_prefix())
    return body


def object_info(state: SandboxState, request: ApiRequest) -> ApiResponse:
    """`GET sobjects/{object}`: the basic information simple-salesforce's `metadata()` reads."""
    definition = state.org.schema.object(request.route["object"])
    if definition is None:
        raise not_found()
    return ApiResponse(200, {"objectDescribe": _summary(definition, request.url_prefix()), "recentItems": []})


def describe_field(field: FieldDef) -> dict[str, Any]:
    text = field.type in TEXT_TYPES or field.type in ("id", "reference")
    return {
        "aggregatable": not field.is_long_text, "autoNumber": False,
        "byteLength": field.length * 3 if text else 0, "calculated": False, "caseSensitive": False,
        "createable": field.createable, "custom": field.custom,
        "defaultValue": None if field.default is None else to_wire(field, field.default),
        "defaultedOnCreate": field.default is not None or not field.createable, "dependentPicklist": False,
        "deprecatedAndHidden": False, "digits": field.precision if field.type == "int" else 0,
        "externalId": field.external_id, "filterable": field.filterable,
        "groupable": not field.is_long_text and field.type not in NUMBER_TYPES - {"int"},
        "idLookup": field.name == "Id" or field.external_id, "label": field.label,
        "length": field.length if text else 0, "name": field.name, "nameField": field.name == "Name",
        "nillable": field.nillable, "permissionable": field.custom and field.nillable,
        "picklistValues": [
            {"active": True, "defaultValue": value == field.default, "label": value, "validFor": None, "value": value}
            for value in field.picklist_values
        ],
        "precision": field.precision if field.type in NUMBER_TYPES - {"int"} else 0,
        "referenceTo": list(field.reference_to), "relationshipName": field.relationship_name,
        "restrictedPicklist": field.restricted_picklist,
        "scale": field.scale if field.type in NUMBER_TYPES else 0,
        "soapType": SOAP_TYPES.get(field.type, "xsd:string"), "sortable": not field.is_long_text,
        "type": field.type, "unique": field.unique, "updateable": field.updateable,
    }  # fmt: skip


def _summary(definition: ObjectDef, prefix: str) -> dict[str, Any]:
    base = f"{prefix}/sobjects/{definition.name}"
    return {
        "activateable": False, "createable": definition.createable, "custom": definition.custom,
        "customSetting": False, "deletable": definition.deletable, "deprecatedAndHidden": False,
        "feedEnabled": False, "hasSubtypes": False, "isSubtype": False, "keyPrefix": definition.key_prefix,
        "label": definition.label, "labelPlural": definition.label_plural, "layoutable": True,
        "mergeable": False, "mruEnabled": True, "name": definition.name, "queryable": True,
        "replicateable": True, "retrieveable": True, "searchable": True, "triggerable": True,
        "undeletable": definition.deletable, "updateable": definition.updateable,
        "urls": {"rowTemplate": f"{base}/{{ID}}", "describe": f"{base}/describe", "sobject": base},
    }  # fmt: skip


def _child_relationships(state: SandboxState, parent: ObjectDef) -> list[dict[str, Any]]:
    return [
        {"cascadeDelete": False, "childSObject": child.name, "deprecatedAndHidden": False,
         "field": field.name, "relationshipName": None, "restrictedDelete": False}
        for child in state.org.schema
        for field in child.fields.values()
        if parent.name in field.reference_to
    ]  # fmt: skip


def _record_type_infos(state: SandboxState, definition: ObjectDef, prefix: str) -> list[dict[str, Any]]:
    infos = []
    if state.org.schema.object("RecordType") is not None:
        for record in state.org.records("RecordType"):
            if record.get("SobjectType") == definition.name:
                infos.append(
                    _record_type_info(record["Name"], record["DeveloperName"], record["Id"], prefix, False)
                )
    infos.append(_record_type_info("Master", "Master", MASTER_RECORD_TYPE_ID, prefix, True))
    infos[0]["defaultRecordTypeMapping"] = True  # the first record type, or Master when there is none
    return infos


def _record_type_info(
    name: str, developer_name: str, record_type_id: str, prefix: str, master: bool
) -> dict[str, Any]:
    return {
        "active": True, "available": True, "defaultRecordTypeMapping": False, "developerName": developer_name,
        "master": master, "name": name, "recordTypeId": record_type_id,
        "urls": {"layout": f"{prefix}/sobjects/RecordType/{record_type_id}"},
    }  # fmt: skip
