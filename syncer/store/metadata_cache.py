"""CRM metadata kept between runs for one source: the store side of `contract.MetadataCache`.

Connectors never import the store; the engine builds one of these per source and hands it to
the connector (`commands.crm.connector_factory`). Each call is its own short transaction: a
describe kept by a run that later fails is still right, since the CRM's own date says when it
was current.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from syncer.contract import CachedMetadata
from syncer.store.database import Store
from syncer.store.tables import CrmMetadataRow
from syncer.store.transaction import transaction


class StoreMetadataCache:
    """`MetadataCache` over the `crm_metadata` table, scoped to `source`."""

    def __init__(
        self, store: Store, source: str, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._store = store
        self._source = source
        self._clock = clock

    def get(self, key: str) -> CachedMetadata | None:
        def work(session: Session) -> CachedMetadata | None:
            row = session.get(CrmMetadataRow, (self._source, key))
            return None if row is None else CachedMetadata(body=row.body, as_of=row.as_of)

        return transaction(self._store, work)

    def put(self, key: str, entry: CachedMetadata) -> None:
        def work(session: Session) -> None:  # run twice, it sets the same values
            row = session.get(CrmMetadataRow, (self._source, key))
            now = self._clock()
            if row is None:
                session.add(
                    CrmMetadataRow(
                        source=self._source, key=key, body=entry.body, as_of=entry.as_of, saved_at=now
                    )
                )
            else:
                row.body, row.as_of, row.saved_at = entry.body, entry.as_of, now

        transaction(self._store, work)

    def confirm(self, key: str, as_of: datetime) -> None:
        def work(session: Session) -> None:
            row = session.get(CrmMetadataRow, (self._source, key))
            if row is not None and as_of > row.as_of:
                row.as_of, row.saved_at = as_of, self._clock()

        transaction(self._store, work)

    def forget(self, key: str) -> None:
        def work(session: Session) -> None:
            row = session.get(CrmMetadataRow, (self._source, key))
            if row is not None:
                session.delete(row)

        transaction(self._store, work)
