"""Collaborative Forecasts quotas: `target: {from: crm_quota}` (docs/crm-apis.md §1.13).

Two queries per key result and cycle: the active forecast types (to resolve `forecasting_type`, a
DeveloperName, and whether the type counts revenue or quantity), then that type's quotas whose
StartDate falls in the period. A quota covers a month or a quarter from its StartDate, so summing
the quotas that start in the period gives each rep's target for it. Quotas with no QuotaOwnerId
(territory quotas) belong to no rep and are left out. Amounts in another currency than the
corporate one are converted with the org's rates, on the quota's StartDate.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from connectors.salesforce.currency import RateTable, to_amount
from syncer.contract import OwnerTargets, TargetRequest
from syncer.errors import RejectedRequestError

Rows = Callable[[str], Iterable[Mapping[str, Any]]]
DEFAULT_TYPE = "OpportunityRevenue"  # the standard opportunity revenue forecast type
TYPES_QUERY = "SELECT Id, DeveloperName, IsAmount, IsQuantity FROM ForecastingType WHERE IsActive = true"
_ID = re.compile(r"^[A-Za-z0-9]{15,18}$")


@dataclass(frozen=True, slots=True)
class ForecastType:
    id: str
    developer_name: str
    amount: bool  # QuotaAmount (revenue) when true, QuotaQuantity otherwise


def resolve_type(rows: Iterable[Mapping[str, Any]], wanted: str | None, *, source: str) -> ForecastType:
    """The active forecast type named `wanted` (a DeveloperName), or by default the opportunity
    revenue type (or the only active revenue type). Raises RejectedRequestError naming the choices."""
    active = [
        ForecastType(str(row["Id"]), str(row.get("DeveloperName") or ""), bool(row.get("IsAmount")))
        for row in rows
        if row.get("Id")
    ]
    names = ", ".join(sorted(t.developer_name for t in active)) or "none"
    if wanted is not None:
        for forecast_type in active:
            if forecast_type.developer_name == wanted:
                return forecast_type
        raise RejectedRequestError(
            f"no active forecast type `{wanted}` (ForecastingType.DeveloperName); active ones: {names}. "
            "Fix `forecasting_type:` or activate the type in Forecasts Settings",
            source=source,
        )
    revenue = [t for t in active if t.amount]
    default = [t for t in revenue if t.developer_name == DEFAULT_TYPE] or (
        revenue if len(revenue) == 1 else []
    )
    if not default:
        raise RejectedRequestError(
            f"no active opportunity revenue forecast type ({DEFAULT_TYPE}) to read quotas of; active ones: "
            f"{names}. Name one with `forecasting_type:`",
            source=source,
        )
    return default[0]


def quotas_query(forecast_type: ForecastType, start: date, end: date, *, currencies: bool) -> str:
    if not _ID.match(forecast_type.id):  # an id is the only value spliced into the query
        raise ValueError(f"not a Salesforce id: {forecast_type.id!r}")
    measure = "QuotaAmount" if forecast_type.amount else "QuotaQuantity"
    currency = ", CurrencyIsoCode" if currencies and forecast_type.amount else ""
    return (
        f"SELECT Id, QuotaOwnerId, StartDate, {measure}{currency} FROM ForecastingQuota "
        f"WHERE ForecastingTypeId = '{forecast_type.id}' "
        f"AND StartDate >= {start.isoformat()} AND StartDate <= {end.isoformat()}"
    )


def read_quotas(rows: Rows, request: TargetRequest, rates: RateTable | None, *, source: str) -> OwnerTargets:
    """Each rep's summed quota for the request's period (see the module docstring)."""
    forecast_type = resolve_type(rows(TYPES_QUERY), request.forecasting_type, source=source)
    measure = "QuotaAmount" if forecast_type.amount else "QuotaQuantity"
    query = quotas_query(forecast_type, request.start, request.end, currencies=rates is not None)
    amounts: dict[str, Decimal] = {}
    count = 0
    for row in rows(query):
        owner, value = row.get("QuotaOwnerId"), to_amount(row.get(measure))
        if not owner or value is None:
            continue  # a territory's quota, or one with no number: no rep's target
        iso = row.get("CurrencyIsoCode")
        if rates is not None and forecast_type.amount and iso and iso != rates.corporate:
            try:
                value = rates.to_corporate(value, str(iso), _day(row.get("StartDate")))
            except ValueError as exc:
                raise RejectedRequestError(f"quota {row.get('Id')}: {exc}", source=source) from None
        amounts[str(owner)] = amounts.get(str(owner), Decimal(0)) + value
        count += 1
    read = (
        f"ForecastingQuota ({forecast_type.developer_name}, {measure}): {count} quotas of {len(amounts)} reps"
    )
    return OwnerTargets(amounts, read)


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
