"""Admission: the values of canonical records are checked where they enter the engine.

Every record a connector yields passes here before it is stored, with the same rules on
SQLite and PostgreSQL, so that no backend accepts what another refuses and no value that
cannot be true reaches a key result:

- numbers are finite and fit their column (amount: Numeric(18, 2), under 10^16);
- a call lasts from 0 to `MAX_CALL_SECONDS`;
- dates and instants fall in the YAML's `plausible_dates` window (1990-01-01 to 2100-12-31
  by default), so a CreatedDate of 9999-12-31 cannot move an average by 46,000 days;
- (a deal closed before it was created is NOT refused: reps log deals they already won and
  migrations keep old close dates, and its amount is real; only a day-span average skips it:
  see `rollup.metrics.terms` and `rollup.undated`);
- ids and codes fit their columns; free text (TEXT) holds no NUL, which PostgreSQL refuses.

A record that breaks a rule is a `Rejection` (quarantined, never counted). A deleted record is
admitted with its unusable values cleared instead: it never counts, and only its id and stamp
must be right.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from operator import attrgetter
from typing import Any

from sqlalchemy import String

from syncer.config.models import Settings
from syncer.contract import Cursor
from syncer.errors import BadRecordError
from syncer.object_records import ObjectRecord
from syncer.records import Call, Deal, Owner, Record, Renewal
from syncer.store.quarantine import Rejection
from syncer.store.tables import STREAM_TABLES, CursorRow, ObjectRecordRow, OwnerRow

# Numeric(18, 2): 16 digits before the point, after rounding to the cent (PostgreSQL rounds
# 9999999999999999.995 up to 10^16, which overflows; SQLite would keep it).
MONEY_LIMIT = Decimal(10) ** 16 - Decimal("0.005")
# No phone call lasts a day: a longer one is a dialer's error and would dwarf every average.
MAX_CALL_SECONDS = 24 * 3600
EXCERPT_CHARS = 200
KEY_FIELDS = frozenset({"source", "id", "modified_at", "deleted"})


@dataclass(frozen=True, slots=True)
class Rules:
    """What a plausible record is: the window its dates must fall in."""

    earliest: date = date(1990, 1, 1)
    latest: date = date(2100, 12, 31)


DEFAULT_RULES = Rules()


@dataclass(frozen=True, slots=True)
class Fault:
    field: str
    value: object
    reason: str


@dataclass(frozen=True, slots=True)
class Admitted:
    records: list[Record]
    rejections: list[Rejection]


def rules_from(settings: Settings) -> Rules:
    window = settings.plausible_dates
    return Rules(earliest=window.start, latest=window.end)


def admit(
    source: str, stream: str, records: Sequence[Record], errors: Sequence[BadRecordError], rules: Rules
) -> Admitted:
    """The records that may be stored, and a rejection for each one that may not."""
    admitted: list[Record] = []
    rejections = [from_error(source, stream, error) for error in errors]
    bounds = _instant_bounds(rules)  # once a page, not a hash of `rules` per record
    for record in records:
        fault = _first_fault(record, rules, bounds)
        while fault is not None and record.deleted and fault.field not in KEY_FIELDS:
            record = _cleared(record, fault.field)
            fault = _first_fault(record, rules, bounds)
        if fault is None:
            admitted.append(record)
        else:
            rejections.append(_rejection(source, stream, record.id, record.modified_at, fault))
    return Admitted(admitted, rejections)


def admit_owners(
    source: str, owners: Sequence[Owner], errors: Sequence[BadRecordError]
) -> tuple[list[Owner], list[Rejection]]:
    """Owners whose ids and e-mail fit their columns; the others rejected."""
    kept: list[Owner] = []
    rejections = [from_error(source, "owners", error) for error in errors]
    for owner in owners:
        fault = _string_fault(owner)
        if fault is None:
            kept.append(owner)
        else:
            rejections.append(_rejection(source, "owners", owner.id, owner.modified_at, fault))
    return kept, rejections


def fit_cursor(cursor: Cursor) -> Cursor:
    """A cursor whose tiebreak id is too long to keep resumes at its whole instant (inclusive)."""
    limit = _lengths(CursorRow.__table__.columns)["last_id"]
    if cursor.last_id is not None and len(cursor.last_id) > limit:
        return Cursor(modified_at=cursor.modified_at)
    return cursor


def first_fault(record: Record, rules: Rules) -> Fault | None:
    """The first rule the record breaks, or None."""
    return _first_fault(record, rules, _instant_bounds(rules))


def _first_fault(record: Record, rules: Rules, bounds: tuple[datetime, datetime | None]) -> Fault | None:
    return (
        _string_fault(record)
        or _number_fault(record)
        or _date_fault(record, rules, bounds)
        or (_attribute_fault(record.attributes) if record.attributes else None)
    )


def from_error(source: str, stream: str, error: BadRecordError) -> Rejection:
    value = None if error.value is None else excerpt(error.value)
    return Rejection(source, stream, error.record_id, error.field, value, escape(error.reason, 500), None)


def excerpt(value: object, limit: int = EXCERPT_CHARS) -> str:
    """The value as escaped text (control characters as \\x.. escapes), at most `limit` characters."""
    text = value if isinstance(value, str) else repr(value)
    return escape(text, limit)


def escape(text: str, limit: int) -> str:
    """Control and other unprintable characters as escapes; cut to `limit` with an ellipsis."""
    escaped = "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text[:limit]
    )
    return escaped if len(escaped) <= limit and len(text) <= limit else escaped[: limit - 1] + "…"


# ---------------------------------------------------------------- rules


@dataclass(frozen=True, slots=True)
class _Shape:
    """What admission reads of one record class: text fields with their column's length, dates.

    `text_values` and `date_values` read those fields of a record as one tuple each: the checks
    run on every record of every page, and a getattr per field is most of their cost.
    """

    texts: tuple[tuple[str, int | None], ...]
    dates: tuple[str, ...]
    text_values: Callable[[Any], tuple[Any, ...]]
    date_values: Callable[[Any], tuple[Any, ...]]


def _shape_of(kind: type[Record] | type[Owner]) -> _Shape:
    table = _ROW_TABLES[kind].__table__ if kind in _ROW_TABLES else STREAM_TABLES[_STREAMS[kind]].__table__
    lengths = _lengths(table.columns)
    found = fields(kind)
    # Text fields, and every field with a bounded column (a deal's type, a renewal's status).
    texts = tuple(
        (f.name, lengths.get(f.name)) for f in found if str(f.type).startswith("str") or f.name in lengths
    )
    dates = tuple(f.name for f in found if str(f.type).startswith(("date", "datetime")))
    return _Shape(texts, dates, _values_of(tuple(name for name, _ in texts)), _values_of(dates))


def _values_of(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    if not names:
        return lambda item: ()
    if len(names) == 1:
        return lambda item: (getattr(item, names[0]),)
    return attrgetter(*names)


def _string_fault(item: Record | Owner) -> Fault | None:
    shape = _SHAPES[type(item)]
    for (name, limit), value in zip(shape.texts, shape.text_values(item), strict=True):
        if value is None:
            continue
        if limit is not None and len(value) > limit:
            return Fault(name, value, f"{name} is longer than {limit} characters ({len(value)})")
        elif "\x00" in value:
            return Fault(name, value, f"{name} holds a NUL character")
    return None


def _number_fault(record: Record) -> Fault | None:
    amount = getattr(record, "amount", None)
    if amount is not None:
        if not amount.is_finite():
            return Fault("amount", amount, "amount is not a finite number")
        elif abs(amount) >= MONEY_LIMIT:
            return Fault("amount", amount, "amount is 10^16 or more")
    seconds = getattr(record, "duration_seconds", None)
    if seconds is not None:
        if seconds < 0:
            return Fault("duration_seconds", seconds, "duration_seconds is negative")
        elif seconds > MAX_CALL_SECONDS:
            return Fault("duration_seconds", seconds, f"duration_seconds is over {MAX_CALL_SECONDS} (a day)")
    return None


def _date_fault(record: Record, rules: Rules, bounds: tuple[datetime, datetime | None]) -> Fault | None:
    shape = _SHAPES[type(record)]
    first, after = bounds
    for name, value in zip(shape.dates, shape.date_values(record), strict=True):
        if value is None:
            continue
        if isinstance(value, datetime):
            # Aware instants compare in any zone: its UTC day is in the window exactly when it is
            # at or after the first day's UTC midnight and before the midnight after the last day.
            if value.tzinfo is not None and first <= value and (after is None or value < after):
                continue
            day = value.astimezone(UTC).date()
        else:
            day = value
        if not rules.earliest <= day <= rules.latest:
            window = f"{rules.earliest} to {rules.latest}"
            return Fault(name, value.isoformat(), f"{name} is outside the plausible dates ({window})")
    return None


@cache
def _instant_bounds(rules: Rules) -> tuple[datetime, datetime | None]:
    """UTC midnight of the window's first day, and of the day after its last (None: no such day)."""
    first = datetime.combine(rules.earliest, time.min, tzinfo=UTC)
    after = (
        None
        if rules.latest == date.max
        else datetime.combine(rules.latest + timedelta(days=1), time.min, tzinfo=UTC)
    )
    return first, after


def _attribute_fault(attributes: Mapping[str, Any]) -> Fault | None:
    for name, value in attributes.items():
        if _has_non_finite(value):
            return Fault(f"attributes.{name}", value, f"attributes.{name} is not a finite number")
    return None


def _has_non_finite(value: Any) -> bool:
    """A NaN or infinite float anywhere in a JSON value (PostgreSQL's JSON refuses them)."""
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, Mapping):
        return any(_has_non_finite(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_non_finite(item) for item in value)
    return False


def _lengths(columns: Any) -> dict[str, int]:
    return {c.name: c.type.length for c in columns if isinstance(c.type, String) and c.type.length}


_STREAMS: dict[type, str] = {Deal: "deals", Call: "calls", Renewal: "renewals"}
# Worked out once, at import: a pull admits millions of records.
# Owners, and the records of declared streams (README "Any object as a stream"), have tables of their own.
_ROW_TABLES: dict[type, type[OwnerRow] | type[ObjectRecordRow]] = {
    Owner: OwnerRow,
    ObjectRecord: ObjectRecordRow,
}
_SHAPES: dict[type, _Shape] = {kind: _shape_of(kind) for kind in (Deal, Call, Renewal, Owner, ObjectRecord)}


def _cleared(record: Record, name: str) -> Record:
    if name.startswith("attributes."):
        attributes = {k: v for k, v in record.attributes.items() if k != name.removeprefix("attributes.")}
        return replace(record, attributes=attributes)
    cleared: dict[str, Any] = {name: None}
    return replace(record, **cleared)


def _rejection(source: str, stream: str, record_id: str, modified_at: datetime, fault: Fault) -> Rejection:
    # An implausible stamp is not kept: it would pin the quarantine row (and the retired copy)
    # beyond every later version of the record.
    stamp = None if fault.field == "modified_at" else modified_at
    return Rejection(source, stream, record_id, fault.field, excerpt(fault.value), fault.reason, stamp)
