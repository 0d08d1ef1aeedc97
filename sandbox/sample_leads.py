"""Leads and meetings of the sample org: the records of the declared streams in the demo
(README "Any object as a stream"), seeded into the Salesforce sandbox as Lead and into the
HubSpot sandbox as meetings.

Drawn with a random generator of their own, after the rest of the sample org is built: the
deals, calls and ids of the existing sample stay exactly as they were.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sandbox.sample_records import SampleOrg

LEADS_PER_QUARTER = 80
MEETINGS_PER_QUARTER = 120
LEAD_STATUSES = ("Open - Not Contacted", "Working - Contacted", "Closed - Not Converted")
CONVERTED_STATUS = "Closed - Converted"
MEETING_OUTCOMES = ("SCHEDULED", "COMPLETED", "NO_SHOW", "CANCELED")


@dataclass(frozen=True, slots=True)
class SampleLead:
    key: str
    owner_key: str
    last_name: str
    company: str
    status: str
    is_converted: bool
    converted_on: date | None
    created_at: datetime
    modified_at: datetime
    deleted: bool


@dataclass(frozen=True, slots=True)
class SampleMeeting:
    key: str
    owner_key: str
    title: str
    starts_at: datetime
    outcome: str
    created_at: datetime
    modified_at: datetime
    deleted: bool


def generate_leads(sample: SampleOrg) -> list[SampleLead]:
    """About a quarter of the leads are converted, some days to weeks after they came in."""
    rng = random.Random(sample.seed * 1_000 + 11)
    calendar, reps = sample.calendar, _reps(sample)
    leads: list[SampleLead] = []
    for n in range(LEADS_PER_QUARTER * sample.scale.quarters):
        created = calendar.instant_since(rng, calendar.history_start_s)
        converted = rng.random() < 0.28
        converted_on = (created + timedelta(days=rng.randint(1, 40))).date() if converted else None
        if converted_on is not None and converted_on > calendar.today:
            converted, converted_on = False, None
        status = CONVERTED_STATUS if converted else rng.choice(LEAD_STATUSES)
        touched = created if converted_on is None else datetime.combine(converted_on, created.timetz())
        leads.append(
            SampleLead(
                f"lead-{n}",
                rng.choice(reps),
                f"Lead {n}",
                f"Prospect {n % 97} Inc",
                status,
                converted,
                converted_on,
                created,
                min(touched + timedelta(hours=1), calendar.now),
                rng.random() < 0.02,
            )
        )
    return leads


def generate_meetings(sample: SampleOrg) -> list[SampleMeeting]:
    """Meetings booked by the reps, from the start of the history to a few weeks ahead."""
    rng = random.Random(sample.seed * 1_000 + 13)
    calendar, reps = sample.calendar, _reps(sample)
    meetings: list[SampleMeeting] = []
    for n in range(MEETINGS_PER_QUARTER * sample.scale.quarters):
        created = calendar.instant_since(rng, calendar.history_start_s)
        starts = created + timedelta(days=rng.randint(0, 21), hours=rng.randint(0, 8))
        meetings.append(
            SampleMeeting(
                f"meeting-{n}",
                rng.choice(reps),
                f"Discovery call {n}",
                starts,
                rng.choice(MEETING_OUTCOMES),
                created,
                created,
                rng.random() < 0.02,
            )
        )
    return meetings


def _reps(sample: SampleOrg) -> list[str]:
    return [user.key for user in sample.users if user.team is not None and user.active]
