"""Pull: connector pages → store. Rows and the cursor that covers them commit together.

A crash between two pages loses nothing (the next pull resumes at the last committed
cursor) and double-counts nothing (upserts are keyed by CRM id).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from syncer import admission, owner_listing
from syncer.admission import DEFAULT_RULES, Rules
from syncer.contract import Connector, Cursor, Page, SharedObjectReads
from syncer.errors import QuotaExhaustedError, RejectedRequestError, StoreDataError
from syncer.failures import describe_error
from syncer.progress import NO_PROGRESS, Progress
from syncer.records import Owner, Record, StreamName
from syncer.staleness import record_stream_status
from syncer.store import cursors, quarantine, upserts
from syncer.store.database import Store
from syncer.store.quarantine import Rejection
from syncer.store.transaction import store_error, transaction

log = logging.getLogger(__name__)


@dataclass
class StreamResult:
    """What one stream's pull did; `received` counts rows read, `changed` rows new or newer."""

    stream: StreamName
    received: int = 0
    changed: int = 0
    rejected: int = 0
    deleted: int = 0
    pages: int = 0
    error: str | None = None
    reasons: Counter[str] = field(default_factory=Counter)  # rejected records per reason
    owner_ids: set[str] = field(default_factory=set)  # owners of the live records read (owner_listing)


@dataclass
class SourceResult:
    source: str
    owners: int = 0
    streams: list[StreamResult] = field(default_factory=list)
    error: str | None = None  # the source stopped early

    @property
    def failed(self) -> bool:
        return self.error is not None or any(s.error for s in self.streams)


@dataclass(frozen=True, slots=True)
class StoredPage:
    changed: int  # rows new or newer
    removed: int  # live rows this page deleted (deleted in the CRM, or out of the stream's scope)
    rejections: list[Rejection]  # quarantined: not stored, never counted


def store_page(
    store: Store, source: str, stream: StreamName, page: Page, *, full: bool, rules: Rules = DEFAULT_RULES
) -> StoredPage:
    """Admit, upsert and quarantine one page and advance its stream's cursor, in one transaction.

    A bad record never holds the page back: it is quarantined and the cursor moves past it.
    """
    checked = admission.admit(source, stream, page.records, page.rejected, rules)
    records, rejections = checked.records, checked.rejections
    try:
        changed, removed = _commit_page(store, source, stream, page, records, rejections, full=full)
    except StoreDataError:  # a value the checks let through and the store refuses: find it
        records, refused = _storable(store, stream, records, full=full)
        rejections = rejections + refused
        changed, removed = _commit_page(store, source, stream, page, records, rejections, full=full)
    return StoredPage(changed, removed, rejections)


def _commit_page(
    store: Store,
    source: str,
    stream: StreamName,
    page: Page,
    records: list[Record],
    rejections: list[Rejection],
    *,
    full: bool,
) -> tuple[int, int]:
    """Live rows new or newer plus rows removed, and rows removed: the live rows the page deleted.

    A HubSpot stream sees every record of its object and marks those outside its pipelines
    deleted; a delete whose record the store never held live is kept (so no older copy can come
    back) but counts as nothing: a first pull reports no 1,000 deleted renewals that never were.
    """

    def work(session: Session) -> tuple[int, int]:  # rows and cursor: running it twice leaves the same rows
        live = [r for r in records if not r.deleted]
        deletes = [r for r in records if r.deleted]
        were_live = upserts.live_ids(session, stream, source, [r.id for r in deletes]) if deletes else set()
        # Each copy only replaces an older one, so the two batches may run in either order.
        changed = upserts.upsert_records(session, stream, live, replace_equal=full)
        upserts.upsert_records(session, stream, deletes, replace_equal=full)
        removed = len(were_live - upserts.live_ids(session, stream, source, sorted(were_live)))
        quarantine.release(session, source, stream, records)
        quarantine.keep(session, rejections, now=datetime.now(UTC))
        if page.cursor is not None:
            cursors.advance(session, source, stream, admission.fit_cursor(page.cursor))
        return changed + removed, removed

    return transaction(store, work)


def _storable(
    store: Store, stream: StreamName, records: list[Record], *, full: bool
) -> tuple[list[Record], list[Rejection]]:
    """Try each record alone (rolled back): those the store takes, and a rejection for the others."""
    kept: list[Record] = []
    refused: list[Rejection] = []
    for record in records:
        with store.sessions() as session:
            try:
                upserts.upsert_records(session, stream, [record], replace_equal=full)
                kept.append(record)
            except StoreDataError as exc:
                reason = f"the store refused the record ({exc.driver_error})"
                refused.append(
                    Rejection(record.source, stream, record.id, None, None, reason, record.modified_at)
                )
            except SQLAlchemyError as exc:
                raise store_error(store, exc) from exc
            finally:
                session.rollback()
    return kept, refused


def pull_owners(store: Store, connector: Connector) -> int:
    total = 0
    for page in connector.pull_owners():
        owners, rejections = admission.admit_owners(connector.source, page.owners, page.rejected)
        _log_rejections(rejections)
        _store_owners(store, owners, rejections)
        total += len(owners)
    return total


def _list_owners(store: Store, connector: Connector, bound: datetime) -> int:
    total = pull_owners(store, connector)
    owner_listing.record(store, connector, bound=bound)
    return total


def record_owners(records: Iterable[Record]) -> set[str]:
    """The owner ids of the live records among `records`."""
    return {r.owner_id for r in records if not r.deleted and r.owner_id}


def _store_owners(store: Store, owners: list[Owner], rejections: list[Rejection]) -> None:
    def work(session: Session) -> None:  # keyed by id: running it twice leaves the same rows
        upserts.upsert_owners(session, owners)
        quarantine.keep(session, rejections, now=datetime.now(UTC))

    transaction(store, work)


def pull_stream(
    store: Store,
    connector: Connector,
    stream: StreamName,
    *,
    until: datetime,
    full: bool = False,
    rules: Rules = DEFAULT_RULES,
    checkpoint: Callable[[], None] | None = None,
    progress: Progress = NO_PROGRESS,
) -> StreamResult:
    """Pull one stream from its cursor (or from scratch when `full`) up to `until`.

    `checkpoint` is called after each committed page; it raises to stop the pull there.
    """
    result = StreamResult(stream)
    since = None if full else transaction(store, lambda s: cursors.load(s, connector.source, stream))
    for page in pull_window(connector, stream, since=since, until=until):
        stored = store_page(store, connector.source, stream, page, full=full, rules=rules)
        result.changed += stored.changed
        result.received += len(page.records)
        result.deleted += stored.removed
        result.rejected += len(stored.rejections)
        result.reasons.update(r.reason for r in stored.rejections)
        result.pages += 1
        result.owner_ids.update(record_owners(page.records))
        _log_rejections(stored.rejections)
        log.info(
            "pulled page",
            extra={"source": connector.source, "stream": stream, "records": len(page.records)},
        )
        progress.page(connector.source, stream, len(page.records), expected=page.expected)
        if checkpoint is not None:
            checkpoint()
    return result


def pull_source(
    store: Store,
    connector: Connector,
    streams: Iterable[StreamName],
    *,
    until: datetime,
    full: bool = False,
    rules: Rules = DEFAULT_RULES,
    checkpoint: Callable[[], None] | None = None,
    progress: Progress = NO_PROGRESS,
) -> SourceResult:
    """Owners when due (owner_listing), then each stream, then owners again if a record read names
    one the store lacks. A refused stream fails alone; a spent quota stops the source."""
    result = SourceResult(connector.source)
    streams = list(streams)
    bound = floor_instant(until, connector.cursor_resolution)
    try:
        listed = owner_listing.due(store, connector, bound=bound, full=full)
        if listed:
            result.owners = _list_owners(store, connector, bound)
        for group in _stream_groups(connector, streams):
            try:
                result.streams += _pull_group(
                    store,
                    connector,
                    group,
                    until=until,
                    full=full,
                    rules=rules,
                    checkpoint=checkpoint,
                    progress=progress,
                )
            except RejectedRequestError as exc:
                for stream in group:
                    log.error(
                        "stream failed",
                        extra={"source": connector.source, "stream": stream, "error": str(exc)},
                    )
                    result.streams.append(StreamResult(stream, error=str(exc)))
            except QuotaExhaustedError as exc:
                result.error = str(exc)
                break
        result.streams.sort(key=lambda pulled: streams.index(pulled.stream))  # as configured, not as read
        read_owners = (owner for pulled in result.streams for owner in pulled.owner_ids)
        if not listed and result.error is None and owner_listing.unknown(store, result.source, read_owners):
            result.owners = _list_owners(store, connector, bound)
    except BaseException as exc:  # auth refused, retries exhausted, a crash, Ctrl-C: none completed
        result.error = result.error or describe_error(exc)
        record_stream_status(store, result.source, _stream_errors(result, streams), now=until, failing=True)
        raise
    record_stream_status(store, result.source, _stream_errors(result, streams), now=until)
    return result


def _stream_groups(connector: Connector, streams: list[StreamName]) -> list[tuple[StreamName, ...]]:
    """Streams pulled by one read of their CRM object (contract.SharedObjectReads), else each alone."""
    if isinstance(connector, SharedObjectReads):
        return connector.stream_groups(streams)
    return [(stream,) for stream in streams]


def _pull_group(
    store: Store, connector: Connector, group: tuple[StreamName, ...], **options: Any
) -> list[StreamResult]:
    if isinstance(connector, SharedObjectReads):
        from syncer.pull_groups import pull_group  # it stores pages with this module's store_page

        return pull_group(store, connector, group, **options)
    return [pull_stream(store, connector, stream, **options) for stream in group]


def _stream_errors(result: SourceResult, streams: Iterable[StreamName]) -> dict[str, str | None]:
    """Each stream's error in this pull (None: completed); unfinished ones get the source's error."""
    finished = {s.stream: s.error for s in result.streams}
    return {s: finished.get(s, result.error or "not pulled") for s in streams}


def _log_rejections(rejections: Iterable[Rejection]) -> None:
    """Ids and reasons only: a value excerpt stays in the store (records never reach a log)."""
    for r in rejections:
        log.warning(
            "quarantined bad record",
            extra={"source": r.source, "stream": r.stream, "record_id": r.record_id, "error": r.reason},
        )


# --- The window rules every connector's pull obeys (the connector reads, the engine bounds) ---

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def floor_instant(instant: datetime, resolution: timedelta) -> datetime:
    """`instant` cut down to a multiple of `resolution` (e.g. whole seconds for SOQL literals)."""
    return instant - (instant - EPOCH) % resolution


def pull_bound(until: datetime, connectors: Iterable[Connector]) -> datetime:
    """`until` at the coarsest cursor resolution among `connectors`: one bound for the whole cycle."""
    coarsest = max((c.cursor_resolution for c in connectors), default=timedelta(microseconds=1))
    return floor_instant(until, coarsest)


def pull_window(
    connector: Connector, stream: StreamName, *, since: Cursor | None, until: datetime
) -> Iterator[Page]:
    """The connector's pages of [since, until) under the shared cursor rules.

    `until` is cut to the connector's `cursor_resolution`; a window already read yields nothing;
    no page's cursor passes the bound or goes back before the one before it; the window's last
    page (`Page.last`, else an empty page after the others) leaves the cursor at the bound, so an
    unchanged CRM reads nothing next time. Each page is handed on as it comes: none waits for the
    next to be read.
    """
    if until.tzinfo is None:
        raise ValueError("until must be an aware UTC datetime")
    bound = floor_instant(until, connector.cursor_resolution)
    if since is not None and since.modified_at >= bound:
        return  # nothing can be in the window; never move the cursor back
    final, previous = Cursor(modified_at=bound), since
    for page in connector.pull(stream, since=since, until=bound):
        cursor = final if page.last else _kept_cursor(page.cursor, previous, bound)
        previous = cursor or previous
        yield replace(page, cursor=cursor)
        if page.last:
            return
    yield Page(records=[], rejected=[], cursor=final, last=True)  # the whole window is read


def _kept_cursor(cursor: Cursor | None, previous: Cursor | None, bound: datetime) -> Cursor | None:
    if cursor is None:
        return None
    if cursor.modified_at > bound:
        return Cursor(modified_at=bound)
    if previous is not None and _order(cursor) < _order(previous):
        return previous  # rows re-read by a lookback never move the cursor back
    return cursor


def _order(cursor: Cursor) -> tuple[datetime, str]:
    return cursor.modified_at, cursor.last_id or ""
