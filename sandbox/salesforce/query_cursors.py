"""Open query cursors (locators): the matching ids of a query, frozen when it first ran.

Paging through `nextRecordsUrl` reads from this snapshot, so it is stable while data changes; only
ids are kept, values are read when a page is served. A user holds at most 10 open cursors;
opening another releases the oldest (docs/crm-apis.md §1.1), whose locator then fails with
INVALID_QUERY_LOCATOR.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from sandbox.salesforce.ids import IdSequence
from sandbox.salesforce.soql import BoundQuery

MAX_OPEN_CURSORS = 10
MAX_KEPT_CURSORS = 100  # finished cursors are kept a while so a retried last page still works


@dataclass(slots=True)
class QueryCursor:
    locator: str
    bound: BoundQuery
    ids: list[str]
    endpoint: str  # "query" or "queryAll": where nextRecordsUrl points
    batch_size: int
    finished: bool = False


class QueryCursors:
    """Cursors by locator, oldest first; thread-safe."""

    def __init__(self, *, max_open: int = MAX_OPEN_CURSORS) -> None:
        self._lock = threading.Lock()
        self._cursors: OrderedDict[str, QueryCursor] = OrderedDict()
        self._locators = IdSequence("01g")
        self.max_open = max_open

    def open(self, bound: BoundQuery, ids: list[str], *, endpoint: str, batch_size: int) -> QueryCursor:
        with self._lock:
            cursor = QueryCursor(self._locators.next_id(), bound, ids, endpoint, batch_size)
            unfinished = [c.locator for c in self._cursors.values() if not c.finished]
            if len(unfinished) >= self.max_open:
                del self._cursors[unfinished[0]]
            while len(self._cursors) >= MAX_KEPT_CURSORS:
                self._cursors.popitem(last=False)
            self._cursors[cursor.locator] = cursor
            return cursor

    def get(self, locator: str) -> QueryCursor | None:
        with self._lock:
            return self._cursors.get(locator)

    def __len__(self) -> int:
        with self._lock:
            return sum(1 for c in self._cursors.values() if not c.finished)
