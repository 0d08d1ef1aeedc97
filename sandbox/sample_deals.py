"""Deals and renewals of the sample org, spread over the quarters of history and the next quarter.

Closed deals close on or before today, open ones today or later; the first few deals and renewals
are pinned into the current quarter so it always has won revenue, renewals and churn.
"""

from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta
from decimal import Decimal

from sandbox.sample_calendar import SampleCalendar
from sandbox.sample_people import People, RepProfile, SampleDraw
from sandbox.sample_records import CURRENCY_RATES, DealKind, DealStage, SampleDeal, SampleScale

OPEN_STAGES: tuple[DealStage, ...] = ("prospecting", "qualification", "proposal", "negotiation")
DEAL_LABELS = {
    "new": ("Platform", "Pilot", "Seats", "Suite"),
    "expansion": ("Expansion", "Upgrade", "Add-on"),
}
LEAD_SOURCES = ("Web", "Phone Inquiry", "Employee Referral", "Purchased List", "Trade Show", "Other")
EMEA_CURRENCIES = ("EUR",) * 7 + ("GBP",) * 2 + ("USD",)
OPEN_SHARE = 0.18
EXPANSION_SHARE = 0.3
PARTNER_SHARE = 0.08
DELETED_SHARE = 0.007
PINNED_WINS = 8  # deals won this quarter whatever day it is
PINNED_RENEWALS = ("won", "won", "won", "lost", "open", "open")  # renewals due this quarter


def generate_deals(
    rng: random.Random, calendar: SampleCalendar, people: People, scale: SampleScale
) -> tuple[SampleDeal, ...]:
    """`scale.deals` new/expansion deals, then `scale.renewals` renewals, keys in creation order."""
    context = SampleDraw(rng, calendar, people)
    deals = [_deal(context, index) for index in range(scale.deals)]
    deals += [_renewal(context, scale.deals + index, index) for index in range(scale.renewals)]
    return tuple(deals)


def _deal(context: SampleDraw, index: int) -> SampleDeal:
    rng, calendar = context.rng, context.calendar
    rep = context.people.pick_rep(rng)
    kind: DealKind = "expansion" if rng.random() < EXPANSION_SHARE else "new"
    pinned = index < PINNED_WINS
    is_open = not pinned and rng.random() < OPEN_SHARE
    timing = _open_timing(context) if is_open else _closed_timing(context, rep, kind, pinned=pinned)
    created_at, close_date, stage, closed_at, modified_at = timing
    owner = context.people.owner_at(rep, closed_at)
    account = context.people.account_for(rng, owner)
    currency = EMEA_CURRENCIES[int(rng.random() * 10)] if account.region == "EMEA" else "USD"
    deleted = not pinned and rng.random() < DELETED_SHARE
    labels = DEAL_LABELS[kind]
    return SampleDeal(
        key=f"d{index:07d}",
        name=f"{account.name} - {labels[int(rng.random() * len(labels))]}",
        account_key=account.key,
        owner_key=owner,
        kind=kind,
        pipeline="partner" if kind == "new" and not pinned and rng.random() < PARTNER_SHARE else "sales",
        stage=stage,
        amount=_amount(rng, rep, currency, null_share=0.0 if pinned else 0.04 if is_open else 0.01),
        currency=currency,
        lead_source=LEAD_SOURCES[int(rng.random() * len(LEAD_SOURCES))],
        created_at=created_at,
        close_date=close_date,
        closed_at=closed_at,
        modified_at=calendar.instant_between(rng, modified_at, calendar.now) if deleted else modified_at,
        deleted=deleted,
    )


_Timing = tuple[
    datetime, date, DealStage, datetime | None, datetime
]  # created, close, stage, closed, modified


def _open_timing(context: SampleDraw) -> _Timing:
    """Created in the last 100 days, closing between today and the end of next quarter."""
    rng, calendar = context.rng, context.calendar
    created_at = calendar.instant_between(rng, calendar.now - timedelta(days=100), calendar.now)
    close_date = calendar.day_between(rng, calendar.today, calendar.horizon_end)
    stage = OPEN_STAGES[int(rng.random() * len(OPEN_STAGES))]
    return created_at, close_date, stage, None, calendar.instant_between(rng, created_at, calendar.now)


def _closed_timing(context: SampleDraw, rep: RepProfile, kind: DealKind, *, pinned: bool) -> _Timing:
    """Closed on or before today (pinned deals: won in the current quarter) after a 10–120 day cycle."""
    rng, calendar = context.rng, context.calendar
    first = calendar.quarter_start if pinned else calendar.history_start
    close_date = calendar.day_between(rng, first, calendar.today)
    won = pinned or rng.random() < rep.win_rate + (0.15 if kind == "expansion" else 0.0)
    cycle_days = 10 + int(110 * rng.random() ** 1.6)
    created_at = calendar.working_instant(rng, close_date - timedelta(days=cycle_days))
    closed_at = calendar.working_instant(rng, close_date)
    return created_at, close_date, "won" if won else "lost", closed_at, _later_edit(context, closed_at)


def _renewal(context: SampleDraw, index: int, ordinal: int) -> SampleDeal:
    rng, calendar = context.rng, context.calendar
    rep = context.people.pick_rep(rng)
    pinned = PINNED_RENEWALS[ordinal] if ordinal < len(PINNED_RENEWALS) else None
    due = _renewal_due(context, pinned)
    created_day = due - timedelta(days=60 + int(rng.random() * 60))
    if created_day > calendar.today:
        created_day = calendar.today - timedelta(days=int(rng.random() * 10))
    created_at = calendar.working_instant(rng, created_day)
    outcome = pinned or _renewal_outcome(context, rep, due)
    stage: DealStage = "won" if outcome == "won" else "lost" if outcome == "lost" else "negotiation"
    if outcome == "open" and rng.random() < 0.5:
        stage = "proposal"
    closed_at = None
    if outcome != "open":
        around_due = calendar.working_instant(
            rng, min(due + timedelta(days=int(rng.random() * 30) - 20), calendar.today)
        )
        closed_at = max(around_due, created_at)
    owner = context.people.owner_at(rep, closed_at)
    account = context.people.account_for(rng, owner)
    currency = EMEA_CURRENCIES[int(rng.random() * 10)] if account.region == "EMEA" else "USD"
    modified_at = _later_edit(context, closed_at or calendar.instant_between(rng, created_at, calendar.now))
    return SampleDeal(
        key=f"d{index:07d}",
        name=f"{account.name} - Renewal {due.year}",
        account_key=account.key,
        owner_key=owner,
        kind="renewal",
        pipeline="renewals",
        stage=stage,
        amount=_amount(rng, rep, currency, null_share=0.0 if pinned else 0.02, median=9_000),
        currency=currency,
        lead_source="Existing Customer",
        created_at=created_at,
        close_date=due,
        closed_at=closed_at,
        modified_at=modified_at,
        deleted=False,
    )


def _renewal_due(context: SampleDraw, pinned: str | None) -> date:
    calendar, rng = context.calendar, context.rng
    if pinned in ("won", "lost"):
        return calendar.day_between(rng, calendar.quarter_start, calendar.today)
    if pinned == "open":
        return calendar.day_between(rng, calendar.today, calendar.quarter_end)
    return calendar.day_between(rng, calendar.history_start, calendar.horizon_end)


def _renewal_outcome(context: SampleDraw, rep: RepProfile, due: date) -> str:
    """Renewed or churned once well past due; around and after today some are still open."""
    rng, today = context.rng, context.calendar.today
    days_left = (due - today).days
    still_open = (days_left >= -14 and rng.random() < 0.5) if days_left < 0 else rng.random() < 0.75
    if still_open or days_left > (context.calendar.quarter_end - today).days:
        return "open"
    return "won" if rng.random() < 0.68 + rep.win_rate / 2 else "lost"


def _later_edit(context: SampleDraw, moment: datetime) -> datetime:
    """A quarter of the records were edited again after they were closed or created."""
    rng, now = context.rng, context.calendar.now
    if rng.random() >= 0.25:
        return moment
    return context.calendar.instant_between(rng, moment, min(moment + timedelta(days=30), now))


def _amount(
    rng: random.Random, rep: RepProfile, currency: str, *, null_share: float, median: float = 24_000
) -> Decimal | None:
    """A deal size between 5k and 150k USD, log-normal around `median`, in the deal's currency."""
    if null_share and rng.random() < null_share:
        return None
    usd = median * rep.size_factor * math.exp(rng.gauss(0.0, 0.75))
    usd = min(max(usd, 5_000.0), 150_000.0)
    return Decimal(int(usd * float(CURRENCY_RATES[currency]) / 100) * 100)
