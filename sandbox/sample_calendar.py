"""Calendar arithmetic for the sample org: calendar quarters around `now` and random instants in them."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta


def quarter_start(day: date) -> date:
    """First day of the calendar quarter holding `day`."""
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def add_quarters(first_day: date, quarters: int) -> date:
    """The first day of the quarter `quarters` after the quarter starting on `first_day`."""
    months = first_day.year * 12 + first_day.month - 1 + 3 * quarters
    return date(months // 12, months % 12 + 1, 1)


def start_of_day(day: date) -> datetime:
    """Midnight UTC at the start of `day`."""
    return datetime.combine(day, time(0), tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class SampleCalendar:
    """The sample org's time frame: history from `history_start`, open business up to `horizon_end`."""

    now: datetime  # aware UTC, truncated to the second
    today: date
    history_start: date  # first day of the oldest quarter of history
    quarter_start: date  # first day of the current quarter
    quarter_end: date  # last day of the current quarter
    horizon_end: date  # last day of the next quarter: open deals close by then
    now_s: int  # the same instants as POSIX seconds, for fast draws of large volumes
    history_start_s: int
    quarter_start_s: int

    @classmethod
    def around(cls, now: datetime, *, quarters: int) -> SampleCalendar:
        """The calendar of `quarters` quarters of history ending with the one holding `now`."""
        now = now.astimezone(UTC).replace(microsecond=0)
        current = quarter_start(now.date())
        history_start = add_quarters(current, 1 - quarters)
        return cls(
            now=now,
            today=now.date(),
            history_start=history_start,
            quarter_start=current,
            quarter_end=add_quarters(current, 1) - timedelta(days=1),
            horizon_end=add_quarters(current, 2) - timedelta(days=1),
            now_s=int(now.timestamp()),
            history_start_s=int(start_of_day(history_start).timestamp()),
            quarter_start_s=int(start_of_day(current).timestamp()),
        )

    def day_between(self, rng: random.Random, first: date, last: date) -> date:
        """A uniformly random day in [first, last] (both inclusive; `first` when last < first)."""
        span = (last - first).days + 1
        return first if span <= 1 else date.fromordinal(first.toordinal() + int(rng.random() * span))

    def working_instant(self, rng: random.Random, day: date) -> datetime:
        """A moment in the working hours of `day` (08:00–18:00 UTC), never after `now`."""
        instant = start_of_day(day) + timedelta(seconds=28_800 + int(rng.random() * 36_000))
        return instant if instant <= self.now else self.now

    def instant_between(self, rng: random.Random, first: datetime, last: datetime) -> datetime:
        """A uniformly random second in [first, last] (`first` when last < first)."""
        span = int((last - first).total_seconds())
        return first if span <= 0 else first + timedelta(seconds=int(rng.random() * (span + 1)))

    def instant_since(self, rng: random.Random, first_s: int) -> datetime:
        """A uniformly random second from POSIX second `first_s` up to `now` (the fast path)."""
        return datetime.fromtimestamp(first_s + int(rng.random() * (self.now_s - first_s + 1)), UTC)
