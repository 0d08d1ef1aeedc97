"""A scenario into the HubSpot sandbox: owners (archived when inactive, primary team), deals in the
sales and renewals pipelines with `deal_currency_code` and `amount_in_home_currency` as HubSpot
computes them, and calls, through the portal's own seeding API (`owners`, `load`). One sandbox
serves every scenario: `reset_portal` empties it first (the key-result object keeps its properties).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sandbox.hubspot import HsRecord, HubSpotSandbox
from sandbox.hubspot.pipelines import STAGE_IDS
from sandbox.hubspot.portal import Portal
from sandbox.hubspot.values import to_hs_time, to_hs_value
from tests.differential.scenario import Call, Deal, Person, Scenario

EMPTIED = ("companies", "deals", "calls", "p_key_results")
TEAM_IDS = {"East": "1001", "West": "1002", "EMEA": "1003"}
DEAL_TYPES = {"new": "newbusiness", "expansion": "existingbusiness", "renewal": "existingbusiness"}
FIRST_OWNER_ID = 81_000_001


def reset_portal(portal: Portal) -> None:
    with portal.lock:
        for name in EMPTIED:
            object_type = portal.object_type(name)
            object_type.records.clear()
            object_type.ids.clear()
        portal.owners = []


def seed(hs: HubSpotSandbox, scenario: Scenario) -> dict[str, str]:
    """Load the scenario; returns scenario key → record id of every deal and call."""
    portal = hs.portal
    reset_portal(portal)
    owners = {p.key: str(FIRST_OWNER_ID + n) for n, p in enumerate(scenario.people)}
    portal.owners = [_owner(p, owners[p.key], scenario.now) for p in scenario.people]
    deals = [_deal(portal.new_id(), d, owners, scenario) for d in scenario.deals]
    calls = [_call(portal.new_id(), c, owners) for c in scenario.calls]
    portal.load("deals", deals)
    portal.load("calls", calls)
    keys = [d.key for d in scenario.deals] + [c.key for c in scenario.calls]
    return {key: record.id for key, record in zip(keys, [*deals, *calls], strict=True)}


def apply_edits(hs: HubSpotSandbox, scenario: Scenario, ids: dict[str, str]) -> None:
    """The scenario's edits, as a user makes them (HubSpot recomputes the calculated properties)."""
    deals = {d.key: d for d in scenario.deals}
    for edit in scenario.edits:
        record_id = ids[edit.key]
        if edit.kind in ("delete_deal", "delete_call"):
            hs.archive("deals" if edit.kind == "delete_deal" else "calls", record_id)
        elif edit.kind == "win":
            pipeline = "renewals" if deals[edit.key].kind == "renewal" else "sales"
            hs.update("deals", record_id, {"dealstage": STAGE_IDS[pipeline]["won"]})
        else:
            deal = deals[edit.key]
            rate = scenario.currencies.rates[deal.currency]
            amount = None if edit.home_amount is None else Decimal(edit.home_amount) * rate
            hs.update("deals", record_id, {"amount": amount})


def _owner(person: Person, owner_id: str, now: datetime) -> dict[str, object]:
    teams = [{"id": TEAM_IDS[person.team], "name": person.team, "primary": True}] if person.team else []
    user_id = int(owner_id) - 30_000_000
    return {
        "id": owner_id, "email": person.crm_email, "firstName": person.first_name, "lastName": person.last_name,
        "userId": user_id if person.active else None, "userIdIncludingInactive": user_id, "type": "PERSON",
        "createdAt": to_hs_time(now - timedelta(days=500)), "updatedAt": to_hs_time(now - timedelta(days=3)),
        "archived": not person.active, "teams": teams,
    }  # fmt: skip


def _record(record_id: str, created: datetime, modified: datetime, values: dict[str, object], *,
            archived: bool) -> HsRecord:  # fmt: skip
    properties = {name: to_hs_value(value) for name, value in values.items()}
    properties |= {"hs_object_id": record_id, "hs_createdate": to_hs_time(created),
                   "hs_lastmodifieddate": to_hs_time(modified)}  # fmt: skip
    return HsRecord(record_id, properties, created, modified, archived=archived,
                    archived_at=modified if archived else None)  # fmt: skip


def _deal(record_id: str, deal: Deal, owners: dict[str, str], scenario: Scenario) -> HsRecord:
    pipeline = "renewals" if deal.kind == "renewal" else "sales"
    stage = {"won": "won", "lost": "lost", "open": "negotiation"}[deal.stage]
    currencies = scenario.currencies
    values: dict[str, object] = {
        "dealname": f"Deal {deal.key}", "closedate": deal.close_at, "createdate": deal.created_at,
        "hubspot_owner_id": owners.get(deal.owner or ""), "dealtype": DEAL_TYPES[deal.kind],
        "pipeline": "default" if pipeline == "sales" else pipeline, "dealstage": STAGE_IDS[pipeline][stage],
        "hs_is_closed_won": deal.stage == "won", "hs_is_closed": deal.stage != "open",
    }  # fmt: skip
    if deal.home_amount is not None:
        # HubSpot fills amount_in_home_currency from the portal's rate for the deal's currency.
        values["amount"] = Decimal(deal.home_amount) * currencies.rates[deal.currency]
        if currencies.multi:
            values["amount_in_home_currency"] = Decimal(deal.home_amount)
    if currencies.multi:
        values["deal_currency_code"] = deal.currency
    return _record(record_id, deal.created_at, deal.modified_at, values, archived=deal.deleted)


def _call(record_id: str, call: Call, owners: dict[str, str]) -> HsRecord:
    duration = None if call.duration_seconds is None else call.duration_seconds * 1000  # milliseconds
    values: dict[str, object] = {
        "hs_timestamp": call.occurred_at, "hs_call_title": f"Call {call.key}", "hs_call_duration": duration,
        "hs_call_direction": "OUTBOUND", "hs_call_status": "COMPLETED", "hubspot_owner_id": owners[call.owner],
    }  # fmt: skip
    return _record(record_id, call.occurred_at, call.modified_at, values, archived=call.deleted)
