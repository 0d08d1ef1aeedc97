"""Loads the CRM-neutral sample org into the HubSpot sandbox: owners with teams, deal pipelines,
companies, deals (sales, renewals and partner pipelines), calls and the reps' quotas as goal_targets.

Owner ids follow the users' order, so the same sample org always gives the same owner ids; an
inactive rep is an archived owner who still owns their past deals.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sandbox.hubspot.goals import add_goal_targets
from sandbox.hubspot.pipelines import STAGE_IDS, build_pipelines, stage_metadata
from sandbox.hubspot.portal import HsRecord, ObjectType, Portal
from sandbox.hubspot.properties import (
    call_properties,
    company_properties,
    deal_properties,
    meeting_properties,
)
from sandbox.hubspot.values import to_hs_date, to_hs_time, to_hs_value
from sandbox.sample_leads import SampleMeeting, generate_meetings
from sandbox.sample_records import CURRENCY_RATES, SampleCall, SampleDeal, SampleOrg, SampleUser

FIRST_OWNER_ID = 71_000_001
FIRST_USER_ID = 51_000_001
TEAM_IDS = {"East": "1001", "West": "1002", "EMEA": "1003"}
DEAL_TYPES = {"new": "newbusiness", "expansion": "existingbusiness", "renewal": "existingbusiness"}
CALL_DIRECTIONS = {"inbound": "INBOUND", "outbound": "OUTBOUND", "internal": None}
# Default call outcome GUIDs (docs/crm-apis.md §3.6).
CALL_DISPOSITIONS = {
    "busy": "9d9162e7-6cf3-4944-bf63-4dff82258764", "connected": "f240bbac-87c9-4f6e-bf70-924b57d47db7",
    "left_voicemail": "b2cf5968-551e-4856-9783-52b3da59a7d0", "no_answer": "73a0d17f-1163-4015-bdd5-ec830791da20",
    "wrong_number": "17b47fee-58de-441e-a44c-c6300d46f273",
}  # fmt: skip
DEAL_DEFAULTS = ("dealname", "amount", "closedate", "pipeline", "dealstage", "createdate",
                 "hs_lastmodifieddate", "hs_object_id")  # fmt: skip
CALL_DEFAULTS = ("hs_createdate", "hs_lastmodifieddate", "hs_object_id")
MEETING_DEFAULTS = ("hs_createdate", "hs_lastmodifieddate", "hs_object_id")
COMPANY_DEFAULTS = ("name", "domain", "createdate", "hs_lastmodifieddate", "hs_object_id")


def owner_ids(sample: SampleOrg) -> dict[str, str]:
    """Sample user key → owner id (stable for a given sample org)."""
    return {user.key: str(FIRST_OWNER_ID + n) for n, user in enumerate(sample.users)}


def seed_portal(portal: Portal, sample: SampleOrg) -> None:
    """Fill an empty portal with the sample org."""
    owners = owner_ids(sample)
    portal.owners = [_owner(user, owners[user.key], n) for n, user in enumerate(sample.users)]
    portal.pipelines = build_pipelines(datetime.combine(sample.calendar.history_start, time(0), tzinfo=UTC))
    stages = [stage["id"] for pipeline in portal.pipelines for stage in pipeline["stages"]]
    pipeline_ids = [pipeline["id"] for pipeline in portal.pipelines]
    owner_values = list(owners.values())
    portal.add_type(
        _type("companies", "0-2", "COMPANY", COMPANY_DEFAULTS, company_properties(owners=owner_values)),
        "company",
    )
    deal_props = deal_properties(pipelines=pipeline_ids, stages=stages, owners=owner_values)
    portal.add_type(_type("deals", "0-3", "DEAL", DEAL_DEFAULTS, deal_props, derive_deal), "deal")
    portal.add_type(
        _type("calls", "0-48", "CALL", CALL_DEFAULTS, call_properties(owners=owner_values)), "call"
    )
    companies = {account.key: portal.new_id() for account in sample.accounts}
    portal.load("companies", _companies(sample, companies, owners))
    deal_ids = {deal.key: portal.new_id() for deal in sample.deals}
    rates = sample.currency_rates
    portal.company_currency = sample.home_currency
    portal.additional_currencies = sorted(code for code in rates if code != sample.home_currency)
    portal.load("deals", (_deal(d, deal_ids[d.key], owners, companies, rates) for d in sample.deals))
    portal.load("calls", (_call(c, portal.new_id(), owners, deal_ids) for c in sample.calls))
    users = {user.key: FIRST_USER_ID + n for n, user in enumerate(sample.users)}
    add_goal_targets(portal, sample, owners, users)  # the reps' quotas, last: seeded ids stay as they were
    # Meetings, after everything else so that every id above stays (README "Any object as a stream").
    portal.add_type(
        _type("meetings", "0-47", "MEETING", MEETING_DEFAULTS, meeting_properties(owners=owner_values)),
        "meeting",
    )
    portal.load("meetings", (_meeting(m, portal.new_id(), owners) for m in generate_meetings(sample)))


def _type(
    name: str, type_id: str, singular: str, defaults: tuple[str, ...], props: list[Any], derive: Any = None
) -> ObjectType:
    return ObjectType(name, type_id, singular, defaults, {p.name: p for p in props}, derive)


def _owner(user: SampleUser, owner_id: str, ordinal: int) -> dict[str, Any]:
    updated = user.deactivated_at or user.created_at
    teams = [{"id": TEAM_IDS[user.team], "name": user.team, "primary": True}] if user.team in TEAM_IDS else []
    return {
        "id": owner_id, "email": user.email, "firstName": user.first_name, "lastName": user.last_name,
        "userId": None if not user.active else FIRST_USER_ID + ordinal, "userIdIncludingInactive": FIRST_USER_ID + ordinal,
        "type": "PERSON", "createdAt": to_hs_time(user.created_at), "updatedAt": to_hs_time(updated),
        "archived": not user.active, "teams": teams,
    }  # fmt: skip


def _record(
    record_id: str,
    created: datetime,
    modified: datetime,
    values: dict[str, object],
    *,
    archived: bool = False,
) -> HsRecord:
    properties = {name: to_hs_value(value) for name, value in values.items()}
    properties |= {
        "hs_object_id": record_id,
        "hs_createdate": to_hs_time(created),
        "hs_lastmodifieddate": to_hs_time(modified),
    }
    return HsRecord(
        record_id,
        properties,
        created,
        modified,
        archived=archived,
        archived_at=modified if archived else None,
    )


def _companies(sample: SampleOrg, ids: dict[str, str], owners: dict[str, str]) -> Iterator[HsRecord]:
    for account in sample.accounts:
        domain = account.name.split(" ")[0].lower() + ".example"
        country = "United States" if account.region == "NA" else None
        values: dict[str, object] = {"name": account.name, "domain": domain, "industry": account.industry,
                                     "country": country, "createdate": account.created_at,
                                     "hubspot_owner_id": owners[account.owner_key]}  # fmt: skip
        yield _record(ids[account.key], account.created_at, account.modified_at, values)


def _deal(
    deal: SampleDeal,
    record_id: str,
    owners: dict[str, str],
    companies: dict[str, str],
    rates: dict[str, Decimal],
) -> HsRecord:
    stage = STAGE_IDS[deal.pipeline][deal.stage]
    values: dict[str, object] = {
        "dealname": deal.name, "amount": deal.amount, "deal_currency_code": deal.currency,
        "amount_in_home_currency": _home_amount(deal.amount, deal.currency, rates),
        "closedate": to_hs_date(deal.close_date), "createdate": deal.created_at,
        "hubspot_owner_id": owners[deal.owner_key], "dealtype": DEAL_TYPES[deal.kind],
        "pipeline": "default" if deal.pipeline == "sales" else deal.pipeline, "dealstage": stage,
        "hs_is_closed_won": deal.is_won, "hs_is_closed": deal.is_closed,
        "hs_analytics_source": deal.lead_source, "hs_primary_associated_company": companies[deal.account_key],
    }  # fmt: skip
    return _record(record_id, deal.created_at, deal.modified_at, values, archived=deal.deleted)


def _home_amount(amount: Decimal | None, currency: str, rates: dict[str, Decimal]) -> Decimal | None:
    if amount is None:
        return None
    return (amount / rates.get(currency, Decimal(1))).quantize(Decimal("0.01"))


def _call(call: SampleCall, record_id: str, owners: dict[str, str], deals: dict[str, str]) -> HsRecord:
    duration = None if call.duration_seconds is None else call.duration_seconds * 1000  # milliseconds (§3.6)
    values: dict[str, object] = {
        "hs_timestamp": call.occurred_at, "hs_call_title": call.subject, "hs_call_duration": duration,
        "hs_call_direction": CALL_DIRECTIONS[call.direction], "hs_call_disposition": CALL_DISPOSITIONS[call.outcome],
        "hs_call_status": "COMPLETED", "hubspot_owner_id": owners[call.owner_key],
        "hs_primary_associated_deal": deals.get(call.deal_key or ""),
    }  # fmt: skip
    return _record(record_id, call.occurred_at, call.modified_at, values, archived=call.deleted)


def _meeting(meeting: SampleMeeting, record_id: str, owners: dict[str, str]) -> HsRecord:
    values: dict[str, object] = {
        "hs_timestamp": meeting.starts_at, "hs_meeting_title": meeting.title,
        "hs_meeting_start_time": meeting.starts_at, "hs_meeting_end_time": meeting.starts_at + timedelta(minutes=30),
        "hs_meeting_outcome": meeting.outcome, "hubspot_owner_id": owners[meeting.owner_key],
    }  # fmt: skip
    return _record(record_id, meeting.created_at, meeting.modified_at, values, archived=meeting.deleted)


def derive_deal(portal: Portal, record: HsRecord) -> None:
    """Recompute the calculated deal properties after a change (stage → closed/won; amount → home)."""
    properties = record.properties
    metadata = stage_metadata(portal.pipelines, properties.get("pipeline"), properties.get("dealstage"))
    if metadata is not None:
        properties["hs_is_closed"] = metadata["isClosed"]
        won = metadata["isClosed"] == "true" and metadata["probability"] == "1.0"
        properties["hs_is_closed_won"] = "true" if won else "false"
    amount, currency = properties.get("amount"), properties.get("deal_currency_code") or "USD"
    home = None if amount is None else _home_amount(Decimal(amount), currency, CURRENCY_RATES)
    properties["amount_in_home_currency"] = to_hs_value(home)
