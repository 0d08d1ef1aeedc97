"""One org per store: the CRM org behind each source name, and the rates its amounts were converted with.

The first cycle that reads a source records its org id (Salesforce organization, HubSpot portal)
and home currency. A later cycle or `okrsync check` that reaches another org under the same
source name is refused before anything is pulled or written: the store's cursors, records and
ledger belong to the first org. `reset_source` forgets a source so it can start over.

When the exchange rates a source converts with change, the amounts already stored were converted
with the old ones while the records themselves did not change (their modification stamps stay).
Such rows are marked stale: their version stamp is set to the earliest instant and the money
streams' cursors are dropped, so the next pull reads every record again and each copy replaces
the stale one, even a copy the CRM has not modified since. Nothing here commits.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, MutableSequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Table, delete, func, select, update
from sqlalchemy.orm import Session

from syncer.contract import Connector, SourceIdentity
from syncer.errors import ConfigProblem, CrmError, OrgMismatchError
from syncer.store.database import Store
from syncer.store.tables import (
    STREAM_TABLES,
    Base,
    CursorRow,
    SourceIdentityRow,
)
from syncer.store.transaction import transaction

log = logging.getLogger(__name__)

STALE_STAMP = datetime(1970, 1, 1, tzinfo=UTC)  # older than any CRM copy: the next copy wins
# Streams whose rows hold an amount, and so depend on exchange rates.
MONEY_STREAMS = tuple(name for name, row in STREAM_TABLES.items() if "amount" in row.__table__.c)
# Every table keyed by source: records, owners, cursors, ledger, stream status, quarantine, …
RESET_TABLES = tuple(table for table in Base.metadata.sorted_tables if "source" in table.c)


@dataclass(frozen=True, slots=True)
class StoredIdentity:
    source: str
    kind: str
    org_id: str
    home_currency: str | None
    rates_version: str | None


def stored_identity(session: Session, source: str) -> StoredIdentity | None:
    row = session.get(SourceIdentityRow, source)
    if row is None:
        return None
    return StoredIdentity(row.source, row.kind, row.org_id, row.home_currency, row.rates_version)


def home_currencies(session: Session) -> dict[str, str | None]:
    """source → home currency, for every source this store has seen."""
    return {row.source: row.home_currency for row in session.scalars(select(SourceIdentityRow))}


def mismatch_problem(source: str, stored: str, found: str) -> ConfigProblem:
    return ConfigProblem(
        f"sources.{source}",
        None,
        f"this store holds the data of org {stored}, but the configured connection reaches org {found}. "
        f"Point `store:` at a new store for the other org, or forget `{source}` in this store with "
        f"`okrsync db reset-source {source} -c FILE --yes` (its records, cursors and ledger are deleted)",
    )


def check_identity(session: Session, source: str, identity: SourceIdentity) -> None:
    """Raise OrgMismatchError when the store knows `source` as another org."""
    stored = stored_identity(session, source)
    if stored is not None and stored.org_id != identity.org_id:
        raise OrgMismatchError([mismatch_problem(source, stored.org_id, identity.org_id)])


def record_identity(
    session: Session, source: str, kind: str, identity: SourceIdentity, *, now: datetime
) -> bool:
    """Check and record `source`'s org; True when its stored amounts were marked stale.

    Raises OrgMismatchError (nothing changed) when the store knows the source as another org.
    """
    check_identity(session, source, identity)
    row = session.get(SourceIdentityRow, source)
    stale = (row.rates_version if row else None) != identity.rates_version
    if row is None:
        row = SourceIdentityRow(source=source, kind=kind, org_id=identity.org_id, first_seen=now)
        session.add(row)
    row.kind, row.home_currency, row.updated_at = kind, identity.home_currency, now
    row.rates_version = identity.rates_version
    if stale:
        mark_money_stale(session, source)
    return stale


def mark_money_stale(session: Session, source: str) -> None:
    """Make the next pull of `source`'s money streams replace every stored row (see module doc)."""
    for stream in MONEY_STREAMS:
        table = _table(STREAM_TABLES[stream])
        session.execute(update(table).where(table.c.source == source).values(modified_at=STALE_STAMP))
        session.execute(delete(CursorRow).where(CursorRow.source == source, CursorRow.stream == stream))


def verify_sources(
    store: Store,
    connectors: Mapping[str, Connector],
    kinds: Mapping[str, str],
    errors: MutableSequence[str],
    *,
    now: datetime,
) -> dict[str, Connector]:
    """The connectors whose org matches the store (recorded on first use), before any pull.

    A source whose identity cannot be read is left out with its error appended to `errors`; a
    source that reaches another org raises OrgMismatchError (its message also goes to `errors`).
    """
    verified: dict[str, Connector] = {}
    for name, connector in connectors.items():
        try:
            identity = connector.identity()
        except CrmError as exc:
            log.error("source identity unreadable", extra={"source": name, "error": str(exc)})
            errors.append(str(exc))
            continue
        try:
            if _record(store, name, kinds[name], identity, now=now):
                log.info("exchange rates changed: money streams re-pulled", extra={"source": name})
        except OrgMismatchError as exc:
            errors.append(str(exc))
            raise
        verified[name] = connector
    return verified


def _record(store: Store, name: str, kind: str, identity: SourceIdentity, *, now: datetime) -> bool:
    """`record_identity` in its own transaction; recording the same identity twice changes nothing."""
    return transaction(store, lambda session: record_identity(session, name, kind, identity, now=now))


def reset_source(session: Session, source: str) -> dict[str, int]:
    """Delete everything the store keeps for `source`; rows deleted per table."""
    deleted: dict[str, int] = {}
    for table in RESET_TABLES:
        result = cast(CursorResult[Any], session.execute(delete(table).where(table.c.source == source)))
        deleted[table.name] = result.rowcount or 0
    return deleted


def count_source_rows(session: Session, source: str) -> dict[str, int]:
    """Rows `reset_source` would delete, per table."""
    counts: dict[str, int] = {}
    for table in RESET_TABLES:
        counts[table.name] = session.scalar(select(func.count()).where(table.c.source == source)) or 0
    return counts


def _table(row_class: type[Base]) -> Table:
    return cast(Table, row_class.__table__)
