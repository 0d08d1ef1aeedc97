"""Periods resolved from the clock, in the configured zone and fiscal year."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from syncer.config.models import DateRange
from syncer.rollup.periods import elapsed_share, local_bounds, previous_period, resolve_period
from syncer.values import Period

NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 12, 16, 17, 0, tzinfo=UTC)  # 12:00 in New York


@pytest.mark.parametrize(
    ("spec", "fiscal_start", "expected"),
    [
        ("current_quarter", 1, Period(date(2026, 10, 1), date(2026, 12, 31))),
        ("previous_quarter", 1, Period(date(2026, 7, 1), date(2026, 9, 30))),
        ("current_month", 1, Period(date(2026, 12, 1), date(2026, 12, 31))),
        ("previous_month", 1, Period(date(2026, 11, 1), date(2026, 11, 30))),
        ("current_year", 1, Period(date(2026, 1, 1), date(2026, 12, 31))),
        ("previous_year", 1, Period(date(2025, 1, 1), date(2025, 12, 31))),
        # A fiscal year starting in February: quarters Feb–Apr, May–Jul, Aug–Oct, Nov–Jan.
        ("current_quarter", 2, Period(date(2026, 11, 1), date(2027, 1, 31))),
        ("previous_quarter", 2, Period(date(2026, 8, 1), date(2026, 10, 31))),
        ("current_year", 2, Period(date(2026, 2, 1), date(2027, 1, 31))),
        ("previous_year", 2, Period(date(2025, 2, 1), date(2026, 1, 31))),
        ("current_month", 2, Period(date(2026, 12, 1), date(2026, 12, 31))),
        # Named periods: 2026-Q4 and 2026 are calendar; FY names the fiscal year by its end.
        ("2026-Q4", 2, Period(date(2026, 10, 1), date(2026, 12, 31))),
        ("2026", 2, Period(date(2026, 1, 1), date(2026, 12, 31))),
        ("FY2027", 2, Period(date(2026, 2, 1), date(2027, 1, 31))),
        ("FY2027-Q1", 2, Period(date(2026, 2, 1), date(2026, 4, 30))),
        ("FY2027-Q4", 2, Period(date(2026, 11, 1), date(2027, 1, 31))),
        ("FY2027", 1, Period(date(2027, 1, 1), date(2027, 12, 31))),
        ("FY2027-Q2", 1, Period(date(2027, 4, 1), date(2027, 6, 30))),
        ("FY2027-Q1", 10, Period(date(2026, 10, 1), date(2026, 12, 31))),
    ],
)
def test_period_names_resolve_in_the_fiscal_year(spec: str, fiscal_start: int, expected: Period) -> None:
    assert resolve_period(spec, now=NOW, zone=NEW_YORK, fiscal_year_start_month=fiscal_start) == expected


def test_current_quarter_is_read_from_the_local_date_not_utc() -> None:
    # 2027-01-01 03:00 UTC is still 2026-12-31 22:00 in New York: the old quarter.
    now = datetime(2027, 1, 1, 3, 0, tzinfo=UTC)
    assert resolve_period("current_quarter", now=now, zone=NEW_YORK).start == date(2026, 10, 1)
    assert resolve_period("current_quarter", now=now, zone=UTC).start == date(2027, 1, 1)


def test_explicit_range_is_taken_as_written() -> None:
    spec = DateRange(start=date(2026, 10, 15), end=date(2026, 11, 14))
    assert resolve_period(spec, now=NOW, zone=NEW_YORK) == Period(date(2026, 10, 15), date(2026, 11, 14))


@pytest.mark.parametrize(
    ("period", "previous"),
    [
        (Period(date(2026, 1, 1), date(2026, 3, 31)), Period(date(2025, 10, 1), date(2025, 12, 31))),
        (Period(date(2026, 3, 1), date(2026, 3, 31)), Period(date(2026, 2, 1), date(2026, 2, 28))),
        (Period(date(2026, 2, 1), date(2027, 1, 31)), Period(date(2025, 2, 1), date(2026, 1, 31))),
        # Not whole months: shifted back by its length (31 days).
        (Period(date(2026, 10, 15), date(2026, 11, 14)), Period(date(2026, 9, 14), date(2026, 10, 14))),
        (Period(date(2026, 3, 5), date(2026, 3, 5)), Period(date(2026, 3, 4), date(2026, 3, 4))),
    ],
)
def test_previous_period_has_equal_length(period: Period, previous: Period) -> None:
    assert previous_period(period) == previous


def test_local_bounds_are_utc_instants_of_local_midnights() -> None:
    start, end = local_bounds(Period(date(2026, 10, 1), date(2026, 12, 31)), NEW_YORK)
    assert start == datetime(2026, 10, 1, 4, 0, tzinfo=UTC)  # EDT
    assert end == datetime(2027, 1, 1, 5, 0, tzinfo=UTC)  # EST


@pytest.mark.parametrize(
    ("now", "share"),
    [
        (datetime(2026, 9, 1, tzinfo=UTC), 0.0),
        (datetime(2026, 10, 1, 4, 0, tzinfo=UTC), 0.0),
        # From Oct 1 04:00 UTC to Jan 1 05:00 UTC is 2209 hours (the DST change adds one).
        (datetime(2026, 11, 15, 16, 0, tzinfo=UTC), 1092 / 2209),
        (datetime(2027, 1, 1, 5, 0, tzinfo=UTC), 1.0),
        (datetime(2027, 3, 1, tzinfo=UTC), 1.0),
    ],
)
def test_elapsed_share_counts_real_time_in_the_zone(now: datetime, share: float) -> None:
    period = Period(date(2026, 10, 1), date(2026, 12, 31))
    assert elapsed_share(period, now, NEW_YORK) == pytest.approx(share)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        resolve_period("current_quarter", now=datetime(2026, 1, 1), zone=NEW_YORK)
