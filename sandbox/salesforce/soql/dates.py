"""SOQL date literals (TODAY, LAST_N_DAYS:n, THIS_QUARTER…) as half-open ranges of days.

The sandbox's running user lives in UTC, so the ranges are UTC calendar days and calendar quarters.
"""

from __future__ import annotations

from datetime import date, timedelta

from sandbox.salesforce.soql.syntax import DateRange


def resolve_range(literal: DateRange, today: date) -> tuple[date, date]:
    """[first day, day after the last) of the literal, seen from `today`."""
    name, amount = literal.name, literal.amount or 0
    one_day = timedelta(days=1)
    if name == "TODAY":
        return today, today + one_day
    if name == "YESTERDAY":
        return today - one_day, today
    if name == "TOMORROW":
        return today + one_day, today + 2 * one_day
    if name == "LAST_N_DAYS":  # today and the n days before it
        return today - timedelta(days=amount), today + one_day
    if name == "NEXT_N_DAYS":  # the n days after today
        return today + one_day, today + timedelta(days=amount + 1)
    unit, shift = name.split("_", 1)[1], {"THIS": 0, "LAST": -1, "NEXT": 1}[name.split("_", 1)[0]]
    months = {"MONTH": 1, "QUARTER": 3, "YEAR": 12}[unit]
    first = _period_start(today, months)
    return _add_months(first, shift * months), _add_months(first, (shift + 1) * months)


def _period_start(day: date, months: int) -> date:
    return date(day.year, (day.month - 1) // months * months + 1, 1)


def _add_months(first_day: date, months: int) -> date:
    total = first_day.year * 12 + first_day.month - 1 + months
    return date(total // 12, total % 12 + 1, 1)
