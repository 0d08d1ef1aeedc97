"""Property definitions: HubSpot's built-in properties of deals, calls and companies, the JSON of
`/crm/v3/properties/{type}`, and the validation of a property create (docs/crm-apis.md §3.4).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sandbox.hubspot.exchange import HubSpotError, validation_error
from sandbox.hubspot.values import to_hs_time

PROPERTY_TYPES = frozenset({"bool", "date", "datetime", "enumeration", "number", "phone_number", "string"})
FIELD_TYPES = frozenset(
    {"booleancheckbox", "calculation_equation", "checkbox", "date", "file", "html", "number",
     "phonenumber", "radio", "select", "text", "textarea"}
)  # fmt: skip
REQUIRED_ON_CREATE = ("name", "label", "type", "fieldType", "groupName")
# Read-only values are silently ignored on update (docs/crm-apis.md §3.6).
READ_ONLY = frozenset(
    {"hs_object_id", "hs_lastmodifieddate", "hs_createdate", "hs_is_closed_won", "hs_is_closed",
     "amount_in_home_currency"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class PropertyDef:
    """One property of an object type."""

    name: str
    label: str
    type: str
    field_type: str
    group_name: str
    options: tuple[tuple[str, str], ...] = ()  # (label, value)
    description: str = ""
    has_unique_value: bool = False
    hubspot_defined: bool = True
    number_display_hint: str | None = None
    created_at: datetime | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def read_only(self) -> bool:
        return self.name in READ_ONLY

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": self.name, "label": self.label, "type": self.type, "fieldType": self.field_type,
            "groupName": self.group_name, "description": self.description, "displayOrder": -1,
            "options": [
                {"label": label, "value": value, "displayOrder": n, "hidden": False}
                for n, (label, value) in enumerate(self.options)
            ],
            "calculated": self.read_only and self.name != "hs_object_id", "externalOptions": False,
            "hasUniqueValue": self.has_unique_value, "hidden": False, "formField": not self.read_only,
            "hubspotDefined": self.hubspot_defined, "archived": False,
            "modificationMetadata": {"archivable": not self.hubspot_defined, "readOnlyDefinition": self.hubspot_defined,
                                     "readOnlyValue": self.read_only},
        }  # fmt: skip
        if self.created_at is not None:
            body["createdAt"] = body["updatedAt"] = to_hs_time(self.created_at)
        if self.number_display_hint:
            body["numberDisplayHint"] = self.number_display_hint
        return body | dict(self.extra)


def _enum(
    name: str, label: str, group: str, values: Iterable[str], field_type: str = "select"
) -> PropertyDef:
    return PropertyDef(name, label, "enumeration", field_type, group, tuple((v, v) for v in values))


def _common(group: str) -> list[PropertyDef]:
    return [
        PropertyDef("hs_object_id", "Record ID", "number", "number", group),
        PropertyDef("hs_createdate", "Create date", "datetime", "date", group),
        PropertyDef("hs_lastmodifieddate", "Last modified date", "datetime", "date", group),
    ]


def deal_properties(
    *, pipelines: Iterable[str], stages: Iterable[str], owners: Iterable[str]
) -> list[PropertyDef]:
    """Deal properties; enumerations list the portal's pipelines, stages, owners and currencies."""
    group = "dealinformation"
    return [
        *_common(group),
        PropertyDef("dealname", "Deal Name", "string", "text", group),
        PropertyDef("amount", "Amount", "number", "number", group, number_display_hint="currency"),
        PropertyDef("amount_in_home_currency", "Amount in company currency", "number", "number", group),
        _enum("deal_currency_code", "Currency", group, ("USD", "EUR", "GBP")),
        PropertyDef("closedate", "Close Date", "datetime", "date", group),
        PropertyDef("createdate", "Create Date", "datetime", "date", group),
        _enum("hubspot_owner_id", "Deal owner", group, owners),
        _enum("dealtype", "Deal Type", group, ("newbusiness", "existingbusiness"), "radio"),
        _enum("pipeline", "Pipeline", group, pipelines),
        _enum("dealstage", "Deal Stage", group, stages, "radio"),
        PropertyDef("hs_is_closed_won", "Is Closed Won", "bool", "booleancheckbox", group),
        PropertyDef("hs_is_closed", "Is Deal Closed?", "bool", "booleancheckbox", group),
        PropertyDef("hs_analytics_source", "Original Source Type", "string", "text", group),
        PropertyDef("hs_primary_associated_company", "Primary associated company", "number", "number", group),
    ]


def call_properties(*, owners: Iterable[str]) -> list[PropertyDef]:
    group = "callinformation"
    return [
        *_common(group),
        PropertyDef("hs_timestamp", "Activity date", "datetime", "date", group),
        PropertyDef("hs_call_title", "Call Title", "string", "text", group),
        PropertyDef("hs_call_body", "Call notes", "string", "html", group),
        PropertyDef(
            "hs_call_duration", "Call duration", "number", "number", group, number_display_hint="duration"
        ),
        _enum("hs_call_direction", "Call direction", group, ("INBOUND", "OUTBOUND")),
        PropertyDef("hs_call_disposition", "Call outcome", "string", "select", group),
        _enum(
            "hs_call_status",
            "Call status",
            group,
            (
                "BUSY",
                "CALLING_CRM_USER",
                "CANCELED",
                "COMPLETED",
                "CONNECTING",
                "FAILED",
                "IN_PROGRESS",
                "NO_ANSWER",
                "QUEUED",
                "RINGING",
            ),
        ),
        _enum("hubspot_owner_id", "Activity assigned to", group, owners),
        PropertyDef("hs_primary_associated_deal", "Primary associated deal", "number", "number", group),
    ]


def meeting_properties(*, owners: Iterable[str]) -> list[PropertyDef]:
    """Meetings (object type 0-47): a declared stream in the demo (README "Any object as a stream")."""
    group = "meetinginformation"
    return [
        *_common(group),
        PropertyDef("hs_timestamp", "Activity date", "datetime", "date", group),
        PropertyDef("hs_meeting_title", "Meeting name", "string", "text", group),
        PropertyDef("hs_meeting_start_time", "Start Time", "datetime", "date", group),
        PropertyDef("hs_meeting_end_time", "End Time", "datetime", "date", group),
        _enum(
            "hs_meeting_outcome",
            "Meeting outcome",
            group,
            ("SCHEDULED", "COMPLETED", "RESCHEDULED", "NO_SHOW", "CANCELED"),
        ),
        _enum("hubspot_owner_id", "Activity assigned to", group, owners),
    ]


def company_properties(*, owners: Iterable[str]) -> list[PropertyDef]:
    group = "companyinformation"
    return [
        *_common(group),
        PropertyDef("name", "Company name", "string", "text", group),
        PropertyDef("domain", "Company Domain Name", "string", "text", group),
        PropertyDef("industry", "Industry", "string", "text", group),
        PropertyDef("country", "Country/Region", "string", "text", group),
        PropertyDef("createdate", "Create Date", "datetime", "date", group),
        _enum("hubspot_owner_id", "Company owner", group, owners),
    ]


def custom_object_properties() -> list[PropertyDef]:
    """What every custom object has before its own properties."""
    return _common("custom_object_information")


def property_from_create(
    body: Mapping[str, Any], *, existing: Mapping[str, PropertyDef], at: datetime
) -> PropertyDef:
    """A new property from a `PropertyCreate` body; 400 VALIDATION_ERROR, or 409 on a duplicate name."""
    missing = [name for name in REQUIRED_ON_CREATE if not body.get(name)]
    if missing:
        raise validation_error(
            f"Property create is missing required fields: {', '.join(missing)}",
            errors=[{"message": f"{name} is required", "code": "REQUIRED_FIELD"} for name in missing],
        )
    if body["type"] not in PROPERTY_TYPES or body["fieldType"] not in FIELD_TYPES:
        raise validation_error(f"Invalid type/fieldType combination: {body['type']}/{body['fieldType']}")
    options = body.get("options") or []
    if body["type"] == "enumeration" and not options:
        raise validation_error("Enumeration properties need options")
    name = str(body["name"])
    if name in existing:
        raise HubSpotError(
            409, f"A property named '{name}' already exists.", category="OBJECT_ALREADY_EXISTS"
        )
    return PropertyDef(
        name=name, label=str(body["label"]), type=body["type"], field_type=body["fieldType"],
        group_name=str(body["groupName"]), description=str(body.get("description") or ""),
        options=tuple((str(o.get("label", "")), str(o.get("value", ""))) for o in options),
        has_unique_value=bool(body.get("hasUniqueValue")), hubspot_defined=False,
        number_display_hint=body.get("numberDisplayHint"), created_at=at,
    )  # fmt: skip
