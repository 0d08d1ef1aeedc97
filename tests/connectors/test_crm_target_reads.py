"""The connectors' reading of CRM targets from raw rows (docs/crm-apis.md §1.13, §3.10), without a CRM:
which forecast type is chosen, which quotas and goal slices fall in a period, and whose they are."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from connectors.hubspot import goals
from connectors.salesforce import quotas
from connectors.salesforce.currency import RateTable
from syncer.contract import TargetRequest
from syncer.errors import RejectedRequestError

Q4 = TargetRequest("crm_quota", date(2026, 10, 1), date(2026, 12, 31))
TYPES = [
    {"Id": "0DbDn0000000001KAA", "DeveloperName": "OpportunityRevenue", "IsAmount": True},
    {"Id": "0DbDn0000000002KAA", "DeveloperName": "OpportunityQuantity", "IsAmount": False},
]


def test_the_default_type_is_opportunity_revenue_and_a_named_one_must_be_active() -> None:
    assert quotas.resolve_type(TYPES, None, source="sfdc").developer_name == "OpportunityRevenue"
    assert quotas.resolve_type(TYPES, "OpportunityQuantity", source="sfdc").amount is False
    with pytest.raises(RejectedRequestError, match="active ones: OpportunityQuantity, OpportunityRevenue"):
        quotas.resolve_type(TYPES, "OpportunitySplitRevenue", source="sfdc")
    with pytest.raises(RejectedRequestError, match="Name one with `forecasting_type:`"):
        quotas.resolve_type(TYPES[1:], None, source="sfdc")


def test_quotas_are_summed_per_owner_converted_and_territory_quotas_left_out() -> None:
    rows = {
        quotas.TYPES_QUERY: TYPES,
        "quotas": [
            {"Id": "q1", "QuotaOwnerId": "005A", "StartDate": "2026-10-01", "QuotaAmount": 100.0, "CurrencyIsoCode": "USD"},
            {"Id": "q2", "QuotaOwnerId": "005A", "StartDate": "2026-11-01", "QuotaAmount": 90.0, "CurrencyIsoCode": "EUR"},
            {"Id": "q3", "QuotaOwnerId": None, "StartDate": "2026-10-01", "QuotaAmount": 1e6, "CurrencyIsoCode": "USD"},
            {"Id": "q4", "QuotaOwnerId": "005B", "StartDate": "2026-10-01", "QuotaAmount": None, "CurrencyIsoCode": "USD"},
        ],
    }  # fmt: skip
    asked: list[str] = []

    def fetch(query: str) -> list[dict]:
        asked.append(query)
        return rows[quotas.TYPES_QUERY if query == quotas.TYPES_QUERY else "quotas"]

    rates = RateTable("USD", 2, {"USD": Decimal(1), "EUR": Decimal("0.9")}, None)
    read = quotas.read_quotas(fetch, Q4, rates, source="sfdc")

    assert read.amounts == {"005A": Decimal("200.00")}  # 100 USD + 90 EUR at 0.9 EUR per USD
    assert "StartDate >= 2026-10-01 AND StartDate <= 2026-12-31" in asked[1]
    assert "ForecastingTypeId = '0DbDn0000000001KAA'" in asked[1]


def _slice(start: str, end: str, amount: str, user: str | None, owner: str | None = None) -> dict:
    props = {"hs_start_datetime": start, "hs_end_datetime": end, "hs_target_amount": amount}
    return {"id": start, "properties": props | {"hs_assignee_user_id": user, "hubspot_owner_id": owner}}


def test_goal_slices_count_by_their_middle_and_map_users_to_owners() -> None:
    request = TargetRequest("crm_goal", date(2026, 10, 1), date(2026, 12, 31), name="Revenue")
    owners = goals.user_owners(
        [{"id": "71", "userId": 51}, {"id": "72", "userId": None, "userIdIncludingInactive": 52}]
    )
    slices = [
        _slice("2026-10-01T04:00:00.000Z", "2026-11-01T03:59:59.999Z", "100", "51"),  # October, Eastern
        _slice("2026-09-01T04:00:00.000Z", "2026-10-01T03:59:59.999Z", "999", "51"),  # September: out
        _slice("2026-12-01T05:00:00.000Z", "2027-01-01T04:59:59.999Z", "50", "52"),  # archived owner's user
        _slice("2026-11-01T04:00:00.000Z", "2026-12-01T04:59:59.999Z", "7", None, "73"),  # no user: the owner
        _slice("2026-11-01T04:00:00.000Z", "2026-12-01T04:59:59.999Z", "8", "99"),  # no such user
    ]

    read = goals.read_goal(slices, owners, request, ZoneInfo("America/Los_Angeles"))

    assert read.amounts == {"71": Decimal(100), "72": Decimal(50), "73": Decimal(7)}
    assert "(1 assigned to no owner)" in read.read
