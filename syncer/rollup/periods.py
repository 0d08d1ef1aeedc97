"""Periods: which calendar days an objective covers, resolved from the clock at every cycle.

Everything is read in the configured time zone: "today" is the local date of `now`, and a
period [start, end] covers the instants from local midnight at `start` to local midnight
after `end`.

Period names (the YAML's `period:`):
- `current_quarter`, `previous_quarter`, `current_year`, `previous_year` follow the fiscal
  year (`fiscal_year_start_month`); `current_month` / `previous_month` are calendar months.
- `2026-Q4` is a *calendar* quarter (October–December 2026) and `2026` a calendar year,
  whatever the fiscal year.
- `FY2027` is the fiscal year *ending* in 2027 (Salesforce's convention: a fiscal year is
  named by its ending year), so with `fiscal_year_start_month: 2` it runs 2026-02-01 to
  2027-01-31; `FY2027-Q1` is its first quarter (2026-02-01 to 2026-04-30). With a January
  start, FY2027 is simply the calendar year 2027.
- `{start, end}` is taken as written.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo

from syncer.config.models import NAMED_PERIOD, DateRange
from syncer.config.models import Period as PeriodSpec
from syncer.values import Period, local_midnight

_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def add_months(first_of_month: date, months: int) -> date:
    """The first day of the month `months` after (or before) the month of `first_of_month`."""
    index = first_of_month.year * 12 + first_of_month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _month_span(start: date, months: int) -> Period:
    return Period(start, add_months(start, months) - timedelta(days=1))


def local_today(now: datetime, zone: tzinfo) -> date:
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    return now.astimezone(zone).date()


def resolve_period(
    spec: PeriodSpec, *, now: datetime, zone: tzinfo, fiscal_year_start_month: int = 1
) -> Period:
    """The days `spec` covers at `now` (see the module docstring for the names)."""
    if isinstance(spec, DateRange):
        return Period(spec.start, spec.end)
    if spec.startswith(("current_", "previous_")):
        when, unit = spec.split("_", 1)
        current = _current(unit, local_today(now, zone), fiscal_year_start_month)
        return current if when == "current" else previous_period(current)
    return _named(spec, fiscal_year_start_month)


def _current(unit: str, today: date, fiscal_year_start_month: int) -> Period:
    month_start = today.replace(day=1)
    if unit == "month":
        return _month_span(month_start, 1)
    months_into_year = (today.month - fiscal_year_start_month) % 12
    back = months_into_year % 3 if unit == "quarter" else months_into_year
    return _month_span(add_months(month_start, -back), _MONTHS[unit])


def _named(spec: str, fiscal_year_start_month: int) -> Period:
    match = NAMED_PERIOD.match(spec)
    if match is None:
        raise ValueError(f"'{spec}' is not a period name")
    fiscal, year, quarter = match[1] is not None, int(match[2]), match[3]
    if fiscal and fiscal_year_start_month != 1:
        year_start = date(year - 1, fiscal_year_start_month, 1)  # named by its ending year
    else:
        year_start = date(year, fiscal_year_start_month if fiscal else 1, 1)
    if quarter is None:
        return _month_span(year_start, 12)
    return _month_span(add_months(year_start, 3 * (int(quarter) - 1)), 3)


def previous_period(period: Period) -> Period:
    """The period of equal length just before `period`.

    A period made of whole months (a month, a quarter, a year, or an explicit range from the
    1st of a month to the last day of a month) steps back by that many months, so the
    previous period of 2026-01-01..2026-03-31 is 2025-10-01..2025-12-31 (92 days, not 90);
    any other range steps back by its length in days.
    """
    months = _whole_months(period)
    if months:
        return _month_span(add_months(period.start, -months), months)
    return Period(period.start - timedelta(days=period.days), period.start - timedelta(days=1))


def _whole_months(period: Period) -> int:
    if period.start.day != 1 or period.day_after.day != 1:
        return 0
    after = period.day_after
    return (after.year - period.start.year) * 12 + after.month - period.start.month


def local_bounds(period: Period, zone: tzinfo) -> tuple[datetime, datetime]:
    """[start, end) as UTC instants: local midnight at the start, and after the last day."""
    return local_midnight(period.start, zone), local_midnight(period.day_after, zone)


def elapsed_share(period: Period, now: datetime, zone: tzinfo) -> float:
    """How much of the period has passed at `now`, in [0, 1] (real elapsed time, DST-aware)."""
    start, end = local_bounds(period, zone)
    share = (now - start) / (end - start)
    return min(1.0, max(0.0, share))
