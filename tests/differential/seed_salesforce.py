"""A scenario into the Salesforce sandbox: Users, Opportunities, call and e-mail Tasks, and the org's
currencies (CurrencyType, DatedConversionRate when the sandbox has them), through the org's own
seeding API (`load`, `purge`). One sandbox serves every scenario: `reset_org` empties it first.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sandbox.salesforce import SalesforceSandbox
from sandbox.salesforce.org import Org
from sandbox.salesforce.rewind import rewind_stamps
from tests.differential.scenario import Call, Currencies, Deal, Scenario

STAGES = {"won": ("Closed Won", True, True), "lost": ("Closed Lost", True, False),
          "open": ("Negotiation/Review", False, False)}  # fmt: skip
TYPES = {"new": "New Business", "expansion": "Existing Business", "renewal": "Renewal"}
EMPTIED = ("Opportunity", "Task", "Account", "OKR_Key_Result__c", "CurrencyType", "DatedConversionRate")
EARLIEST = date(1, 1, 1)  # the first dated rate is valid from the earliest date; the last has no end


def reset_org(org: Org) -> None:
    """Every record a scenario makes goes; the integration user stays, its custom fields cleared."""
    for name in EMPTIED:
        if org.schema.object(name) is not None:
            for record in org.records(name, include_deleted=True):
                org.purge(name, record["Id"])
    for user in org.records("User"):
        if user["Id"] != org.running_user_id:
            org.purge("User", user["Id"])
    integration = org.get("User", org.running_user_id)
    assert integration is not None
    org.load("User", [{k: (None if k.endswith("__c") else v) for k, v in integration.items()}])


def seed(sf: SalesforceSandbox, scenario: Scenario) -> dict[str, str]:
    """Load the scenario; returns scenario key → record id of every deal and call."""
    org = sf.org
    reset_org(org)
    rewind_stamps(org)  # the clock may have moved back since the previous scenario
    _seed_currencies(org, scenario.currencies, scenario.now)
    users = {p.key: org.new_id("User") for p in scenario.people}
    org.load("User", [_user(org, users[p.key], p, scenario.now) for p in scenario.people])
    opportunities = [_opportunity(org, d, users, scenario) for d in scenario.deals]
    org.load("Opportunity", opportunities)
    tasks = [_task(org, c, users) for c in scenario.calls]
    emails = [_task(org, c, users, subtype="Email") for c in scenario.calls[:2]]  # not calls: left out
    org.load("Task", [*tasks, *emails])
    keys = [d.key for d in scenario.deals] + [c.key for c in scenario.calls]
    return {key: row["Id"] for key, row in zip(keys, [*opportunities, *tasks], strict=True)}


def apply_edits(sf: SalesforceSandbox, scenario: Scenario, ids: dict[str, str]) -> None:
    """The scenario's edits, as a user makes them (each stamps SystemModstamp with the clock)."""
    deals = {d.key: d for d in scenario.deals}
    for edit in scenario.edits:
        record_id = ids[edit.key]
        if edit.kind in ("delete_deal", "delete_call"):
            sf.org.delete("Opportunity" if edit.kind == "delete_deal" else "Task", record_id)
        elif edit.kind == "win":
            sf.org.update("Opportunity", record_id, {"StageName": STAGES["won"][0]})
        else:
            deal = deals[edit.key]
            assert deal.close_at is not None
            rate = scenario.currencies.rate_on(deal.currency, deal.close_at.date())
            amount = None if edit.home_amount is None else float(edit.home_amount * rate)
            sf.org.update("Opportunity", record_id, {"Amount": amount})


def _fitting(org: Org, object_name: str, row: dict[str, Any]) -> dict[str, Any]:
    """The row with only the fields the sandbox's object has (its schema may grow)."""
    definition = org.schema.require(object_name)
    return {k: v for k, v in row.items() if definition.field(k) is not None}


def _stamps(created: datetime, modified: datetime) -> dict[str, Any]:
    return {"CreatedDate": created.astimezone(UTC), "LastModifiedDate": modified, "SystemModstamp": modified}


def _seed_currencies(org: Org, currencies: Currencies, now: datetime) -> None:
    org.corporate_currency = currencies.corporate
    org.currency_rates = {code: float(rate) for code, rate in currencies.rates.items()}
    stamps = _stamps(now - timedelta(days=400), now - timedelta(days=400))
    if org.schema.object("CurrencyType") is not None:
        org.load("CurrencyType", [
            _fitting(org, "CurrencyType", {
                "Id": org.new_id("CurrencyType"), "IsoCode": code, "ConversionRate": float(rate),
                "DecimalPlaces": 2, "IsActive": True, "IsCorporate": code == currencies.corporate, **stamps,
            })
            for code, rate in currencies.rates.items()
        ])  # fmt: skip
    if org.schema.object("DatedConversionRate") is not None:
        org.load("DatedConversionRate", [
            _fitting(org, "DatedConversionRate", {
                "Id": org.new_id("DatedConversionRate"), "IsoCode": span.currency,
                "ConversionRate": float(span.rate), "StartDate": span.start or EARLIEST,
                "NextStartDate": span.end, **stamps,
            })
            for span in currencies.dated
        ])  # fmt: skip
    organization = org.records("Organization") if org.schema.object("Organization") else []
    org.load(
        "Organization", [{**row, "DefaultCurrencyIsoCode": currencies.corporate} for row in organization]
    )
    integration = org.get("User", org.running_user_id)
    if integration is not None and "DefaultCurrencyIsoCode" in integration:
        org.load("User", [{**integration, "DefaultCurrencyIsoCode": currencies.user_currency}])


def _user(org: Org, user_id: str, person: Any, now: datetime) -> dict[str, Any]:
    created = now - timedelta(days=500)
    return _fitting(org, "User", {
        "Id": user_id, "Username": person.crm_email, "Name": f"{person.first_name} {person.last_name}",
        "FirstName": person.first_name, "LastName": person.last_name, "Email": person.crm_email,
        "IsActive": person.active, "Title": "Account Executive", "Department": person.team, "Division": None,
        "ManagerId": None, "DefaultCurrencyIsoCode": "USD", **_stamps(created, now - timedelta(days=3)),
    })  # fmt: skip


def _opportunity(org: Org, deal: Deal, users: dict[str, str], scenario: Scenario) -> dict[str, Any]:
    stage, closed, won = STAGES[deal.stage]
    assert deal.close_at is not None, "CloseDate is required on an Opportunity"
    assert deal.owner is not None, "OwnerId is required on an Opportunity"
    close_date = deal.close_at.date()  # a date field: the local day, as a rep picks it
    amount = None
    if deal.home_amount is not None:
        amount = float(deal.home_amount * scenario.currencies.rate_on(deal.currency, close_date))
    return _fitting(org, "Opportunity", {
        "Id": org.new_id("Opportunity"), "Name": f"Deal {deal.key}", "AccountId": None,
        "OwnerId": users[deal.owner], "RecordTypeId": None, "Amount": amount, "CurrencyIsoCode": deal.currency,
        "StageName": stage, "IsClosed": closed, "IsWon": won, "Type": TYPES[deal.kind], "LeadSource": None,
        "CloseDate": close_date, "Probability": 100.0 if won else 0.0 if closed else 90.0,
        "ForecastCategoryName": "Closed" if won else "Omitted" if closed else "Commit",
        "FiscalQuarter": (close_date.month - 1) // 3 + 1, "FiscalYear": close_date.year,
        "NextStep": None, "Description": None, "IsDeleted": deal.deleted,
        **_stamps(deal.created_at, deal.modified_at),
    })  # fmt: skip


def _task(org: Org, call: Call, users: dict[str, str], *, subtype: str = "Call") -> dict[str, Any]:
    return _fitting(org, "Task", {
        "Id": org.new_id("Task"), "Subject": f"{subtype} {call.key}", "OwnerId": users[call.owner],
        "WhatId": None, "WhoId": None, "ActivityDate": call.occurred_at.date(),
        "CallDurationInSeconds": call.duration_seconds if subtype == "Call" else None,
        "CallType": "Outbound" if subtype == "Call" else None, "CallDisposition": None, "CallObject": None,
        "TaskSubtype": subtype, "Status": "Completed", "Priority": "Normal", "Description": None,
        "CompletedDateTime": call.occurred_at.astimezone(UTC), "IsDeleted": call.deleted,
        **_stamps(call.occurred_at, call.modified_at),
    })  # fmt: skip
