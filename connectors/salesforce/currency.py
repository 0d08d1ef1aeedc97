"""A multi-currency org's exchange rates, and amounts converted into its corporate currency.

Salesforce keeps one rate per currency in `CurrencyType` and, with Advanced Currency Management
(ACM), date ranges of rates in `DatedConversionRate`; both say how many units of the currency make
one unit of the corporate currency, so corporate = amount / rate. Dated rates apply to
opportunities by their CloseDate; every other object uses the CurrencyType rate. okrsync converts
with these rates itself instead of SOQL convertCurrency(), which converts into the integration
user's personal currency. Parses query rows; makes no HTTP call.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from typing import Any

from syncer.errors import BadRecordError

# The objects whose currency fields ACM converts with dated rates, and the date it uses.
DATED_OBJECTS = {"opportunity": "CloseDate"}
CURRENCY_TYPES_QUERY = (
    "SELECT IsoCode, ConversionRate, DecimalPlaces, IsCorporate, IsActive FROM CurrencyType"
)
DATED_RATES_QUERY = "SELECT IsoCode, ConversionRate, StartDate, NextStartDate FROM DatedConversionRate ORDER BY IsoCode, StartDate"
# Querying an object the org does not have fails with INVALID_TYPE (404 NOT_FOUND on describe):
# DatedConversionRate exists only in orgs with ACM enabled.
MISSING_OBJECT_CODES = frozenset({"INVALID_TYPE", "NOT_FOUND"})


@dataclass(frozen=True, slots=True)
class DatedRate:
    """One DatedConversionRate row: `rate` applies from `start` until the day before `next_start`."""

    iso_code: str
    rate: Decimal
    start: date
    next_start: date | None


@dataclass(frozen=True, slots=True)
class RateTable:
    """The org's rates; `dated` is None when ACM is off."""

    corporate: str
    decimal_places: int
    rates: Mapping[str, Decimal]  # CurrencyType: units of the currency per 1 corporate unit
    dated: Mapping[str, tuple[DatedRate, ...]] | None

    @property
    def uses_dated_rates(self) -> bool:
        return self.dated is not None

    def rate(self, iso_code: str, on: date | None) -> Decimal | None:
        """The rate for `iso_code` on `on` (a dated rate when given and known), else None."""
        if iso_code == self.corporate:
            return Decimal(1)
        if on is not None and self.dated is not None:
            for row in self.dated.get(iso_code, ()):
                if row.start <= on and (row.next_start is None or on < row.next_start):
                    return row.rate
        return self.rates.get(iso_code)

    def to_corporate(self, amount: Decimal, iso_code: str, on: date | None) -> Decimal:
        """`amount` in `iso_code` as corporate currency, rounded to its decimal places.

        `on` is the record's CloseDate for dated conversion, None for the CurrencyType rate.
        Raises ValueError when the org has no usable rate for the currency.
        """
        return self.convert(amount, self.rate(iso_code, on), iso_code)

    def convert(self, amount: Decimal, rate: Decimal | None, iso_code: str) -> Decimal:
        """`amount` divided by `rate` (the rate of `iso_code` that applies), rounded as corporate
        currency; raises ValueError when there is no usable rate."""
        if rate is None or rate <= 0:
            raise ValueError(f"the org has no exchange rate for currency `{iso_code}`")
        quantum = _quantum(self.decimal_places)
        try:
            return (amount / rate).quantize(quantum, rounding=ROUND_HALF_UP)
        except InvalidOperation:  # more digits than a Decimal holds: an amount like 1e30
            raise ValueError("amount is too large to convert") from None

    def fingerprint(self, *, static: bool, dated: bool) -> str:
        """A digest of the rates conversions use: equal digests, equal converted amounts."""
        lines = [f"corporate {self.corporate} {self.decimal_places}"]
        if static:
            lines += [f"rate {code} {rate.normalize()}" for code, rate in sorted(self.rates.items())]
        if dated and self.dated is not None:
            lines += [
                f"dated {r.iso_code} {r.start} {r.next_start} {r.rate.normalize()}"
                for code in sorted(self.dated)
                for r in self.dated[code]
            ]
        return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:32]


@cache
def _quantum(places: int) -> Decimal:
    """The smallest step of an amount with `places` decimals (2: 0.01)."""
    return Decimal(1).scaleb(-places)


def to_rate_table(currency_rows: Iterable[Any], dated_rows: Iterable[Any] | None) -> RateTable:
    """The table from CurrencyType rows and DatedConversionRate rows (None: ACM is off).

    Raises ValueError when no active currency is marked corporate or a rate is not a number.
    """
    rates: dict[str, Decimal] = {}
    corporate: tuple[str, int] | None = None
    for row in currency_rows:
        code, rate = str(row.get("IsoCode") or ""), _number(row.get("ConversionRate"), "ConversionRate")
        if not code or rate is None:
            continue
        rates[code] = rate
        if row.get("IsCorporate") is True:
            places = _number(row.get("DecimalPlaces"), "DecimalPlaces")
            corporate = (code, int(places) if places is not None else 2)
    if corporate is None:
        raise ValueError("CurrencyType has no corporate currency (IsCorporate = true)")
    dated = None if dated_rows is None else _dated(dated_rows)
    return RateTable(corporate=corporate[0], decimal_places=corporate[1], rates=rates, dated=dated)


def _dated(rows: Iterable[Any]) -> dict[str, tuple[DatedRate, ...]]:
    by_code: dict[str, list[DatedRate]] = {}
    for row in rows:
        code, rate = str(row.get("IsoCode") or ""), _number(row.get("ConversionRate"), "ConversionRate")
        start = _day(row.get("StartDate"))
        if not code or rate is None or start is None:
            continue
        by_code.setdefault(code, []).append(DatedRate(code, rate, start, _day(row.get("NextStartDate"))))
    return {code: tuple(sorted(rows_, key=lambda r: r.start)) for code, rows_ in by_code.items()}


def to_amount(value: Any) -> Decimal | None:
    """A query value (JSON number, Decimal, or Bulk CSV text) as a Decimal; None when it is no number."""
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _number(value: Any, name: str) -> Decimal | None:
    if value is None:
        return None
    number = to_amount(value)
    if number is None:
        raise ValueError(f"{name} `{value}` is not a number")
    return number


def _day(value: Any) -> date | None:
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class MoneyColumns:
    """Where a stream's query rows hold the amount, its currency and the date dated rates go by."""

    amount: str
    currency: str
    rate_date: str | None  # CloseDate on Opportunity; None: the CurrencyType rate applies


def convert_rows(
    stream: str, rows: Iterable[Any], columns: MoneyColumns, table: RateTable
) -> tuple[list[Any], list[BadRecordError]]:
    """Rows with the amount in corporate currency, and the rows whose currency has no rate.

    A row without an amount, or whose amount is no number (mapping rejects it), passes unchanged.
    A row that is a plain dict (what the client's JSON and the Bulk CSV reader make, owned by the
    page) is converted in place: a copy of each of a page's rows would cost more than converting.
    """
    converted: list[Any] = []
    rejected: list[BadRecordError] = []
    amount_key, currency_key, corporate = columns.amount, columns.currency, table.corporate
    date_key = columns.rate_date if table.uses_dated_rates else None
    days: dict[str, date | None] = {}  # a page holds few distinct close dates: each parsed once
    rates: dict[tuple[str, date | None], Decimal | None] = {}  # and few (currency, date) rates
    for row in rows:
        if type(row) is not dict and not isinstance(row, Mapping):
            converted.append(row)
            continue
        raw = row.get(amount_key)
        amount = raw if type(raw) is Decimal and raw.is_finite() else to_amount(raw)
        if amount is None:
            converted.append(row)
            continue
        code = str(row.get(currency_key) or corporate)
        on = None
        if date_key is not None:
            stamp = row.get(date_key)
            if type(stamp) is str:
                on = days[stamp] if stamp in days else days.setdefault(stamp, _day(stamp))
            else:
                on = _day(stamp)
        key = (code, on)
        rate = rates[key] if key in rates else rates.setdefault(key, table.rate(code, on))
        try:
            value = table.convert(amount, rate, code)
        except ValueError as exc:
            record_id = row.get("Id")
            rejected.append(
                BadRecordError(stream, record_id if isinstance(record_id, str) else None, str(exc))
            )
            continue
        if type(row) is dict:
            row[amount_key] = value
            converted.append(row)
        else:
            converted.append({**row, amount_key: value})
    return converted, rejected
