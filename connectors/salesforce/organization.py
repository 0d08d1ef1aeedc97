"""The org behind a source: its id, its corporate currency, and the exchange rates it converts with.

Costs one query per object, once per run: CurrencyType and DatedConversionRate in a multi-currency
org (the org id comes from the token's identity URL), Organization in a single-currency org or
when a static token names no org. Advanced Currency Management is detected the way the org allows:
DatedConversionRate exists only where ACM is enabled, so the query's INVALID_TYPE means "off".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from connectors.salesforce.client import OrgClient
from connectors.salesforce.currency import (
    CURRENCY_TYPES_QUERY,
    DATED_RATES_QUERY,
    MISSING_OBJECT_CODES,
    RateTable,
    to_rate_table,
)
from syncer.contract import SourceIdentity
from syncer.errors import RejectedRequestError

ORGANIZATION_QUERY = "SELECT Id, DefaultCurrencyIsoCode FROM Organization"
ACM_NOTE = "dated exchange rates: in use (Advanced Currency Management): opportunities convert by CloseDate"


@dataclass(frozen=True, slots=True)
class RateUse:
    """What the configured streams need of the rates: CurrencyType rates, dated rates, or none."""

    convert: bool  # False: `convert_currency: false`, amounts are taken as they are
    static: bool  # a money stream reads an object converted with CurrencyType rates
    dated: bool  # a money stream reads Opportunity (dated rates when ACM is on)


@dataclass(frozen=True, slots=True)
class OrgFacts:
    identity: SourceIdentity
    rates: RateTable | None  # None: single-currency org, or conversion turned off


def read_org(client: OrgClient, *, multi_currency: bool, use: RateUse) -> OrgFacts:
    """The org's identity and rates. Raises CrmError; RejectedRequestError if the rates are unreadable."""
    if not multi_currency:
        org_id, currency = _organization(client)
        return OrgFacts(SourceIdentity(org_id=org_id, home_currency=currency), None)
    table = _rate_table(client)
    org_id = client.org_id or _organization(client)[0]
    notes = [f"multi-currency org: {len(table.rates)} currencies, corporate currency {table.corporate}"]
    if table.uses_dated_rates:
        notes.append(ACM_NOTE)
    if not use.convert:
        notes.append(
            "convert_currency: false — amounts are taken as they are, each in its record's own currency"
        )
        return OrgFacts(SourceIdentity(org_id=org_id, home_currency=None, notes=tuple(notes)), None)
    # Without ACM every object, Opportunity included, converts with the CurrencyType rates.
    version = table.fingerprint(static=use.static or not table.uses_dated_rates, dated=use.dated)
    identity = SourceIdentity(org_id, table.corporate, tuple(notes), rates_version=version)
    return OrgFacts(identity, table)


def _rate_table(client: OrgClient) -> RateTable:
    currencies = list(_rows(client, CURRENCY_TYPES_QUERY))
    try:
        dated: list[Any] | None = list(_rows(client, DATED_RATES_QUERY))
    except RejectedRequestError as exc:
        if exc.code not in MISSING_OBJECT_CODES:
            raise
        dated = None
    try:
        return to_rate_table(currencies, dated)
    except ValueError as exc:
        raise RejectedRequestError(
            f"cannot read the org's exchange rates: {exc}; grant the integration user read access to "
            "CurrencyType, or set convert_currency: false",
            source=client.source,
        ) from None


def _organization(client: OrgClient) -> tuple[str, str | None]:
    rows = list(_rows(client, ORGANIZATION_QUERY))
    if not rows or not rows[0].get("Id"):
        raise RejectedRequestError("the Organization query returned no row", source=client.source)
    currency = rows[0].get("DefaultCurrencyIsoCode")
    return str(rows[0]["Id"]), str(currency) if currency else None


def _rows(client: OrgClient, soql: str) -> Iterator[Any]:
    for page in client.iter_query_pages(soql, include_deleted=False):
        yield from page.rows
