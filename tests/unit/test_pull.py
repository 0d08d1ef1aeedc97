"""Pull: pages land with their cursor; a crash between pages loses and doubles nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from syncer.contract import Cursor, Page
from syncer.pull import pull_source, pull_stream
from syncer.records import StreamName
from syncer.store import cursors, upserts
from syncer.store.database import open_store
from tests.fakes import T0, FakeConnector, deal, owner

pytestmark = pytest.mark.store
UNTIL = T0 + timedelta(days=1)


class CrashAfter(FakeConnector):
    """Dies after handing over `pages` pages, like a process killed between two batches."""

    def __init__(self, pages: int, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.pages = pages

    def pull(self, stream: StreamName, *, since: Cursor | None, until: datetime) -> Iterator[Page]:
        for n, page in enumerate(super().pull(stream, since=since, until=until)):
            if n == self.pages:
                raise KeyboardInterrupt("killed")
            yield page


def test_second_pull_with_no_change_reads_nothing(store_url: str) -> None:
    store = open_store(store_url)
    crm = FakeConnector(
        records={"deals": [deal(f"d{i}", minutes=i) for i in range(5)]}, owners=[owner("u1", "A@x.io")]
    )
    first = pull_source(store, crm, ["deals"], until=UNTIL)
    second = pull_source(store, crm, ["deals"], until=UNTIL + timedelta(minutes=15))
    assert (first.streams[0].received, first.streams[0].changed, first.owners) == (5, 5, 1)
    assert (second.streams[0].received, second.streams[0].changed) == (0, 0)
    store.close()


def test_crash_between_pages_then_rerun_loses_and_doubles_nothing(store_url: str) -> None:
    store = open_store(store_url)
    records = [deal(f"d{i}", minutes=i) for i in range(7)]
    with pytest.raises(KeyboardInterrupt):
        pull_stream(store, CrashAfter(2, records={"deals": records}), "deals", until=UNTIL)
    with store.sessions() as session:
        assert upserts.count_rows(session, "deals") == 4  # two pages of two committed
        assert cursors.load(session, "crm", "deals") == Cursor(records[3].modified_at, "d3")
    result = pull_stream(store, FakeConnector(records={"deals": records}), "deals", until=UNTIL)
    with store.sessions() as session:
        assert upserts.count_rows(session, "deals") == 7
    assert result.changed == 3  # d3 is read again (the cursor is inclusive) but not counted twice
    store.close()


def test_full_resync_reads_everything_again(store_url: str) -> None:
    store = open_store(store_url)
    first = FakeConnector(records={"deals": [deal("d1"), deal("d2"), deal("d3", deleted=True)]})
    pull_stream(store, first, "deals", until=UNTIL)
    now = FakeConnector(records={"deals": [deal("d1"), deal("d2", deleted=True), deal("d3", deleted=True)]})
    again = pull_stream(store, now, "deals", until=UNTIL, full=True)
    # Rewritten: d1 (live, rewritten in full) and d2 (live until now). Deleted counts only d2: d3 was
    # already a tombstone, and a delete the store never held live removes nothing a rep could see.
    assert (again.received, again.changed, again.deleted) == (3, 2, 1)
    with store.sessions() as session:
        assert upserts.count_rows(session, "deals") == 1
        assert upserts.count_rows(session, "deals", include_deleted=True) == 3
    store.close()
