"""The numbers each sandbox should end up with, computed here from its raw records.

Plain Python over the sandboxes' own objects, sharing no code with syncer/ or connectors/:
`skip` names the records a test spoiled (they must count nowhere); every other record counts
as the YAML in `orgs` says. Periods are the current calendar year in UTC (the YAML's zone).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any

from sandbox.hubspot import HubSpotSandbox
from sandbox.salesforce import SalesforceSandbox

CENT = Decimal("0.01")
FINE = Decimal("0.000001")  # averages keep six places


def this_year() -> int:
    return datetime.now(UTC).year


def _hs_instant(text: Any) -> datetime | None:
    if text in (None, ""):
        return None
    parsed = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return parsed.astimezone(UTC)


def _hs_day(text: Any) -> date | None:
    instant = _hs_instant(text)
    return instant.date() if instant else None


class _Tally:
    """Sums and counts of one CRM's key results."""

    def __init__(self, prefix: str, groups: Iterable[str] = ()) -> None:
        self.prefix = prefix
        self.revenue, self.won, self.calls = Decimal(0), 0, 0
        self.cycle: list[int] = []
        self.talk: list[int] = []
        self.rep_revenue: dict[str, Decimal] = {g: Decimal(0) for g in groups}
        self.rep_calls: dict[str, int] = defaultdict(int, dict.fromkeys(groups, 0))

    def values(self) -> dict[str, Decimal | None]:
        p = self.prefix
        found: dict[str, Decimal | None] = {
            f"{p}.revenue": self.revenue.quantize(CENT),
            f"{p}.won": Decimal(self.won),
            f"{p}.cycle": _mean(self.cycle),
            f"{p}.calls": Decimal(self.calls),
            f"{p}.talk": _mean(self.talk),
        }
        found |= {f"{p}.revenue.{g}": v.quantize(CENT) for g, v in self.rep_revenue.items()}
        found |= {f"{p}.calls.{g}": Decimal(v) for g, v in self.rep_calls.items() if g in self.rep_revenue}
        return found


def _mean(items: list[int]) -> Decimal | None:
    if not items:
        return None
    return (Decimal(sum(items)) / Decimal(len(items))).quantize(FINE, rounding=ROUND_HALF_UP)


def hubspot_values(hs: HubSpotSandbox, *, skip: frozenset[str] = frozenset()) -> dict[str, Decimal | None]:
    """okr_key → value: totals, and revenue and calls per active owner (by lower-case e-mail)."""
    emails = {o["id"]: o["email"].lower() for o in hs.portal.owners if not o["archived"]}
    tally = _Tally("hub", emails.values())
    year = this_year()
    for deal in hs.records("deals"):
        p = deal.properties
        if deal.id in skip or p.get("pipeline") != "default" or p.get("hs_is_closed_won") != "true":
            continue
        close = _hs_day(p.get("closedate"))
        if close is None or close.year != year:
            continue
        amount = p.get("amount_in_home_currency") or p.get("amount")
        if amount is not None:
            tally.revenue += Decimal(amount)
            owner = emails.get(p.get("hubspot_owner_id") or "")
            if owner:
                tally.rep_revenue[owner] += Decimal(amount)
        tally.won += 1
        created = _hs_day(p.get("createdate"))
        if created is not None and close >= created:  # a span ending before it starts is no duration
            tally.cycle.append((close - created).days)
    for call in hs.records("calls"):
        p = call.properties
        at = None if call.id in skip else _hs_instant(p.get("hs_timestamp"))
        if at is None or at.year != year:
            continue
        tally.calls += 1
        owner = emails.get(p.get("hubspot_owner_id") or "")
        if owner:
            tally.rep_calls[owner] += 1
        if p.get("hs_call_duration") not in (None, ""):
            ms = Decimal(p["hs_call_duration"])
            tally.talk.append(int((ms / 1000).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)))
    return tally.values()


def hubspot_written(hs: HubSpotSandbox) -> dict[str, Decimal | None]:
    return {
        r.properties["okr_key"]: _number(r.properties.get("okr_value")) for r in hs.records("p_key_results")
    }


def salesforce_values(
    sf: SalesforceSandbox, *, skip: frozenset[str] = frozenset()
) -> dict[str, Decimal | None]:
    """OKR_Key__c → value as the org keeps it (Value__c has two decimal places)."""
    partner = {r["Id"] for r in sf.org.records("RecordType") if r["DeveloperName"] == "Partner"}
    tally = _Tally("sf")
    year = this_year()
    for opp in sf.org.records("Opportunity"):
        if opp["Id"] in skip or opp["RecordTypeId"] in partner or not opp["IsWon"]:
            continue
        if opp["CloseDate"].year != year:
            continue
        if opp["Amount"] is not None and opp["CurrencyIsoCode"] == "USD":
            tally.revenue += Decimal(str(opp["Amount"]))
        tally.won += 1
        days = (opp["CloseDate"] - opp["CreatedDate"].astimezone(UTC).date()).days
        if days >= 0:  # a span ending before it starts is no duration
            tally.cycle.append(days)
    for task in sf.org.records("Task"):
        if task["Id"] in skip or task["TaskSubtype"] != "Call" or task["CreatedDate"].year != year:
            continue
        tally.calls += 1
        if task["CallDurationInSeconds"] is not None:
            tally.talk.append(int(task["CallDurationInSeconds"]))
    return {
        key: None if value is None else value.quantize(CENT, rounding=ROUND_HALF_EVEN)
        for key, value in tally.values().items()
    }


def salesforce_written(sf: SalesforceSandbox) -> dict[str, Decimal | None]:
    return {r["OKR_Key__c"]: _number(r["Value__c"]) for r in sf.org.records("OKR_Key_Result__c")}


def _number(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value)).quantize(FINE)


def as_written(values: dict[str, Decimal | None]) -> dict[str, Decimal | None]:
    return {key: None if value is None else value.quantize(FINE) for key, value in values.items()}
