"""When a pull lists the source's owners: every cycle, or for HubSpot only when due or needed.

Listing owners reads every owner, active and archived, and HubSpot's owners API cannot be asked
what changed since a time (`GET /crm/v3/owners` takes only `email`, `after`, `limit` and
`archived`). So a connector that lists deletes apart (`contract.SharedObjectReads`, HubSpot)
lists owners on the same interval as that sweep, `deletes_every` (README), and always on a first
or full pull. A record stored with an owner the store does not know lists them in that same
cycle, so a new rep's deals never wait an interval for their owner. Other connectors list owners
every cycle, as before.

The last listing's time is kept as a row of `delete_sweeps` (`store.sweeps`) under the name
`owners`: like a sweep, a listing stores every owner, archived ones included, as of that time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncer.contract import Connector, SharedObjectReads
from syncer.store import sweeps
from syncer.store.database import Store
from syncer.store.tables import OwnerRow
from syncer.store.transaction import transaction

LISTING = "owners"  # the `delete_sweeps` row of the owners' listing
_CHUNK = 500  # owner ids per IN list: well inside every driver's bound-parameter limit


def due(store: Store, connector: Connector, *, bound: datetime, full: bool) -> bool:
    """Whether a pull up to `bound` lists owners before its streams."""
    if full or not isinstance(connector, SharedObjectReads):
        return True
    last = transaction(store, lambda session: sweeps.last_sweep(session, connector.source, [LISTING]))
    return last is None or bound - last >= connector.deletes_every


def record(store: Store, connector: Connector, *, bound: datetime) -> None:
    """The owners were listed in full by a pull up to `bound` (kept only where listings are timed)."""
    if isinstance(connector, SharedObjectReads):
        transaction(
            store, lambda session: sweeps.record_sweep(session, connector.source, [LISTING], at=bound)
        )


def unknown(store: Store, source: str, owner_ids: Iterable[str]) -> bool:
    """Whether one of `owner_ids` is no owner of `source` in the store."""
    wanted = sorted(set(owner_ids))

    def work(session: Session) -> bool:
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            query = select(OwnerRow.id).where(OwnerRow.source == source, OwnerRow.id.in_(chunk))
            if len(set(session.scalars(query))) < len(chunk):
                return True
        return False

    return bool(wanted) and transaction(store, work)
