"""The people and customers of the sample org: a sales manager, reps in three teams, accounts.

One rep has left the company (inactive, still owning the deals closed before leaving); their open
business went to a successor in the same team. Accounts are owned by active reps of their region.
"""

from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sandbox.sample_calendar import SampleCalendar, start_of_day
from sandbox.sample_records import SampleAccount, SampleScale, SampleUser

TEAMS: tuple[tuple[str, str], ...] = (("East", "NA"), ("West", "NA"), ("EMEA", "EMEA"))
EMAIL_DOMAIN = "example.com"
FIRST_NAMES = (
    "Ana", "Bo", "Carla", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kemi", "Lars",
    "Maya", "Nico", "Olga", "Pavel", "Quinn", "Rosa", "Sami", "Tara", "Uma", "Victor", "Wen", "Yara",
)  # fmt: skip
LAST_NAMES = (
    "Almeida", "Berg", "Chen", "Duarte", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito", "Jensen",
    "Kowalski", "Laurent", "Moreau", "Novak", "Okafor", "Patel", "Quist", "Rossi", "Schmidt", "Tanaka",
)  # fmt: skip
COMPANY_WORDS = (
    "Northwind", "Bluefin", "Cedar", "Summit", "Harbor", "Ironwood", "Silverline", "Redstone",
    "Brightpath", "Oakridge", "Granite", "Lumen", "Meridian", "Pinecrest", "Quartz", "Riverbend",
    "Sapphire", "Tidewater", "Vertex", "Willow", "Aurora", "Beacon", "Cobalt", "Driftwood",
)  # fmt: skip
COMPANY_TRADES = (
    "Labs", "Systems", "Logistics", "Health", "Analytics", "Foods", "Energy", "Robotics", "Media",
    "Capital", "Works", "Partners",
)  # fmt: skip
COMPANY_FORMS = {"NA": ("Inc", "LLC", "Corp"), "EMEA": ("GmbH", "Ltd", "SA", "BV")}
INDUSTRIES = ("Software", "Manufacturing", "Healthcare", "Retail", "Financial Services", "Logistics")


@dataclass(frozen=True, slots=True)
class RepProfile:
    """How one rep sells: relative volume, win rate and deal-size factor."""

    user: SampleUser
    volume: float
    win_rate: float
    size_factor: float


@dataclass(frozen=True, slots=True)
class People:
    """Users and accounts, plus how business is placed on reps and accounts."""

    users: tuple[SampleUser, ...]
    accounts: tuple[SampleAccount, ...]
    reps: tuple[RepProfile, ...]
    successors: dict[str, str]  # inactive rep key -> the active rep who took over their business
    accounts_by_region: dict[str, tuple[SampleAccount, ...]]
    regions: dict[str, str]  # user key -> region
    cumulative_volume: list[float]  # of `reps`, for weighted draws

    def pick_rep(self, rng: random.Random) -> RepProfile:
        """A rep drawn by sales volume."""
        point = rng.random() * self.cumulative_volume[-1]
        return self.reps[bisect.bisect_right(self.cumulative_volume, point)]

    def owner_at(self, rep: RepProfile, moment: datetime | None) -> str:
        """The owner of `rep`'s business: open business (`moment` None) or business after they left
        belongs to their successor."""
        left = rep.user.deactivated_at
        if left is not None and (moment is None or moment >= left):
            return self.successors[rep.user.key]
        return rep.user.key

    def account_for(self, rng: random.Random, owner_key: str) -> SampleAccount:
        """A random account in the owner's region."""
        accounts = self.accounts_by_region.get(self.regions.get(owner_key, "NA")) or self.accounts
        return accounts[int(rng.random() * len(accounts))]


@dataclass(frozen=True, slots=True)
class SampleDraw:
    """What every generator draws from: the random source, the calendar and the people."""

    rng: random.Random
    calendar: SampleCalendar
    people: People


def generate_people(rng: random.Random, calendar: SampleCalendar, scale: SampleScale) -> People:
    """Create the manager, the reps and the accounts."""
    manager = _user(rng, calendar, index=0, team=None, title="VP Sales")
    inactive_index = min(6, scale.reps)
    reps: list[RepProfile] = []
    for index in range(1, scale.reps + 1):
        team = TEAMS[(index - 1) % len(TEAMS)]
        user = replace(
            _user(rng, calendar, index=index, team=team, title="Account Executive"), manager_key=manager.key
        )
        if index == inactive_index:
            left_on = calendar.quarter_start - timedelta(days=30 + int(rng.random() * 30))
            user = replace(user, active=False, deactivated_at=calendar.working_instant(rng, left_on))
        reps.append(_profile(rng, user))
    accounts = _accounts(rng, calendar, [r.user for r in reps if r.user.active], scale.accounts)
    return People(
        users=(manager, *(rep.user for rep in reps)),
        accounts=accounts,
        reps=tuple(reps),
        successors=_successors(reps),
        accounts_by_region={
            region: tuple(a for a in accounts if a.region == region) for region in COMPANY_FORMS
        },
        regions={rep.user.key: rep.user.region or "NA" for rep in reps},
        cumulative_volume=list(itertools.accumulate(rep.volume for rep in reps)),
    )


def _user(
    rng: random.Random, calendar: SampleCalendar, *, index: int, team: tuple[str, str] | None, title: str
) -> SampleUser:
    first = FIRST_NAMES[(index * 7 + int(rng.random() * 3)) % len(FIRST_NAMES)]
    last = LAST_NAMES[(index * 3 + int(rng.random() * 5)) % len(LAST_NAMES)]
    hired = calendar.history_start - timedelta(days=30 + int(rng.random() * 700))
    return SampleUser(
        key=f"u{index:03d}",
        first_name=first,
        last_name=last,
        # The index keeps emails unique whatever names the draw repeats.
        email=f"{first.lower()}.{last.lower()}{index}@{EMAIL_DOMAIN}",
        title=f"Senior {title}" if team and index % 4 == 0 else title,
        team=team[0] if team else None,
        region=team[1] if team else None,
        manager_key=None,
        active=True,
        created_at=calendar.working_instant(rng, hired),
        deactivated_at=None,
    )


def _profile(rng: random.Random, user: SampleUser) -> RepProfile:
    return RepProfile(
        user=user,
        volume=0.6 + rng.random() * 0.8,
        win_rate=0.18 + rng.random() * 0.24,
        size_factor=0.7 + rng.random() * 0.8,
    )


def _successors(reps: list[RepProfile]) -> dict[str, str]:
    successors: dict[str, str] = {}
    for rep in reps:
        if not rep.user.active:
            teammates = [r.user.key for r in reps if r.user.team == rep.user.team and r.user.active]
            successors[rep.user.key] = teammates[0] if teammates else next(r.user.key for r in reps)
    return successors


def _accounts(
    rng: random.Random, calendar: SampleCalendar, owners: list[SampleUser], count: int
) -> tuple[SampleAccount, ...]:
    # Most accounts came in through one data migration: many rows share one modification instant,
    # which is what the connectors' id tiebreak on equal timestamps is for.
    migrated_at = start_of_day(calendar.history_start - timedelta(days=90)) + timedelta(hours=10)
    accounts = []
    for index in range(count):
        owner = owners[int(rng.random() * len(owners))]
        region = owner.region or "NA"
        rounds, word = divmod(index, len(COMPANY_WORDS))
        round_, trade = divmod(rounds, len(COMPANY_TRADES))
        forms = COMPANY_FORMS[region]
        suffix = f" {round_ + 1}" if round_ else ""
        created = (
            migrated_at if rng.random() < 0.6 else migrated_at - timedelta(days=1 + int(rng.random() * 600))
        )
        touched = rng.random() < 0.3
        accounts.append(
            SampleAccount(
                key=f"a{index:06d}",
                name=f"{COMPANY_WORDS[word]} {COMPANY_TRADES[trade]}{suffix} {forms[int(rng.random() * len(forms))]}",
                industry=INDUSTRIES[int(rng.random() * len(INDUSTRIES))],
                region=region,
                owner_key=owner.key,
                created_at=created,
                modified_at=calendar.instant_between(rng, created, calendar.now) if touched else created,
            )
        )
    return tuple(accounts)
