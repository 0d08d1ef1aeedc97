"""Pull a group of streams that share one CRM object with one read (`contract.SharedObjectReads`).

HubSpot's `deals` and `renewals` streams are both the deals object: read once, every page the
connector reads becomes one page per stream, each stored by `pull.store_page` with that
stream's cursor. The streams' cursors may differ, so the read starts at the oldest one: a
stream further on gets records it already holds, and the upserts only replace older copies, so
re-reading them changes nothing and its cursor never moves back (`pull._kept_cursor`).

Each stream's page commits in its own transaction. A crash between two of them leaves one
stream's cursor behind the other's, which the next read starts from: nothing is lost.

Deleted records come from a sweep (`contract.Sweep`) that runs when `deletes_every` has passed
since the group's last one, or from scratch when a stream starts over; the sweep's end is kept
in the store (`store.sweeps`) once the whole window is stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from syncer.admission import DEFAULT_RULES, Rules
from syncer.contract import Connector, Cursor, Page, SharedObjectReads, Sweep
from syncer.progress import NO_PROGRESS, Progress
from syncer.pull import (
    StreamResult,
    _kept_cursor,
    _log_rejections,
    floor_instant,
    record_owners,
    store_page,
)
from syncer.records import StreamName
from syncer.store import cursors, sweeps
from syncer.store.database import Store
from syncer.store.transaction import transaction

log = logging.getLogger(__name__)


def due_sweep(
    since: Mapping[StreamName, Cursor | None], last: datetime | None, *, bound: datetime, every: timedelta
) -> Sweep | None:
    """The sweep this pull runs: from scratch when a stream starts over or was never swept, from
    the last one when `every` has passed since it, else none."""
    if last is None or any(cursor is None for cursor in since.values()):
        return Sweep(since=None)
    return Sweep(since=last) if bound - last >= every else None


def pull_group(
    store: Store,
    connector: Connector,
    group: Sequence[StreamName],
    *,
    until: datetime,
    full: bool = False,
    rules: Rules = DEFAULT_RULES,
    checkpoint: Callable[[], None] | None = None,
    progress: Progress = NO_PROGRESS,
) -> list[StreamResult]:
    """Pull every stream of `group` from its cursor (from scratch when `full`) up to `until`."""
    if not isinstance(connector, SharedObjectReads):
        raise TypeError(f"{type(connector).__name__} reads each stream alone: use pull.pull_stream")
    source, bound = connector.source, floor_instant(until, connector.cursor_resolution)

    def load(session: Session) -> tuple[dict[StreamName, Cursor | None], datetime | None]:
        stored = {s: None if full else cursors.load(session, source, s) for s in group}
        return stored, sweeps.last_sweep(session, source, group)

    since, last = transaction(store, load)
    sweep = due_sweep(since, last, bound=bound, every=connector.deletes_every)
    results = {stream: StreamResult(stream) for stream in group}
    read = {s: c for s, c in since.items() if c is None or c.modified_at < bound}
    if not read and sweep is None:
        return list(results.values())  # every window is read and no sweep is due: no call at all
    previous: dict[StreamName, Cursor | None] = dict(since)
    final = Cursor(modified_at=bound)
    for pages in connector.pull_group(since, until=bound, sweep=sweep):
        for stream in group:
            page = pages[stream]
            cursor = final if page.last else _kept_cursor(page.cursor, previous[stream], bound)
            previous[stream] = cursor or previous[stream]
            _store(store, source, results[stream], Page(page.records, page.rejected, cursor), full, rules)
            progress.page(source, stream, len(page.records), expected=page.expected)
        if checkpoint is not None:
            checkpoint()
    for stream in group:  # the whole window is read: each cursor moves to the bound
        _store(store, source, results[stream], Page([], [], final, last=True), full, rules)
    if sweep is not None:
        transaction(store, lambda session: sweeps.record_sweep(session, source, group, at=bound))
    return list(results.values())


def _store(store: Store, source: str, result: StreamResult, page: Page, full: bool, rules: Rules) -> None:
    stored = store_page(store, source, result.stream, page, full=full, rules=rules)
    result.changed += stored.changed
    result.received += len(page.records)
    result.deleted += stored.removed
    result.rejected += len(stored.rejections)
    result.reasons.update(r.reason for r in stored.rejections)
    result.pages += 1
    result.owner_ids.update(record_owners(page.records))
    _log_rejections(stored.rejections)
    if page.records:
        log.info(
            "pulled page", extra={"source": source, "stream": result.stream, "records": len(page.records)}
        )
