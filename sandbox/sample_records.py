"""The records of the sample sales org: CRM-neutral frozen dataclasses and the scale knob.

No CRM words here: the Salesforce and HubSpot sandboxes map these onto their own objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from sandbox.sample_calendar import SampleCalendar

if TYPE_CHECKING:
    from sandbox.sample_currency import SampleRate

DealKind = Literal["new", "expansion", "renewal"]
Pipeline = Literal["sales", "renewals", "partner"]
DealStage = Literal["prospecting", "qualification", "proposal", "negotiation", "won", "lost"]
CallDirection = Literal["inbound", "outbound", "internal"]
CallOutcome = Literal["connected", "left_voicemail", "no_answer", "busy", "wrong_number"]

HOME_CURRENCY = "USD"
# Units of each currency per 1 USD: EMEA deals are booked in EUR/GBP, so rollups must convert.
CURRENCY_RATES: dict[str, Decimal] = {"USD": Decimal("1"), "EUR": Decimal("0.92"), "GBP": Decimal("0.79")}


@dataclass(frozen=True, slots=True)
class SampleScale:
    """How big the sample org is; benchmarks raise `deals` and `calls` into the hundreds of thousands."""

    reps: int = 12
    accounts: int = 240
    deals: int = 1_000  # new and expansion business, every pipeline
    renewals: int = 200
    calls: int = 4_000
    emails: int = 600
    quarters: int = 6  # of history: the current quarter and the ones before it

    def __post_init__(self) -> None:
        if self.reps < 3 or self.accounts < 1 or self.quarters < 2:
            raise ValueError("a sample org needs at least 3 reps, 1 account and 2 quarters")
        if min(self.deals, self.renewals, self.calls, self.emails) < 0:
            raise ValueError("record counts cannot be negative")


DEFAULT_SCALE = SampleScale()


@dataclass(frozen=True, slots=True)
class SampleUser:
    """A person in the sales org; `team`/`region` are None for people outside the sales teams."""

    key: str
    first_name: str
    last_name: str
    email: str
    title: str
    team: str | None
    region: str | None
    manager_key: str | None
    active: bool
    created_at: datetime
    deactivated_at: datetime | None  # set for a rep who left: they still own their past deals

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True, slots=True)
class SampleAccount:
    """A customer company, owned by an active rep of its region."""

    key: str
    name: str
    industry: str
    region: str
    owner_key: str
    created_at: datetime
    modified_at: datetime


@dataclass(frozen=True, slots=True)
class SampleDeal:
    """A deal or a renewal (kind "renewal": `close_date` is the renewal's due date).

    `amount` is in `currency` and may be None; `closed_at` is when the deal was won or lost.
    """

    key: str
    name: str
    account_key: str
    owner_key: str
    kind: DealKind
    pipeline: Pipeline
    stage: DealStage
    amount: Decimal | None
    currency: str
    lead_source: str
    created_at: datetime
    close_date: date
    closed_at: datetime | None
    modified_at: datetime
    deleted: bool

    @property
    def is_closed(self) -> bool:
        return self.stage in ("won", "lost")

    @property
    def is_won(self) -> bool:
        return self.stage == "won"


@dataclass(frozen=True, slots=True)
class SampleCall:
    """A logged phone call; `duration_seconds` is None when the dialer did not record it."""

    key: str
    owner_key: str
    deal_key: str | None
    account_key: str | None
    subject: str
    direction: CallDirection
    outcome: CallOutcome
    duration_seconds: int | None
    occurred_at: datetime
    modified_at: datetime
    deleted: bool


@dataclass(frozen=True, slots=True)
class SampleEmail:
    """A logged sales email: an activity that is not a call, so call filters must skip it."""

    key: str
    owner_key: str
    deal_key: str | None
    account_key: str | None
    subject: str
    sent_at: datetime
    modified_at: datetime
    deleted: bool


@dataclass(frozen=True, slots=True)
class SampleOrg:
    """The whole sample org, in creation order."""

    now: datetime
    seed: int
    scale: SampleScale
    calendar: SampleCalendar
    home_currency: str
    currency_rates: dict[str, Decimal]
    users: tuple[SampleUser, ...]
    accounts: tuple[SampleAccount, ...]
    deals: tuple[SampleDeal, ...]  # renewals included (kind "renewal")
    calls: tuple[SampleCall, ...]
    emails: tuple[SampleEmail, ...]
    dated_rates: tuple[SampleRate, ...] = ()  # sandbox.sample_currency: month by month
