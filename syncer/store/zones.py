"""The time zone each source's stored calendar days were read in, and when to pull again in full.

Connectors read the calendar day of some CRM instants in the YAML's `timezone` (a HubSpot
closedate becomes a deal's close_date; a Salesforce renewal's closed_at is local midnight of
its CloseDate). Those stored days are only right for the zone they were read in, so:
- a source with nothing stored yet records the current zone at once (every row it gets is
  read in that zone, even if the first pull is interrupted and resumed);
- a source whose rows were read in another zone (or in an unknown one: a store from before
  this table) is pulled in full, replacing every row, until one pull of it completes; only
  then is the new zone recorded. An interrupted re-pull therefore starts over next cycle.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncer.store.database import Store
from syncer.store.tables import CursorRow, SourceZoneRow
from syncer.store.transaction import transaction


def prepare_pull(store: Store, source: str, zone: str, *, now: datetime) -> bool:
    """Whether `source` must be pulled in full: its stored days were read in another zone.

    Records `zone` at once for a source with nothing stored yet.
    """

    def work(session: Session) -> bool:  # run twice, it finds the zone the first attempt recorded
        row = session.get(SourceZoneRow, source)
        if row is not None:
            return row.zone != zone
        stored = session.scalar(select(CursorRow.stream).where(CursorRow.source == source).limit(1))
        if stored is not None:
            return True  # rows read before zones were recorded: in UTC, or in an unknown zone
        session.add(SourceZoneRow(source=source, zone=zone, recorded_at=now))
        return False

    return transaction(store, work)


def record_complete_pull(store: Store, source: str, zone: str, *, now: datetime) -> None:
    """After a complete pull of `source`: its stored days are all read in `zone`."""

    def work(session: Session) -> None:
        row = session.get(SourceZoneRow, source)
        if row is None:
            session.add(SourceZoneRow(source=source, zone=zone, recorded_at=now))
        elif row.zone != zone:
            row.zone, row.recorded_at = zone, now

    transaction(store, work)
