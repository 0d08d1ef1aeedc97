"""Canonical records: deals, calls, renewals and owners, the same shape whatever the CRM.

Connectors build them; the store keeps them; nothing here knows a CRM's words.
Instants are aware UTC (`*_at`), calendar days are `date` (`*_date`), money is `Decimal`.

Records are values: nothing changes one after it is built (`dataclasses.replace` makes a new
one). Deals, calls and renewals are not declared `frozen` all the same: a pull builds one per
CRM row, and a frozen dataclass's `__init__` sets each field through `object.__setattr__`, six
times the cost of a plain slots `__init__` (issue #14).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from syncer.object_records import ObjectRecord

StreamName = Literal["deals", "calls", "renewals"]
STREAMS: tuple[StreamName, ...] = ("deals", "calls", "renewals")

DealType = Literal["new", "expansion", "renewal", "other"]
RenewalStatus = Literal["open", "renewed", "churned"]


@dataclass(slots=True)
class Deal:
    source: str
    id: str
    owner_id: str | None
    account_id: str | None
    amount: Decimal | None  # in the org's home currency
    currency: str | None  # the deal's own currency, kept for reference
    stage: str | None
    pipeline: str | None
    type: DealType
    is_closed: bool
    is_won: bool
    created_at: datetime | None
    close_date: date | None
    modified_at: datetime
    deleted: bool = False
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Call:
    source: str
    id: str
    owner_id: str | None
    occurred_at: datetime | None
    duration_seconds: int | None
    outcome: str | None
    direction: str | None
    modified_at: datetime
    deleted: bool = False
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Renewal:
    source: str
    id: str
    owner_id: str | None
    account_id: str | None
    amount: Decimal | None  # ARR up for renewal, home currency
    due_date: date | None
    status: RenewalStatus
    closed_at: datetime | None
    modified_at: datetime
    deleted: bool = False
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Owner:
    """A CRM user who owns records; `record_id` is what write-back targets."""

    source: str
    id: str
    name: str | None
    email: str | None
    active: bool
    team: str | None
    region: str | None
    record_id: str
    modified_at: datetime


Record = Deal | Call | Renewal | ObjectRecord  # ObjectRecord: README "Any object as a stream"


# What filters, group-by and metrics may name, per stream (attributes come on top).
DATE_FIELDS: dict[StreamName, tuple[str, ...]] = {
    "deals": ("close_date", "created_at", "modified_at"),
    "calls": ("occurred_at", "modified_at"),
    "renewals": ("due_date", "closed_at", "modified_at"),
}
NUMBER_FIELDS: dict[StreamName, tuple[str, ...]] = {
    "deals": ("amount",),
    "calls": ("duration_seconds",),
    "renewals": ("amount",),
}
DEFAULT_DATE_FIELD: dict[StreamName, str] = {
    "deals": "close_date",
    "calls": "occurred_at",
    "renewals": "due_date",
}
_RECORD_CLASSES: dict[StreamName, type[Deal] | type[Call] | type[Renewal]] = {
    "deals": Deal,
    "calls": Call,
    "renewals": Renewal,
}


def field_names(stream: StreamName) -> tuple[str, ...]:
    """Canonical fields of a stream that metrics and filters may use."""
    hidden = {"attributes"}  # `source` stays: a key result may count one CRM only
    return tuple(name for name in _RECORD_CLASSES[stream].__dataclass_fields__ if name not in hidden)


def owner_group_key(email: str | None, source: str, owner_id: str) -> str:
    """How a rep is named across okrsync: the lower-case e-mail (one rep, every CRM),
    or `source:id` when the CRM has no e-mail for them."""
    return email.strip().lower() if email and email.strip() else f"{source}:{owner_id}"
