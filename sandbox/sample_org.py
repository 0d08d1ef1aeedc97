"""The deterministic sample sales org that seeds the local CRM sandboxes.

`generate_sample_org` builds CRM-neutral records (users, accounts, deals with renewals, calls,
emails; see `sample_records`). Every date is placed relative to `now`, so the current calendar
quarter always has won, lost and open business whatever day it is; the same (now, seed, scale)
gives the same org. The CRM sandboxes map these records onto their own objects.
"""

from __future__ import annotations

import random
from datetime import datetime

from sandbox import sample_activities, sample_currency, sample_deals, sample_people
from sandbox.sample_calendar import SampleCalendar
from sandbox.sample_records import (
    CURRENCY_RATES,
    DEFAULT_SCALE,
    HOME_CURRENCY,
    SampleAccount,
    SampleCall,
    SampleDeal,
    SampleEmail,
    SampleOrg,
    SampleScale,
    SampleUser,
)

__all__ = [
    "CURRENCY_RATES",
    "DEFAULT_SCALE",
    "HOME_CURRENCY",
    "SampleAccount",
    "SampleCalendar",
    "SampleCall",
    "SampleDeal",
    "SampleEmail",
    "SampleOrg",
    "SampleScale",
    "SampleUser",
    "generate_sample_org",
]


def generate_sample_org(*, now: datetime, seed: int = 7, scale: SampleScale = DEFAULT_SCALE) -> SampleOrg:
    """Build the sample org around `now` (an aware datetime); deterministic for (now, seed, scale)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    rng = random.Random(seed)
    calendar = SampleCalendar.around(now, quarters=scale.quarters)
    people = sample_people.generate_people(rng, calendar, scale)
    deals = sample_deals.generate_deals(rng, calendar, people, scale)
    calls, emails = sample_activities.generate_activities(rng, calendar, people, deals, scale)
    return SampleOrg(
        now=calendar.now,
        seed=seed,
        scale=scale,
        calendar=calendar,
        home_currency=HOME_CURRENCY,
        currency_rates=dict(CURRENCY_RATES),
        users=people.users,
        accounts=people.accounts,
        deals=deals,
        calls=calls,
        emails=emails,
        dated_rates=sample_currency.dated_rates(calendar),
    )
