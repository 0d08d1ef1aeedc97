"""Pull: connector pages → store. Rows and the cursor that covers them commit together.

A crash between two pages loses nothing (the next pull resumes at the last committed
cursor) and double-counts nothing (upserts are keyed by CRM id).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from syncer.contract import Connector, Page
from syncer.errors import QuotaExhaustedError, RejectedRequestError
from syncer.records import StreamName
from syncer.store import cursors, upserts
from syncer.store.database import Store

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


@dataclass
class SourceResult:
    source: str
    owners: int = 0
    streams: list[StreamResult] = field(default_factory=list)
    error: str | None = None  # the source stopped early

    @property
    def failed(self) -> bool:
        return self.error is not None or any(s.error for s in self.streams)


def store_page(store: Store, source: str, stream: StreamName, page: Page, *, full: bool) -> int:
    """Upsert one page and advance its stream's cursor, in one transaction."""
    with store.sessions.begin() as session:
        changed = upserts.upsert_records(session, stream, page.records, replace_equal=full)
        if page.cursor is not None:
            cursors.advance(session, source, stream, page.cursor)
    return changed


def pull_owners(store: Store, connector: Connector) -> int:
    total = 0
    for page in connector.pull_owners():
        _log_rejected(connector.source, "owners", page.rejected)
        with store.sessions.begin() as session:
            upserts.upsert_owners(session, page.owners)
        total += len(page.owners)
    return total


def pull_stream(
    store: Store, connector: Connector, stream: StreamName, *, until: datetime, full: bool = False
) -> StreamResult:
    """Pull one stream from its cursor (or from scratch when `full`) up to `until`."""
    result = StreamResult(stream)
    with store.sessions() as session:
        since = None if full else cursors.load(session, connector.source, stream)
    for page in connector.pull(stream, since=since, until=until):
        result.changed += store_page(store, connector.source, stream, page, full=full)
        result.received += len(page.records)
        result.deleted += sum(1 for r in page.records if r.deleted)
        result.rejected += len(page.rejected)
        result.pages += 1
        _log_rejected(connector.source, stream, page.rejected)
        log.info(
            "pulled page",
            extra={"source": connector.source, "stream": stream, "records": len(page.records)},
        )
    return result


def pull_source(
    store: Store,
    connector: Connector,
    streams: Iterable[StreamName],
    *,
    until: datetime,
    full: bool = False,
) -> SourceResult:
    """Owners, then each stream. A refused stream fails alone; a spent quota stops the source."""
    result = SourceResult(connector.source)
    result.owners = pull_owners(store, connector)
    for stream in streams:
        try:
            result.streams.append(pull_stream(store, connector, stream, until=until, full=full))
        except RejectedRequestError as exc:
            log.error(
                "stream failed", extra={"source": connector.source, "stream": stream, "error": str(exc)}
            )
            result.streams.append(StreamResult(stream, error=str(exc)))
        except QuotaExhaustedError as exc:
            result.error = str(exc)
            break
    return result


def _log_rejected(source: str, stream: str, rejected: Iterable[Exception]) -> None:
    for error in rejected:
        log.warning("skipped bad record", extra={"source": source, "stream": stream, "error": str(error)})
