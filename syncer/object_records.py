"""Records of a declared stream (README "Any object as a stream"): a Lead, a meeting, a ticket.

Beyond deals, calls and renewals, a source may pull any CRM object as a stream of its own. Its
records have the shape of every record (source, id, owner, modified stamp, deleted) plus up to
three named dates, kept in the generic columns `date_1`..`date_3` (the stream's `dates:` in
declaration order, `syncer.config.object_streams`), and the mapped `fields:` as attributes,
which `where:` filters read as they read a deal's attributes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any

DATE_COLUMNS = ("date_1", "date_2", "date_3")


@dataclass(slots=True)
class ObjectRecord:
    source: str
    stream: str
    id: str
    owner_id: str | None
    date_1: datetime | None
    date_2: datetime | None
    date_3: datetime | None
    modified_at: datetime
    deleted: bool = False
    attributes: dict[str, Any] = field(default_factory=dict)


def record_instant(value: Any, zone: tzinfo) -> datetime | None:
    """A CRM date or datetime value as an aware UTC instant; ValueError when it is neither.

    A datetime (`2026-05-04T09:30:00.000+0000`, `…Z`, or epoch milliseconds as HubSpot may send)
    is that instant; a calendar day (`2026-05-04`: Salesforce's ConvertedDate, a HubSpot date
    property) is local midnight in the YAML's `timezone`, so the rollup, which reads instants in
    that zone, places it on that very day (as a renewal's closed_at, README "Local dates").
    """
    if value is None or value == "":
        return None
    text = str(value).strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), time(), tzinfo=zone).astimezone(UTC)
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError(f"`{text}` has no time zone")
    return parsed.astimezone(UTC)
