"""A seeded generator of small, CRM-neutral sales orgs and the YAML key results to run over them.

One seed gives one `Scenario`: a time zone between UTC−10 and UTC+13, a fiscal-year start, a
frozen clock inside the current quarter, reps (some inactive, some in no team), deals with
currencies and (Salesforce) dated rates, calls, deletes and null amounts, placed on purpose at
00:30 and 23:30 local time on the first and last days of quarters and fiscal years; and 2–4 key
results of every metric kind, baseline, target form and `owner_targets` form. The seeders turn it
into each CRM's raw records; the oracle never sees it (it reads the raw records only).
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

# UTC−10 … UTC+13, half- and quarter-hour zones and both hemispheres' daylight saving.
ZONES = (
    "Pacific/Honolulu", "America/Anchorage", "America/Los_Angeles", "America/Denver", "America/Chicago",
    "America/New_York", "America/Sao_Paulo", "Atlantic/Azores", "UTC", "Europe/London", "Europe/Berlin",
    "Europe/Moscow", "Asia/Dubai", "Asia/Kolkata", "Asia/Kathmandu", "Asia/Shanghai", "Asia/Tokyo",
    "Australia/Adelaide", "Australia/Sydney", "Pacific/Noumea", "Pacific/Auckland", "Pacific/Tongatapu",
    "Pacific/Apia",
)  # fmt: skip
CURRENCIES = ("USD", "EUR", "GBP")
TEAMS = ("East", "West", "EMEA")
EDGE_TIMES = (time(0, 30), time(23, 30))
FIRST_NAMES = ("Ana", "Bo", "Chen", "Dara", "Eli", "Fay", "Gus", "Hana", "Ivo")


@dataclass(frozen=True, slots=True)
class Person:
    key: str
    first_name: str
    last_name: str
    email: str
    active: bool
    team: str | None
    crm_email: str  # as the CRM holds it: sometimes in mixed case


@dataclass(frozen=True, slots=True)
class Deal:
    key: str
    owner: str | None  # Person.key; None: no owner (HubSpot)
    home_amount: int | None  # in the corporate (home) currency; None: no amount
    currency: str
    close_at: datetime | None  # local wall time (aware); Salesforce keeps the date; None: not set (HubSpot)
    created_at: datetime  # aware
    stage: str  # won / lost / open
    kind: str  # new / expansion / renewal
    deleted: bool
    modified_at: datetime  # aware UTC, before the clock


@dataclass(frozen=True, slots=True)
class Call:
    key: str
    owner: str
    occurred_at: datetime  # aware
    duration_seconds: int | None
    deleted: bool
    modified_at: datetime


@dataclass(frozen=True, slots=True)
class Edit:
    """A change made in the CRM between the first and the second cycle."""

    kind: str  # delete_deal / delete_call / amount / win
    key: str  # Deal.key or Call.key
    home_amount: int | None = None  # amount: the new amount in the home currency


@dataclass(frozen=True, slots=True)
class RateSpan:
    """A dated rate: `rate` units of `currency` per corporate unit from `start` (inclusive) to `end`."""

    currency: str
    rate: Decimal
    start: date | None  # None: since forever
    end: date | None  # None: until further notice


@dataclass(frozen=True, slots=True)
class Currencies:
    corporate: str
    rates: dict[str, Decimal]  # CurrencyType.ConversionRate, per 1 corporate unit
    dated: tuple[RateSpan, ...]  # empty: the org does not use dated rates
    user_currency: str  # the integration user's own currency
    multi: bool  # HubSpot: the portal has several currencies (amount_in_home_currency is set)

    def rate_on(self, currency: str, day: date) -> Decimal:
        for span in self.dated:
            if (
                span.currency == currency
                and (span.start is None or span.start <= day)
                and (span.end is None or day < span.end)
            ):
                return span.rate
        return self.rates[currency]


@dataclass(frozen=True, slots=True)
class Scenario:
    seed: int
    crm: str  # salesforce / hubspot
    zone: str
    fiscal_year_start_month: int
    now: datetime  # aware UTC: the cycle's frozen clock
    people: tuple[Person, ...]
    deals: tuple[Deal, ...]
    calls: tuple[Call, ...]
    currencies: Currencies
    teams: dict[str, list[str]] | None  # the YAML `teams:` map, or None
    objectives: list[dict[str, Any]]  # the YAML `objectives:`
    owner_writes_all: bool  # match: owner also names team-grouped and ungrouped key results
    edits: tuple[Edit, ...] = ()  # applied after the first cycle; a second cycle follows

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)


def add_months(first_of_month: date, months: int) -> date:
    index = first_of_month.year * 12 + first_of_month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def quarter_of(day: date, fiscal: int) -> tuple[date, date]:
    """The first and last day of the fiscal quarter holding `day`."""
    back = ((day.month - fiscal) % 12) % 3
    first = add_months(day.replace(day=1), -back)
    return first, add_months(first, 3) - timedelta(days=1)


def generate(seed: int, crm: str) -> Scenario:
    rng = random.Random(f"{crm}:{seed}")
    zone = ZoneInfo(rng.choice(ZONES))
    fiscal = (seed % 12) + 1 if seed < 1000 else rng.randint(1, 12)  # every start month over 12 seeds
    now = _clock(rng, zone, fiscal)
    people = _people(rng)
    currencies = _currencies(rng, crm, now.astimezone(zone).date())
    days = _edge_days(now.astimezone(zone).date(), fiscal)
    deals = tuple(_deal(rng, n, people, currencies, days, now, zone) for n in range(rng.randint(14, 30)))
    if crm == "hubspot":  # HubSpot leaves owner and close date optional
        deals = tuple(_loosened(rng, deal) for deal in deals)
    calls = tuple(_call(rng, n, people, days, now, zone) for n in range(rng.randint(6, 16)))
    teams = _teams_map(rng, people) if rng.random() < 0.5 else None
    objectives = _objectives(rng, people)
    return Scenario(
        seed, crm, zone.key, fiscal, now, people, deals, calls, currencies, teams, objectives,
        owner_writes_all=rng.random() < 0.35, edits=_edits(random.Random(f"{crm}:{seed}:edits"), deals, calls),
    )  # fmt: skip


def _edits(rng: random.Random, deals: tuple[Deal, ...], calls: tuple[Call, ...]) -> tuple[Edit, ...]:
    """Deletes, amount changes and late wins of live records, each record edited once."""
    live = [d for d in deals if not d.deleted]
    rng.shuffle(live)
    edits = [Edit("delete_deal", d.key) for d in live[:2]]
    edits += [Edit("amount", d.key, _amount(rng)) for d in live[2:4]]
    edits += [Edit("win", d.key) for d in live[4:8] if d.stage == "open"]
    edits += [Edit("delete_call", c.key) for c in [c for c in calls if not c.deleted][:1]]
    return tuple(edits)


def _clock(rng: random.Random, zone: ZoneInfo, fiscal: int) -> datetime:
    """An instant 10–90 % into a fiscal quarter of 2025–2027."""
    start = add_months(date(rng.randint(2025, 2027), fiscal, 1), 3 * rng.randint(0, 3))
    first, last = quarter_of(start, fiscal)
    length = (last - first).days + 1
    day = first + timedelta(days=int(length * rng.uniform(0.1, 0.9)))
    local = datetime.combine(day, time(rng.randint(0, 23), rng.randint(0, 59)), tzinfo=zone)
    return local.astimezone(UTC).replace(microsecond=0)


def _people(rng: random.Random) -> tuple[Person, ...]:
    names = rng.sample(FIRST_NAMES, rng.randint(3, 6))
    people = []
    for n, name in enumerate(names):
        active = n < 2 or rng.random() > 0.3  # two active reps at least
        team = rng.choice((*TEAMS, None)) if n else None  # the first rep is in no team
        email = f"{name.lower()}.rep{n}@example.com"
        crm_email = email.title() if rng.random() < 0.3 else email
        people.append(Person(f"p{n}", name, f"Rep{n}", email, active, team, crm_email))
    return tuple(people)


def _currencies(rng: random.Random, crm: str, today: date) -> Currencies:
    corporate = rng.choice(CURRENCIES)
    rates = {c: Decimal(1) if c == corporate else Decimal(rng.randint(50, 250)) / 100 for c in CURRENCIES}
    dated: list[RateSpan] = []
    if crm == "salesforce" and rng.random() < 0.6:
        for currency in CURRENCIES:
            if currency == corporate:
                dated.append(RateSpan(currency, Decimal(1), None, None))
                continue
            cuts = sorted({today - timedelta(days=rng.randint(0, 200)) for _ in range(rng.randint(1, 3))})
            bounds = [None, *cuts, None]
            for start, end in itertools.pairwise(bounds):
                dated.append(RateSpan(currency, Decimal(rng.randint(50, 250)) / 100, start, end))
    others = [c for c in CURRENCIES if c != corporate]
    return Currencies(corporate, rates, tuple(dated), rng.choice(others), multi=rng.random() < 0.8)


def _edge_days(today: date, fiscal: int) -> list[date]:
    """First and last days of this and the last quarter, and of the fiscal year around them."""
    first, last = quarter_of(today, fiscal)
    previous_first, previous_last = quarter_of(first - timedelta(days=1), fiscal)
    year_first = date(today.year if today.month >= fiscal else today.year - 1, fiscal, 1)
    year_last = add_months(year_first, 12) - timedelta(days=1)
    return [first, last, previous_first, previous_last, year_first, year_first - timedelta(days=1), year_last]


def _local_instant(rng: random.Random, days: list[date], zone: ZoneInfo, now: datetime) -> datetime:
    """A local wall time on an edge day at 00:30 or 23:30, or anywhere in the last two quarters."""
    if rng.random() < 0.55:
        moment = datetime.combine(rng.choice(days), rng.choice(EDGE_TIMES), tzinfo=zone)
    else:
        day = now.astimezone(zone).date() - timedelta(days=rng.randint(-60, 200))
        moment = datetime.combine(day, time(rng.randint(0, 23), rng.randint(0, 59)), tzinfo=zone)
    return moment


def _amount(rng: random.Random) -> int | None:
    return None if rng.random() < 0.1 else rng.choice((rng.randint(5, 500) * 100, rng.randint(100, 60_000)))


def _deal(
    rng: random.Random, n: int, people: tuple[Person, ...], currencies: Currencies, days: list[date],
    now: datetime, zone: ZoneInfo,
) -> Deal:  # fmt: skip
    close_at = _local_instant(rng, days, zone, now)
    created_at = min(close_at - timedelta(days=rng.randint(0, 120)), now - timedelta(hours=2))
    if rng.random() < 0.3:
        created_at = datetime.combine(created_at.astimezone(zone).date(), rng.choice(EDGE_TIMES), tzinfo=zone)
        created_at = min(created_at, now - timedelta(hours=2))
    if rng.random() < 0.08 and close_at + timedelta(days=2) < now:  # logged after it was won
        created_at = min(close_at + timedelta(days=rng.randint(1, 30)), now - timedelta(hours=2))
    multi = currencies.multi or currencies.rates.keys() == {currencies.corporate}
    currency = rng.choice(CURRENCIES) if multi else currencies.corporate
    kind = rng.choice(("new", "new", "expansion", "renewal"))
    stage = rng.choice(("won", "won", "lost", "open"))
    return Deal(
        key=f"d{n}", owner=rng.choice(people).key, home_amount=_amount(rng), currency=currency,
        close_at=close_at, created_at=created_at, stage=stage, kind=kind, deleted=rng.random() < 0.08,
        modified_at=now - timedelta(minutes=rng.randint(5, 3000)),
    )  # fmt: skip


def _loosened(rng: random.Random, deal: Deal) -> Deal:
    owner = None if rng.random() < 0.05 else deal.owner
    close_at = None if deal.stage == "open" and rng.random() < 0.3 else deal.close_at
    return replace(deal, owner=owner, close_at=close_at)


def _call(
    rng: random.Random, n: int, people: tuple[Person, ...], days: list[date], now: datetime, zone: ZoneInfo
) -> Call:
    occurred_at = _local_instant(rng, days, zone, now)
    if occurred_at >= now - timedelta(minutes=10):
        occurred_at = now - timedelta(hours=rng.randint(1, 2000))
    duration = None if rng.random() < 0.1 else rng.randint(0, 1800)
    return Call(
        f"c{n}", rng.choice(people).key, occurred_at, duration, rng.random() < 0.08,
        modified_at=now - timedelta(minutes=rng.randint(5, 3000)),
    )  # fmt: skip


def _teams_map(rng: random.Random, people: tuple[Person, ...]) -> dict[str, list[str]]:
    """A YAML teams map naming some reps, e-mails in another case; one unknown e-mail."""
    teams: dict[str, list[str]] = {}
    for person in rng.sample(people, rng.randint(1, len(people))):
        email = person.email.upper() if rng.random() < 0.5 else person.email.title()
        teams.setdefault(rng.choice(TEAMS), []).append(email)
    teams.setdefault("EMEA", []).append("nobody.here@example.com")
    return teams


# ---------------------------------------------------------------- key results

# kind → (metric YAML, absolute target range, numeric baseline range, relative targets)
METRICS: dict[str, tuple[dict[str, Any], tuple[float, float], tuple[float, float], tuple[str, ...]]] = {
    "won_count": ({"kind": "count", "stream": "deals", "where": {"is_won": True}, "date": "close_date"},
                  (2, 12), (1, 10), ("+15%", "+50%", "-20%")),
    "new_count": ({"kind": "count", "stream": "deals", "where": {"is_won": True, "type": "new"}},
                  (1, 8), (1, 6), ("+25%", "-10%")),
    "revenue": ({"kind": "sum", "stream": "deals", "field": "amount", "where": {"is_won": True},
                 "date": "close_date"}, (20_000, 200_000), (10_000, 150_000), ("+15%", "-5%", "+40%")),
    "big_deals": ({"kind": "sum", "stream": "deals", "field": "amount",
                   "where": {"is_won": True, "amount": {"gt": 10_000}, "type": {"not": "renewal"}}},
                  (10_000, 150_000), (5_000, 100_000), ("+10%",)),
    "deal_size": ({"kind": "avg", "stream": "deals", "field": "amount", "where": {"is_won": True}},
                  (5_000, 40_000), (5_000, 30_000), ("+10%", "-10%")),
    "cycle": ({"kind": "avg_days", "stream": "deals", "from": "created_at", "to": "close_date",
               "where": {"is_won": True}, "date": "close_date"}, (10, 80), (20, 90), ("-10%", "+5%")),
    "win_rate": ({"kind": "ratio", "stream": "deals", "numerator": {"is_won": True},
                  "denominator": {"is_closed": True}}, (0.3, 0.9), (0.2, 0.8), ("+5pp", "-5pp", "+10%")),
    "weighted_win": ({"kind": "ratio", "stream": "deals", "numerator": {"is_won": True},
                      "denominator": {"is_closed": True}, "weight": "amount"},
                     (0.3, 0.9), (0.2, 0.8), ("+5pp",)),
    "renewal_rate": ({"kind": "ratio", "stream": "renewals", "numerator": {"status": "renewed"},
                      "denominator": {"status": ["renewed", "churned"]}, "date": "due_date"},
                     (0.5, 0.95), (0.4, 0.9), ("+5pp", "-5%")),
    "churn": ({"kind": "ratio", "stream": "renewals", "numerator": {"status": "churned"}, "weight": "amount"},
              (0.05, 0.4), (0.1, 0.5), ("-5%", "-20%")),
    "calls": ({"kind": "count", "stream": "calls", "date": "occurred_at"}, (3, 15), (2, 12), ("+20%", "+0%")),
    "long_calls": ({"kind": "count", "stream": "calls", "where": {"duration_seconds": {"gte": 300}}},
                   (1, 8), (1, 6), ("+10%",)),
    "talk_time": ({"kind": "sum", "stream": "calls", "field": "duration_seconds"},
                  (1_000, 20_000), (1_000, 15_000), ("+10%",)),
}  # fmt: skip
ADDITIVE = {"won_count", "new_count", "revenue", "big_deals", "calls", "long_calls", "talk_time"}


def _objectives(rng: random.Random, people: tuple[Person, ...]) -> list[dict[str, Any]]:
    names = rng.sample(sorted(METRICS), rng.randint(2, 4))
    results = [_key_result(rng, n, name, people) for n, name in enumerate(names)]
    split = rng.randint(1, len(results))
    period = "current_year" if rng.random() < 0.15 else "current_quarter"
    objectives = [{"key": "o1", "period": "current_quarter", "key_results": results[:split]}]
    if results[split:]:
        objectives.append({"key": "o2", "period": period, "key_results": results[split:]})
    return objectives


def _key_result(rng: random.Random, n: int, name: str, people: tuple[Person, ...]) -> dict[str, Any]:
    metric, targets, baselines, relative = METRICS[name]
    integral = name in ("won_count", "new_count", "calls", "long_calls")
    kr: dict[str, Any] = {"key": f"kr{n + 1}", "metric": dict(metric)}
    baseline = rng.choice(("none", "previous_period", "previous_period", "number"))
    if baseline == "previous_period":
        kr["baseline"] = "previous_period"
    elif baseline == "number":
        kr["baseline"] = _number(rng, baselines, integral)
    if baseline != "none" and rng.random() < 0.6:
        kr["target"] = rng.choice(relative)
    else:
        kr["target"] = _number(rng, targets, integral)
    numbers = [kr.get("baseline"), kr["target"]]
    agrees = not all(isinstance(n, int | float) for n in numbers) or kr["target"] <= kr["baseline"]
    if metric["kind"] in ("avg_days", "ratio") and rng.random() < 0.2 and agrees:
        kr["direction"] = "decrease"  # explicit (validate refuses one that contradicts the numbers)
    kr["group_by"] = rng.choice((None, "owner", "owner", "team"))
    if kr["group_by"] is None:
        del kr["group_by"]
    elif kr["group_by"] == "owner":
        form = rng.choice(("none", "even", "map"))
        if form == "even":
            kr["owner_targets"] = "even"
            if "baseline" in kr and rng.random() < 0.5:
                kr["target"] = rng.choice(relative)  # an even split of a relative target
        elif form == "map":
            kr["owner_targets"] = _owner_map(rng, people, targets, integral)
    return kr


def _number(rng: random.Random, bounds: tuple[float, float], integral: bool) -> float | int:
    low, high = bounds
    if integral:
        return rng.randint(int(low), int(high))
    if high <= 1:
        return round(rng.uniform(low, high), 2)
    return round(rng.uniform(low, high), -2) + rng.choice((0, 0.5))


def _owner_map(
    rng: random.Random, people: tuple[Person, ...], bounds: tuple[float, float], integral: bool
) -> dict[str, float | int]:
    """Targets for all reps but one, one e-mail in another case, one e-mail of nobody."""
    listed = list(people[1:])  # the first rep is missing from the map
    targets: dict[str, float | int] = {}
    for n, person in enumerate(listed):
        email = person.email.upper() if n == 0 else person.email
        targets[email] = _number(rng, (bounds[0] / 3, bounds[1] / 3 + 1), integral)
    targets["former.rep@example.com"] = _number(rng, bounds, integral)
    return targets
