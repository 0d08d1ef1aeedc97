"""Collaborative Forecasts in the sandbox org: ForecastingType and ForecastingQuota records
(docs/crm-apis.md §1.13; the objects are in `org_schema.py`). The org has three
forecast types (opportunity revenue and quantity, active; split revenue, inactive) and the sample's
quotas (`sandbox.sample_quotas`) as one revenue quota (QuotaAmount) and one quantity quota
(QuotaQuantity) per rep and span, each starting on the first day of its month or quarter.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta

from sandbox.salesforce.org import Org, Record
from sandbox.sample_quotas import sample_quotas
from sandbox.sample_records import SampleOrg

# DeveloperName → (IsActive, IsAmount): the standard opportunity forecast types.
FORECASTING_TYPES = {
    "OpportunityRevenue": (True, True),
    "OpportunityQuantity": (True, False),
    "OpportunitySplitRevenue": (False, True),
}


def seed_forecasting(org: Org, sample: SampleOrg, user_ids: dict[str, str]) -> None:
    """The forecast types and the sample's quotas; `user_ids` maps sample user keys to User ids."""
    created = datetime.combine(sample.calendar.history_start, time(0), tzinfo=UTC) - timedelta(days=30)
    stamps: Record = {"CreatedDate": created, "LastModifiedDate": created, "SystemModstamp": created}
    types = org.id_sequence("ForecastingType")
    type_ids = {name: types.next_id() for name in FORECASTING_TYPES}
    org.load("ForecastingType", (
        {"Id": type_ids[name], "DeveloperName": name, "MasterLabel": name, "IsActive": active,
         "IsAmount": amount, "IsQuantity": not amount, "CanDisplayQuotas": True, **stamps}
        for name, (active, amount) in FORECASTING_TYPES.items()
    ))  # fmt: skip
    org.load("ForecastingQuota", _quotas(org, sample, user_ids, type_ids, stamps))


def _quotas(
    org: Org, sample: SampleOrg, user_ids: dict[str, str], type_ids: dict[str, str], stamps: Record
) -> Iterator[Record]:
    ids = org.id_sequence("ForecastingQuota")
    for quota in sample_quotas(sample):
        common = {"QuotaOwnerId": user_ids[quota.owner_key], "StartDate": quota.start,
                  "CurrencyIsoCode": sample.home_currency, "IsDeleted": False, **stamps}  # fmt: skip
        yield {"Id": ids.next_id(), "ForecastingTypeId": type_ids["OpportunityRevenue"], "IsAmount": True,
               "IsQuantity": False, "QuotaAmount": float(quota.amount), "QuotaQuantity": None, **common}  # fmt: skip
        yield {"Id": ids.next_id(), "ForecastingTypeId": type_ids["OpportunityQuantity"], "IsAmount": False,
               "IsQuantity": True, "QuotaAmount": None, "QuotaQuantity": float(quota.deals), **common}  # fmt: skip
