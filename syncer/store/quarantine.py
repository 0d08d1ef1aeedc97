"""Quarantined records: CRM records okrsync could not map, store or believe, with the reason.

A quarantined record never counts: its row here says why, and an older copy of it in the
store is marked deleted. The row goes when a newer version of the record is admitted (the CRM
changed it), so a fixed record is retried with no action from ops.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.orm import Session

from syncer.records import Record
from syncer.store.tables import STREAM_TABLES, RejectedRecordRow

RECORD_ID_LENGTH = 254  # rejected_records.record_id: an over-long CRM id is kept cut to this
FIELD_LENGTH = 80  # rejected_records.field
NO_ID = "?"  # a record without an id (every such record of a stream shares one row)
BATCH_IDS = 500


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why one version of one record was kept out; `value` is an escaped excerpt."""

    source: str
    stream: str
    record_id: str | None
    field: str | None
    value: str | None
    reason: str
    modified_at: datetime | None


@dataclass(frozen=True, slots=True)
class Quarantined:
    source: str
    stream: str
    record_id: str
    field: str | None
    value: str | None
    reason: str
    modified_at: datetime | None
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True, slots=True)
class ReasonCount:
    source: str
    stream: str
    reason: str
    records: int


def keep(session: Session, rejections: Iterable[Rejection], *, now: datetime) -> None:
    """File each rejection (first seen stays, last seen is `now`); retire older stored copies."""
    for rejection in rejections:
        key = (rejection.source, rejection.stream, _key(rejection.record_id))
        row = session.get(RejectedRecordRow, key)
        if row is None:
            row = RejectedRecordRow(source=key[0], stream=key[1], record_id=key[2], first_seen=now)
            session.add(row)
        elif _older(rejection.modified_at, row.modified_at):
            continue  # a replayed page: the newer rejection already filed stays
        row.field = rejection.field[:FIELD_LENGTH] if rejection.field else None
        row.value, row.reason = rejection.value, rejection.reason
        row.modified_at, row.last_seen = rejection.modified_at, now
        _retire_stored(session, rejection)


def release(session: Session, source: str, stream: str, records: Sequence[Record]) -> int:
    """Drop the quarantine rows that admitted records supersede (as new or newer); how many."""
    table: Table = RejectedRecordRow.__table__  # type: ignore[assignment]
    if not records or not _holds_any(session, table, source, stream):
        return 0  # the common case: nothing of this stream is quarantined, one query says so
    admitted = {record.id: record.modified_at for record in records}
    released = 0
    ids = list(admitted)
    for start in range(0, len(ids), BATCH_IDS):
        chunk = ids[start : start + BATCH_IDS]
        found = session.execute(
            select(table.c.record_id, table.c.modified_at).where(
                table.c.source == source, table.c.stream == stream, table.c.record_id.in_(chunk)
            )
        ).all()
        for record_id, modified_at in found:
            if not _older(admitted[record_id], modified_at):
                session.execute(
                    delete(table).where(
                        table.c.source == source, table.c.stream == stream, table.c.record_id == record_id
                    )
                )
                released += 1
    return released


def _holds_any(session: Session, table: Table, source: str, stream: str) -> bool:
    found = session.execute(
        select(table.c.record_id).where(table.c.source == source, table.c.stream == stream).limit(1)
    ).first()
    return found is not None


def top(session: Session, *, limit: int = 20) -> list[Quarantined]:
    """The most recently seen quarantined records, newest first."""
    rows = session.scalars(
        select(RejectedRecordRow)
        .order_by(RejectedRecordRow.last_seen.desc(), RejectedRecordRow.record_id)
        .limit(limit)
    )
    return [
        Quarantined(
            r.source,
            r.stream,
            r.record_id,
            r.field,
            r.value,
            r.reason,
            r.modified_at,
            r.first_seen,
            r.last_seen,
        )
        for r in rows
    ]


def count(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(RejectedRecordRow)).scalar_one())


def top_reasons(session: Session, *, per_stream: int = 3) -> list[ReasonCount]:
    """The commonest reasons per (source, stream), most records first."""
    table = RejectedRecordRow.__table__
    records = func.count().label("records")
    rows = session.execute(
        select(table.c.source, table.c.stream, table.c.reason, records)
        .group_by(table.c.source, table.c.stream, table.c.reason)
        .order_by(table.c.source, table.c.stream, records.desc(), table.c.reason)
    ).all()
    kept: list[ReasonCount] = []
    for source, stream, reason, n in rows:
        if sum(1 for k in kept if (k.source, k.stream) == (source, stream)) < per_stream:
            kept.append(ReasonCount(source, stream, reason, int(n)))
    return kept


def _retire_stored(session: Session, rejection: Rejection) -> None:
    """Mark an older stored copy deleted: the CRM no longer holds those values, so they must
    not count; a newer admitted version replaces the row (upserts take newer copies)."""
    row_class = STREAM_TABLES.get(rejection.stream)
    if row_class is None or rejection.record_id is None:
        return
    table: Table = row_class.__table__  # type: ignore[assignment]
    statement = update(table).where(table.c.source == rejection.source, table.c.id == rejection.record_id)
    if rejection.modified_at is None:
        session.execute(statement.values(deleted=True))
        return
    session.execute(
        statement.where(table.c.modified_at <= rejection.modified_at).values(
            deleted=True, modified_at=rejection.modified_at
        )
    )


def _key(record_id: str | None) -> str:
    return (record_id or NO_ID)[:RECORD_ID_LENGTH]


def _older(a: datetime | None, b: datetime | None) -> bool:
    """Is stamp `a` strictly older than `b`? An unknown stamp is older than none."""
    return a is not None and b is not None and a < b
