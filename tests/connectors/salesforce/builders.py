"""Salesforce JSON shapes for `responses` tests, each with overrides (docs/crm-apis.md §1.1, §1.4, §1.7)."""

from __future__ import annotations

from typing import Any

import responses

HOST = "https://sf.test"
API = f"{HOST}/services/data/v59.0"
TOKEN_URL = f"{HOST}/services/oauth2/token"
MODSTAMP = "2026-10-01T09:00:00.000+0000"

OPPORTUNITY_FIELDS = {
    "Id": "id",
    "OwnerId": "reference",
    "AccountId": "reference",
    "Amount": "currency",
    "StageName": "picklist",
    "Type": "picklist",
    "IsClosed": "boolean",
    "IsWon": "boolean",
    "CreatedDate": "datetime",
    "CloseDate": "date",
    "SystemModstamp": "datetime",
    "IsDeleted": "boolean",
    "Name": "string",
}
TASK_FIELDS = {
    "Id": "id",
    "OwnerId": "reference",
    "CreatedDate": "datetime",
    "CompletedDateTime": "datetime",
    "CallDurationInSeconds": "int",
    "CallDisposition": "string",
    "CallType": "picklist",
    "TaskSubtype": "picklist",
    "SystemModstamp": "datetime",
    "IsDeleted": "boolean",
}
USER_FIELDS = {
    "Id": "id",
    "Name": "string",
    "Email": "email",
    "IsActive": "boolean",
    "SystemModstamp": "datetime",
    "Department": "string",
    "Q_Revenue__c": "currency",
}


def describe(
    name: str,
    fields: dict[str, str],
    *,
    read_only: tuple[str, ...] = (),
    relationships: dict[str, str] | None = None,
    external_ids: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A `sobjects/{name}/describe` body; `relationships` maps a lookup field to its relationshipName."""
    relationships = relationships or {}
    return {
        "name": name,
        "fields": [
            {
                "name": field,
                "type": kind,
                "updateable": field not in read_only and kind != "id",
                "createable": field not in read_only and kind != "id",
                "externalId": field in external_ids,
                "relationshipName": relationships.get(field),
            }
            for field, kind in fields.items()
        ],
    }


def _record(sobject: str, record_id: str, values: dict[str, Any]) -> dict[str, Any]:
    return {
        "attributes": {"type": sobject, "url": f"/services/data/v59.0/sobjects/{sobject}/{record_id}"},
        **values,
    }


def sf_opportunity(**overrides: Any) -> dict[str, Any]:
    values = {
        "Id": "006A",
        "OwnerId": "005A",
        "AccountId": "001A",
        "Amount": 12000.0,
        "StageName": "Closed Won",
        "Type": "New Customer",
        "IsClosed": True,
        "IsWon": True,
        "CreatedDate": "2026-09-01T08:00:00.000+0000",
        "CloseDate": "2026-09-30",
        "SystemModstamp": MODSTAMP,
        "IsDeleted": False,
        **overrides,
    }
    return _record("Opportunity", values["Id"], values)


def sf_task(**overrides: Any) -> dict[str, Any]:
    values = {
        "Id": "00TA",
        "OwnerId": "005A",
        "CreatedDate": "2026-09-01T08:00:00.000+0000",
        "CompletedDateTime": "2026-09-01T08:30:00.000+0000",
        "CallDurationInSeconds": 300,
        "CallDisposition": "Connected",
        "CallType": "Outbound",
        "SystemModstamp": MODSTAMP,
        "IsDeleted": False,
        **overrides,
    }
    return _record("Task", values["Id"], values)


def sf_user(**overrides: Any) -> dict[str, Any]:
    values = {
        "Id": "005A",
        "Name": "Ana Rep",
        "Email": "Ana@Example.com",
        "IsActive": True,
        "SystemModstamp": MODSTAMP,
        "Department": "EMEA",
        **overrides,
    }
    return _record("User", values["Id"], values)


def query_page(records: list[dict[str, Any]], *, next_url: str | None = None) -> dict[str, Any]:
    page: dict[str, Any] = {"totalSize": len(records), "done": next_url is None, "records": records}
    if next_url:
        page["nextRecordsUrl"] = next_url
    return page


def sf_error(code: str, message: str = "something went wrong") -> list[dict[str, Any]]:
    return [{"message": message, "errorCode": code}]


def save_result(record_id: str | None, *, code: str | None = None, message: str = "") -> dict[str, Any]:
    if code is None:
        return {"id": record_id, "success": True, "errors": []}
    return {"success": False, "errors": [{"statusCode": code, "message": message, "fields": []}]}


def token_body(token: str = "00Dtoken!A") -> dict[str, Any]:
    return {"access_token": token, "instance_url": HOST, "token_type": "Bearer", "issued_at": "1700000000000"}


def url_of(call: responses.Call) -> str:
    """The called URL without its query string."""
    return str(call.request.url).split("?")[0]
