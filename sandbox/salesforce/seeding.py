"""Loads the CRM-neutral sample org into the Salesforce sandbox as User, Account, RecordType,
Opportunity and Task records, plus the integration user the API calls run as, and the reps'
quotas (`forecasting.py`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

from sandbox.salesforce.forecasting import seed_forecasting
from sandbox.salesforce.ids import IdSequence
from sandbox.salesforce.org import Org, Record
from sandbox.salesforce.org_schema import STAGE_DEFAULTS
from sandbox.sample_leads import SampleLead, generate_leads
from sandbox.sample_records import SampleCall, SampleDeal, SampleEmail, SampleOrg

INTEGRATION_USERNAME = "okrsync.integration@example.com"
STAGE_NAMES = {
    "prospecting": "Prospecting", "qualification": "Qualification", "proposal": "Proposal/Price Quote",
    "negotiation": "Negotiation/Review", "won": "Closed Won", "lost": "Closed Lost",
}  # fmt: skip
DEAL_TYPES = {"new": "New Business", "expansion": "Existing Business", "renewal": "Renewal"}
RECORD_TYPES = {"sales": "Sales", "renewals": "Renewal", "partner": "Partner"}
CALL_TYPES = {"inbound": "Inbound", "outbound": "Outbound", "internal": "Internal"}
CALL_RESULTS = {
    "connected": "Connected", "left_voicemail": "Left Voicemail", "no_answer": "No Answer",
    "busy": "Busy", "wrong_number": "Wrong Number",
}  # fmt: skip
# Every 37th opportunity had a system-only change after its last edit, so its SystemModstamp is
# later than its LastModifiedDate: the reason incremental pulls key on SystemModstamp (§1.2).
SYSTEM_TOUCH_EVERY = 37


class _Ids:
    """Sample keys → Salesforce ids, handed out as records are built."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self.by_key: dict[str, str] = {}
        self._sequences: dict[str, IdSequence] = {}

    def new(self, object_name: str, key: str) -> str:
        sequence = self._sequences.get(object_name)
        if sequence is None:
            sequence = self._sequences[object_name] = self.org.id_sequence(object_name)
        record_id = self.by_key[key] = sequence.next_id()
        return record_id


def seed_org(org: Org, sample: SampleOrg, *, user_currency: str = "EUR") -> None:
    """Fill an empty org with the sample org; sets `org.running_user_id` to the integration user.

    The org is multi-currency (corporate USD) with dated rates when its schema has
    DatedConversionRate; the integration user's personal currency is `user_currency`.
    """
    ids = _Ids(org)
    org.corporate_currency = sample.home_currency
    org.load("Organization", [_organization(org, sample)])
    org.load("CurrencyType", _currency_types(ids, sample))
    if org.schema.object("DatedConversionRate") is not None:
        org.load("DatedConversionRate", _dated_rates(ids, sample))
    integration = {**_integration_user(ids, sample), "DefaultCurrencyIsoCode": user_currency}
    org.load("User", [integration, *_users(ids, sample)])
    org.running_user_id = ids.by_key["integration"]
    org.load("RecordType", _record_types(ids, sample.calendar.history_start))
    org.load("Account", _accounts(ids, sample))
    org.load("Opportunity", (_opportunity(ids, deal, n) for n, deal in enumerate(sample.deals)))
    org.load("Task", (_call_task(ids, call) for call in sample.calls))
    org.load("Task", (_email_task(ids, email) for email in sample.emails))
    seed_forecasting(org, sample, ids.by_key)
    # Last, so every id seeded before keeps its value (README "Any object as a stream").
    org.load("Lead", (_lead(ids, lead) for lead in generate_leads(sample)))


def _stamps(created: datetime, modified: datetime, *, deleted: bool | None = False) -> Record:
    stamps: Record = {"CreatedDate": created, "LastModifiedDate": modified, "SystemModstamp": modified}
    if deleted is not None:
        stamps["IsDeleted"] = deleted
    return stamps


def _setup_stamps(sample: SampleOrg) -> Record:
    created = datetime.combine(sample.calendar.history_start, time(0), tzinfo=UTC) - timedelta(days=365)
    return _stamps(created, created, deleted=None)


def _organization(org: Org, sample: SampleOrg) -> Record:
    return {
        "Id": org.org_id, "Name": "okrsync Sandbox", "DefaultCurrencyIsoCode": sample.home_currency,
        "IsSandbox": True, **_setup_stamps(sample),
    }  # fmt: skip


def _currency_types(ids: _Ids, sample: SampleOrg) -> Iterator[Record]:
    for code, rate in sample.currency_rates.items():
        yield {
            "Id": ids.new("CurrencyType", f"currency:{code}"), "IsoCode": code, "ConversionRate": float(rate),
            "DecimalPlaces": 2, "IsActive": True, "IsCorporate": code == sample.home_currency,
            **_setup_stamps(sample),
        }  # fmt: skip


def _dated_rates(ids: _Ids, sample: SampleOrg) -> Iterator[Record]:
    """The sample's dated rates; NextStartDate is the start of the currency's next rate (None: last)."""
    rates = sorted(sample.dated_rates, key=lambda r: (r.currency, r.start))
    for n, rate in enumerate(rates):
        after = rates[n + 1] if n + 1 < len(rates) else None
        yield {
            "Id": ids.new("DatedConversionRate", f"dated:{rate.currency}:{rate.start}"), "IsoCode": rate.currency,
            "ConversionRate": float(rate.rate), "StartDate": rate.start,
            "NextStartDate": after.start if after and after.currency == rate.currency else None,
            **_setup_stamps(sample),
        }  # fmt: skip


def _integration_user(ids: _Ids, sample: SampleOrg) -> Record:
    created = datetime.combine(sample.calendar.history_start, time(0), tzinfo=UTC)
    return {
        "Id": ids.new("User", "integration"), "Username": INTEGRATION_USERNAME, "Name": "okrsync Integration",
        "FirstName": "okrsync", "LastName": "Integration", "Email": INTEGRATION_USERNAME, "IsActive": True,
        "Title": "Integration User", "Department": None, "Division": None, "ManagerId": None,
        **_stamps(created, created, deleted=None),
    }  # fmt: skip


def _users(ids: _Ids, sample: SampleOrg) -> Iterator[Record]:
    for user in sample.users:
        ids.new("User", user.key)
    for user in sample.users:
        yield {
            "Id": ids.by_key[user.key], "Username": user.email, "Name": user.name,
            "FirstName": user.first_name, "LastName": user.last_name, "Email": user.email,
            "IsActive": user.active, "Title": user.title, "Department": user.team, "Division": user.region,
            "ManagerId": ids.by_key.get(user.manager_key or ""),
            **_stamps(user.created_at, user.deactivated_at or user.created_at, deleted=None),
        }  # fmt: skip


def _record_types(ids: _Ids, since: date) -> list[Record]:
    created = datetime.combine(since, time(0), tzinfo=UTC) - timedelta(days=365)
    return [
        {
            "Id": ids.new("RecordType", f"record-type:{developer_name}"),
            "Name": developer_name,
            "DeveloperName": developer_name,
            "SobjectType": "Opportunity",
            "IsActive": True,
            **_stamps(created, created, deleted=None),
        }
        for developer_name in RECORD_TYPES.values()
    ]


def _accounts(ids: _Ids, sample: SampleOrg) -> Iterator[Record]:
    for account in sample.accounts:
        yield {
            "Id": ids.new("Account", account.key), "Name": account.name, "Type": "Customer",
            "Industry": account.industry, "BillingCountry": "United States" if account.region == "NA" else None,
            "OwnerId": ids.by_key[account.owner_key], "CurrencyIsoCode": "USD",
            **_stamps(account.created_at, account.modified_at),
        }  # fmt: skip


def _opportunity(ids: _Ids, deal: SampleDeal, ordinal: int) -> Record:
    stage = STAGE_NAMES[deal.stage]
    closed, won, probability, forecast = STAGE_DEFAULTS[stage]
    stamps = _stamps(deal.created_at, deal.modified_at, deleted=deal.deleted)
    if ordinal % SYSTEM_TOUCH_EVERY == 0 and deal.modified_at - deal.created_at > timedelta(days=2):
        stamps["LastModifiedDate"] = deal.modified_at - timedelta(days=1)
    return {
        "Id": ids.new("Opportunity", deal.key), "Name": deal.name[:120], "AccountId": ids.by_key[deal.account_key],
        "OwnerId": ids.by_key[deal.owner_key], "RecordTypeId": ids.by_key[f"record-type:{RECORD_TYPES[deal.pipeline]}"],
        "Amount": None if deal.amount is None else float(deal.amount), "CurrencyIsoCode": deal.currency,
        "StageName": stage, "IsClosed": closed, "IsWon": won, "Type": DEAL_TYPES[deal.kind],
        "LeadSource": "Partner Referral" if deal.pipeline == "partner" else deal.lead_source,
        "CloseDate": deal.close_date, "Probability": float(probability), "ForecastCategoryName": forecast,
        "FiscalQuarter": (deal.close_date.month - 1) // 3 + 1, "FiscalYear": deal.close_date.year,
        "NextStep": None, "Description": None, **stamps,
    }  # fmt: skip


def _lead(ids: _Ids, lead: SampleLead) -> Record:
    return {
        "Id": ids.new("Lead", lead.key), "LastName": lead.last_name, "Company": lead.company,
        "OwnerId": ids.by_key[lead.owner_key], "Status": lead.status, "LeadSource": "Web",
        "IsConverted": lead.is_converted, "ConvertedDate": lead.converted_on,
        **_stamps(lead.created_at, lead.modified_at, deleted=lead.deleted),
    }  # fmt: skip


def _what_id(ids: _Ids, deal_key: str | None, account_key: str | None) -> str | None:
    return ids.by_key.get(deal_key or "") or ids.by_key.get(account_key or "")


def _call_task(ids: _Ids, call: SampleCall) -> Record:
    return {
        "Id": ids.new("Task", call.key), "Subject": call.subject, "OwnerId": ids.by_key[call.owner_key],
        "WhatId": _what_id(ids, call.deal_key, call.account_key), "WhoId": None,
        "ActivityDate": call.occurred_at.date(), "CallDurationInSeconds": call.duration_seconds,
        "CallType": CALL_TYPES[call.direction], "CallDisposition": CALL_RESULTS[call.outcome],
        "CallObject": None, "TaskSubtype": "Call", "Status": "Completed", "Priority": "Normal",
        "Description": None, **_stamps(call.occurred_at, call.modified_at, deleted=call.deleted),
    }  # fmt: skip


def _email_task(ids: _Ids, email: SampleEmail) -> Record:
    return {
        "Id": ids.new("Task", email.key), "Subject": email.subject, "OwnerId": ids.by_key[email.owner_key],
        "WhatId": _what_id(ids, email.deal_key, email.account_key), "WhoId": None,
        "ActivityDate": email.sent_at.date(), "CallDurationInSeconds": None, "CallType": None,
        "CallDisposition": None, "CallObject": None, "TaskSubtype": "Email", "Status": "Completed",
        "Priority": "Normal", "Description": None, **_stamps(email.sent_at, email.modified_at, deleted=email.deleted),
    }  # fmt: skip
