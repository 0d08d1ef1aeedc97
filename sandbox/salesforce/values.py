"""Field values: stored Python values ↔ Salesforce JSON, and checks of values written by clients.

Stored: text as str, numbers as float (int for `int`), date, aware-UTC datetime at millisecond
precision, bool. On the wire: numbers as JSON numbers, dates `YYYY-MM-DD`, datetimes
`YYYY-MM-DDThh:mm:ss.000+0000` (docs/crm-apis.md §1.1).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox.salesforce.errors import RecordError
from sandbox.salesforce.ids import is_valid_id, to_id18
from sandbox.salesforce.schema import NUMBER_TYPES, TEXT_TYPES, FieldDef

_ISO_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?"
)


def format_datetime(value: datetime) -> str:
    value = value.astimezone(UTC)
    return f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}+0000"


@dataclass(frozen=True, slots=True)
class Garbled:
    """A stored value served exactly as `wire`, whatever its field's type: a record a broken
    integration damaged, for tests of records a client cannot read (`SalesforceSandbox.garble`)."""

    wire: Any


def wire_formatter(field: FieldDef) -> Callable[[Any], Any]:
    """Turns a stored value of `field` into its JSON value (None stays None)."""
    typed = _typed_formatter(field)
    return lambda value: value.wire if isinstance(value, Garbled) else typed(value)


def _typed_formatter(field: FieldDef) -> Callable[[Any], Any]:
    if field.type == "datetime":
        return lambda value: None if value is None else format_datetime(value)
    if field.type == "date":
        return lambda value: None if value is None else value.isoformat()
    if field.type == "int":
        return lambda value: None if value is None else int(value)
    if field.type in NUMBER_TYPES:
        return lambda value: None if value is None else float(value)
    return lambda value: value


def to_wire(field: FieldDef, value: Any) -> Any:
    return wire_formatter(field)(value)


def truncate_to_millis(value: datetime) -> datetime:
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def parse_datetime(text: str) -> datetime | None:
    """An ISO-8601 datetime (`Z`, `+0000` or `+00:00`; no zone means UTC) as aware UTC, or None."""
    match = _ISO_DATETIME.fullmatch(text.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    tz = UTC
    if zone and zone != "Z":
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        tz = timezone(-offset if zone[0] == "-" else offset)
    try:
        value = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=tz)
    except ValueError:
        return None
    millis = int((fraction or "0")[:3].ljust(3, "0"))
    return (value + timedelta(milliseconds=millis)).astimezone(UTC)


def coerce(field: FieldDef, raw: Any) -> Any:
    """The stored form of `raw` written to `field`; raises RecordError as Salesforce reports it.

    Accepts JSON values and, for tests writing through the org directly, Python dates, datetimes
    and Decimals. Required-ness is checked by the caller (it depends on insert vs update).
    """
    if raw is None:
        return False if field.type == "boolean" else None
    if field.type in TEXT_TYPES:
        return _text(field, raw)
    if field.type in NUMBER_TYPES:
        return _number(field, raw)
    if field.type == "boolean":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in ("true", "false"):
            return raw.lower() == "true"
    elif field.type == "date":
        return _date(field, raw)
    elif field.type == "datetime":
        return _datetime(field, raw)
    elif field.type in ("id", "reference"):
        if isinstance(raw, str) and is_valid_id(raw):
            return to_id18(raw)
        raise RecordError(
            "MALFORMED_ID", f"{field.label}: id value of incorrect type: {raw}", fields=[field.name]
        )
    raise _wrong_type(field, raw)


def _wrong_type(field: FieldDef, raw: Any) -> RecordError:
    return RecordError(
        "INVALID_TYPE_ON_FIELD_IN_RECORD",
        f"{field.label}: value not of required type: {raw}",
        fields=[field.name],
    )


def _text(field: FieldDef, raw: Any) -> str:
    if isinstance(raw, bool):
        text = "true" if raw else "false"
    elif isinstance(raw, str | int | float | Decimal):
        text = str(raw)
    else:
        raise _wrong_type(field, raw)
    if field.length and len(text) > field.length:
        message = f"{field.label}: data value too large: {text[:40]} (max length={field.length})"
        raise RecordError("STRING_TOO_LONG", message, fields=[field.name])
    if field.type == "email" and text and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", text):
        raise RecordError(
            "INVALID_EMAIL_ADDRESS", f"{field.label}: invalid email address: {text}", fields=[field.name]
        )
    if field.type == "picklist" and field.restricted_picklist and text not in field.picklist_values:
        message = f"{field.label}: bad value for restricted picklist field: {text}"
        raise RecordError("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", message, fields=[field.name])
    return text


def _number(field: FieldDef, raw: Any) -> float | int:
    if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal | str):
        raise _wrong_type(field, raw)
    try:
        number = Decimal(str(raw).strip())
    except InvalidOperation:
        raise _wrong_type(field, raw) from None
    if not number.is_finite():
        raise _wrong_type(field, raw)
    number = round(number, field.scale)
    whole_digits = len(str(abs(int(number)))) if int(number) else 0
    if field.precision and whole_digits > field.precision - field.scale:
        message = f"{field.label}: value outside of valid range on numeric field: {raw}"
        raise RecordError("NUMBER_OUTSIDE_VALID_RANGE", message, fields=[field.name])
    if field.type == "int":
        return int(number)
    return float(number)


def _date(field: FieldDef, raw: Any) -> date:
    if isinstance(raw, date) and not isinstance(raw, datetime):
        return raw
    if isinstance(raw, str):
        try:
            return date.fromisoformat(raw.strip())
        except ValueError:
            pass
    raise _wrong_type(field, raw)


def _datetime(field: FieldDef, raw: Any) -> datetime:
    if isinstance(raw, datetime):
        value = raw if raw.tzinfo else raw.replace(tzinfo=UTC)
        return truncate_to_millis(value.astimezone(UTC))
    parsed = parse_datetime(raw) if isinstance(raw, str) else None
    if parsed is None:
        raise _wrong_type(field, raw)
    return truncate_to_millis(parsed)
