"""Calls and emails of the sample org, logged by the reps up to `now` and linked to their deals."""

from __future__ import annotations

import bisect
import math
import random
from datetime import datetime, timedelta

from sandbox.sample_calendar import SampleCalendar
from sandbox.sample_people import People, SampleDraw
from sandbox.sample_records import (
    CallDirection,
    CallOutcome,
    SampleCall,
    SampleDeal,
    SampleEmail,
    SampleScale,
)

CALL_SUBJECTS = ("Call", "Discovery call", "Follow-up call", "Demo call", "Check-in call")
EMAIL_SUBJECTS = ("Email: Proposal", "Email: Follow-up", "Email: Pricing", "Email: Next steps")
# Outbound outcomes by cumulative share; inbound and internal calls always connect.
OUTBOUND_SHARES = (0.35, 0.65, 0.90, 0.95)
OUTBOUND_OUTCOMES: tuple[CallOutcome, ...] = (
    "connected",
    "left_voicemail",
    "no_answer",
    "busy",
    "wrong_number",
)
PINNED_CALLS = 20  # calls made this quarter whatever day it is
DELETED_SHARE = 0.005

Links = dict[str, list[tuple[str, str]]]  # owner key -> (deal key, account key) of their live deals


def generate_activities(
    rng: random.Random,
    calendar: SampleCalendar,
    people: People,
    deals: tuple[SampleDeal, ...],
    scale: SampleScale,
) -> tuple[tuple[SampleCall, ...], tuple[SampleEmail, ...]]:
    """`scale.calls` calls, then `scale.emails` emails."""
    draw = SampleDraw(rng, calendar, people)
    links: Links = {}
    for deal in deals:
        if not deal.deleted:
            links.setdefault(deal.owner_key, []).append((deal.key, deal.account_key))
    calls = tuple(_call(draw, links, index) for index in range(scale.calls))
    emails = tuple(_email(draw, links, index) for index in range(scale.emails))
    return calls, emails


def _moment(draw: SampleDraw, pinned: bool) -> datetime:
    calendar = draw.calendar
    return calendar.instant_since(draw.rng, calendar.quarter_start_s if pinned else calendar.history_start_s)


def _link(draw: SampleDraw, links: Links, owner: str) -> tuple[str | None, str | None]:
    """Most activities are about a deal; some only about an account; a few about nothing."""
    rng = draw.rng
    roll = rng.random()
    owned = links.get(owner)
    if roll < 0.6 and owned:
        return owned[int(rng.random() * len(owned))]
    if roll < 0.85:
        return None, draw.people.account_for(rng, owner).key
    return None, None


def _call(draw: SampleDraw, links: Links, index: int) -> SampleCall:
    rng, calendar = draw.rng, draw.calendar
    rep = draw.people.pick_rep(rng)
    pinned = index < PINNED_CALLS
    occurred_at = calendar.instant_since(
        rng, calendar.quarter_start_s if pinned else calendar.history_start_s
    )
    owner = draw.people.owner_at(rep, occurred_at)
    deal_key, account_key = _link(draw, links, owner)
    roll = rng.random()
    direction: CallDirection = "outbound" if roll < 0.75 else "inbound" if roll < 0.95 else "internal"
    outcome: CallOutcome = "connected"
    if direction == "outbound":
        outcome = OUTBOUND_OUTCOMES[bisect.bisect_right(OUTBOUND_SHARES, rng.random())]
    deleted = not pinned and rng.random() < DELETED_SHARE
    edited = deleted or rng.random() < 0.1
    return SampleCall(
        key=f"c{index:07d}",
        owner_key=owner,
        deal_key=deal_key,
        account_key=account_key,
        subject=CALL_SUBJECTS[int(rng.random() * len(CALL_SUBJECTS))],
        direction=direction,
        outcome=outcome,
        duration_seconds=None if rng.random() < 0.02 else _duration(rng, outcome),
        occurred_at=occurred_at,
        modified_at=_edited(draw, occurred_at) if edited else occurred_at,
        deleted=deleted,
    )


def _duration(rng: random.Random, outcome: CallOutcome) -> int:
    """Seconds on the line: minutes when connected, seconds otherwise."""
    if outcome == "connected":
        return min(max(int(240 * math.exp(rng.gauss(0.0, 0.9))), 30), 3_600)
    if outcome == "left_voicemail":
        return 20 + int(rng.random() * 50)
    if outcome == "busy":
        return 0
    return int(rng.random() * 40)


def _email(draw: SampleDraw, links: Links, index: int) -> SampleEmail:
    rng = draw.rng
    rep = draw.people.pick_rep(rng)
    sent_at = _moment(draw, pinned=False)
    owner = draw.people.owner_at(rep, sent_at)
    deal_key, account_key = _link(draw, links, owner)
    deleted = rng.random() < DELETED_SHARE
    return SampleEmail(
        key=f"e{index:07d}",
        owner_key=owner,
        deal_key=deal_key,
        account_key=account_key,
        subject=EMAIL_SUBJECTS[int(rng.random() * len(EMAIL_SUBJECTS))],
        sent_at=sent_at,
        modified_at=_edited(draw, sent_at) if deleted or rng.random() < 0.05 else sent_at,
        deleted=deleted,
    )


def _edited(draw: SampleDraw, moment: datetime) -> datetime:
    """When an edited activity was last touched: notes are added (or it is deleted) within 2 days."""
    calendar = draw.calendar
    return calendar.instant_between(draw.rng, moment, min(moment + timedelta(days=2), calendar.now))
