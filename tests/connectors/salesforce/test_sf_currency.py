"""The org's exchange rates: which rate a record converts with, rounding, and the rates digest."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from connectors.salesforce.currency import MoneyColumns, convert_rows, to_rate_table

CURRENCIES = [
    {"IsoCode": "USD", "ConversionRate": 1.0, "DecimalPlaces": 2, "IsCorporate": True, "IsActive": True},
    {"IsoCode": "EUR", "ConversionRate": 0.8, "DecimalPlaces": 2, "IsCorporate": False, "IsActive": True},
    {"IsoCode": "JPY", "ConversionRate": 150.0, "DecimalPlaces": 0, "IsCorporate": False, "IsActive": False},
]
DATED = [
    {"IsoCode": "EUR", "ConversionRate": 0.9, "StartDate": "0001-01-01", "NextStartDate": "2026-10-01"},
    {"IsoCode": "EUR", "ConversionRate": 0.75, "StartDate": "2026-10-01", "NextStartDate": None},
]
OPPORTUNITY = MoneyColumns("Amount", "CurrencyIsoCode", "CloseDate")


def converted(rows: list[dict[str, Any]], *, dated: list[dict[str, Any]] | None = DATED) -> list[Any]:
    table = to_rate_table(CURRENCIES, dated)
    out, rejected = convert_rows("deals", rows, OPPORTUNITY, table)
    assert not rejected
    return [row["Amount"] for row in out]


@pytest.mark.parametrize(
    ("close_date", "amount"),
    [
        ("2026-09-30", Decimal("1111.11")),  # 1,000 / 0.9: the range before 1 October
        ("2026-10-01", Decimal("1333.33")),  # NextStartDate is the first day of the next range
    ],
)
def test_an_opportunity_converts_at_the_dated_rate_of_its_close_date(
    close_date: str, amount: Decimal
) -> None:
    assert converted([{"Amount": 1000, "CurrencyIsoCode": "EUR", "CloseDate": close_date}]) == [amount]


def test_without_dated_rates_the_currency_type_rate_applies_and_inactive_currencies_still_convert() -> None:
    rows = [
        {"Amount": "1000", "CurrencyIsoCode": "EUR", "CloseDate": "2026-10-01"},  # Bulk API: text
        {"Amount": 15000, "CurrencyIsoCode": "JPY", "CloseDate": "2026-10-01"},
        {"Amount": 0.125, "CurrencyIsoCode": "USD", "CloseDate": "2026-10-01"},  # rounded half up
        {"Amount": None, "CurrencyIsoCode": "EUR", "CloseDate": "2026-10-01"},
    ]
    assert converted(rows, dated=None) == [Decimal("1250.00"), Decimal("100.00"), Decimal("0.13"), None]


def test_a_currency_the_org_has_no_rate_for_is_rejected_with_the_reason() -> None:
    table = to_rate_table(CURRENCIES, None)
    rows = [{"Id": "006A", "Amount": 5, "CurrencyIsoCode": "CHF", "CloseDate": "2026-10-01"}]

    out, rejected = convert_rows("deals", rows, OPPORTUNITY, table)

    assert out == []
    assert [(r.record_id, r.reason) for r in rejected] == [
        ("006A", "the org has no exchange rate for currency `CHF`")
    ]


def test_the_digest_follows_only_the_rates_conversions_use() -> None:
    table = to_rate_table(CURRENCIES, DATED)
    moved_static = to_rate_table(
        [{**CURRENCIES[0]}, {**CURRENCIES[1], "ConversionRate": 0.7}, CURRENCIES[2]], DATED
    )
    moved_dated = to_rate_table(CURRENCIES, [DATED[0], {**DATED[1], "ConversionRate": 0.7}])

    opportunities = {"static": False, "dated": True}
    assert table.fingerprint(**opportunities) == moved_static.fingerprint(**opportunities)
    assert table.fingerprint(**opportunities) != moved_dated.fingerprint(**opportunities)
    assert table.fingerprint(static=True, dated=False) != moved_static.fingerprint(static=True, dated=False)


def test_rates_without_a_corporate_currency_are_refused() -> None:
    with pytest.raises(ValueError, match="no corporate currency"):
        to_rate_table([{**row, "IsCorporate": False} for row in CURRENCIES], None)
