"""Paging: list endpoints (≤ 100 a page) and incremental search past the 10,000-result cap.

Search sorts ascending by `hs_lastmodifieddate` in [since, until). A query stops at 10,000 results
(docs/crm-apis.md §3.2), so a capped window restarts at the last modified instant seen, dropping the
ids already yielded at that instant; a window whose every result shares one instant is walked by
`hs_object_id` instead. Yields raw rows; makes no call itself (`fetch` does).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors.hubspot.mapping import MODIFIED, next_after, results, to_instant

SEARCH_RESULT_CAP = 10_000  # docs/crm-apis.md §3.2: paging beyond 10,000 results is a 400
SEARCH_PAGE_SIZE = 200  # docs/crm-apis.md §3.2: the most a search page holds
LIST_PAGE_SIZE = 100  # docs/crm-apis.md §3.1: the most a list page holds
OBJECT_ID = "hs_object_id"

Row = Mapping[str, Any]
Fetch = Callable[[dict[str, Any]], Any]


def to_ms(instant: datetime) -> int:
    """Epoch milliseconds, the form search filters take dates in (docs/crm-apis.md §3.2)."""
    return int(instant.timestamp() * 1000)


def row_ms(row: Row) -> int:
    properties = row.get("properties") or {}
    instant = to_instant(properties.get(MODIFIED) or row.get("updatedAt"))
    return to_ms(instant) if instant else 0


@dataclass(slots=True)
class Seen:
    """The newest instant yielded and the ids yielded at it: what a restart must not repeat."""

    instant_ms: int = -1
    ids: set[str] = field(default_factory=set)

    def keep(self, rows: list[Row]) -> list[Row]:
        fresh: list[Row] = []
        for row in rows:
            at, row_id = row_ms(row), str(row.get("id"))
            if at == self.instant_ms and row_id in self.ids:
                continue  # yielded before this restart
            if at > self.instant_ms:
                self.instant_ms, self.ids = at, set()
            self.ids.add(row_id)
            fresh.append(row)
        return fresh


def iter_search_pages(
    fetch: Fetch, *, properties: list[str], since: datetime, until: datetime
) -> Iterator[list[Row]]:
    """Rows modified in [since, until), oldest first, each exactly once, however many there are."""
    low, high = to_ms(since), to_ms(until)
    seen = Seen()
    while True:
        window = [_filter(MODIFIED, "GTE", low), _filter(MODIFIED, "LT", high)]
        capped, _ = yield from _iter_query(fetch, properties, window, MODIFIED, seen)
        if not capped:
            return
        if seen.instant_ms <= low:  # 10,000 results at one instant: walk that instant by id
            yield from _iter_instant(fetch, properties, low, seen)
            low += 1
        else:
            low = seen.instant_ms


def _iter_instant(fetch: Fetch, properties: list[str], instant_ms: int, seen: Seen) -> Iterator[list[Row]]:
    last_id = -1
    while True:
        window = [_filter(MODIFIED, "EQ", instant_ms), _filter(OBJECT_ID, "GT", last_id)]
        capped, last_id = yield from _iter_query(fetch, properties, window, OBJECT_ID, seen)
        if not capped:
            return


def _iter_query(
    fetch: Fetch, properties: list[str], filters: list[dict[str, str]], sort: str, seen: Seen
) -> Generator[list[Row], None, tuple[bool, int]]:
    """Yield the unseen rows of one query; return (capped, the largest id read).

    `capped`: the query has more results than the cap lets it page to.
    """
    after: str | None = None
    last_id = -1
    while True:
        body: dict[str, Any] = {
            "filterGroups": [{"filters": filters}],
            "sorts": [{"propertyName": sort, "direction": "ASCENDING"}],  # only one sort is honoured
            "properties": properties,
            "limit": SEARCH_PAGE_SIZE,
        }
        if after is not None:
            body["after"] = after
        raw = fetch(body)
        rows = results(raw)
        last_id = max([last_id, *(int(str(row.get("id"))) for row in rows)])
        fresh = seen.keep(rows)
        if fresh:
            yield fresh
        after = next_after(raw)
        if after is None:
            return False, last_id
        if int(after) + SEARCH_PAGE_SIZE > SEARCH_RESULT_CAP:
            return True, last_id


def iter_list_pages(fetch_page: Callable[[str | None], Any]) -> Iterator[list[Row]]:
    """Every page of a list endpoint, following `paging.next.after` (docs/crm-apis.md §3.1)."""
    after: str | None = None
    while True:
        raw = fetch_page(after)
        yield results(raw)
        after = next_after(raw)
        if after is None:
            return


def _filter(name: str, operator: str, value: int) -> dict[str, str]:
    return {"propertyName": name, "operator": operator, "value": str(value)}
