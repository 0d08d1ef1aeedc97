"""The sample org's exchange rates: one rate per currency, and dated rates month by month.

Rates say how many units of a currency make one unit of the home currency (USD). The dated rates
start with the set that was in force before dated rates were turned on, valid from the earliest
date there is, then change on the first of every month of the sample's history and horizon, so
a deal's converted amount depends on its close date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sandbox.sample_calendar import SampleCalendar
from sandbox.sample_records import CURRENCY_RATES, HOME_CURRENCY

EARLIEST = date(1, 1, 1)  # the first set of dated rates is valid "for all time" before the next
# Month-on-month moves of each currency against USD, in basis points; cycled over the months.
MONTHLY_MOVES_BP: dict[str, tuple[int, ...]] = {
    "EUR": (0, 180, -90, 240, 60, -150, 310, -40, 120, -210, 90, 30),
    "GBP": (0, -120, 200, -60, 150, 80, -230, 140, -20, 260, -110, 50),
}


@dataclass(frozen=True, slots=True)
class SampleRate:
    """`rate` units of `currency` per 1 USD, from `start` until the next rate of the currency."""

    currency: str
    rate: Decimal
    start: date


def dated_rates(calendar: SampleCalendar) -> tuple[SampleRate, ...]:
    """The initial set (from EARLIEST) and one rate per foreign currency per month."""
    rates = [SampleRate(code, rate, EARLIEST) for code, rate in CURRENCY_RATES.items()]
    month, index = calendar.history_start.replace(day=1), 0
    while month <= calendar.horizon_end:
        for code, base in CURRENCY_RATES.items():
            if code == HOME_CURRENCY:
                continue
            moves = MONTHLY_MOVES_BP[code]
            factor = 1 + Decimal(moves[index % len(moves)] + 25 * index) / 10_000
            rates.append(SampleRate(code, (base * factor).quantize(Decimal("0.000001")), month))
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        index += 1
    return tuple(rates)
