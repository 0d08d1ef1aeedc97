"""HubSpot's wire formats: every property value is a string (or null), instants are ISO 8601 in
UTC with milliseconds and `Z`, and filter values may be epoch milliseconds (docs/crm-apis.md §3.1, §3.2).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation

PropertyValue = str | None


def to_hs_time(at: datetime) -> str:
    """`2026-11-15T12:00:00.000Z`."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def to_hs_date(day: date) -> str:
    """A date property as HubSpot returns it: midnight UTC of that day."""
    return to_hs_time(datetime.combine(day, time(0), tzinfo=UTC))


def to_hs_value(value: object) -> PropertyValue:
    """A Python value as HubSpot stores it; JSON numbers and booleans written by clients become strings."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return to_hs_time(value)
    if isinstance(value, date):
        return to_hs_date(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse_instant(text: str) -> datetime | None:
    """Epoch milliseconds, an ISO instant or an ISO date (UTC midnight); None when it is none of them."""
    stripped = text.strip()
    if stripped.lstrip("-").isdigit():
        return datetime.fromtimestamp(int(stripped) / 1000, tz=UTC)
    try:
        parsed = datetime.fromisoformat(stripped.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_number(text: str) -> Decimal | None:
    try:
        return Decimal(text.strip())
    except InvalidOperation:
        return None


def to_epoch_ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)
