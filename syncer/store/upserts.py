"""Batched upserts of canonical records and owners, on SQLite and PostgreSQL alike.

An upsert never lets an older copy of a record overwrite a newer one: pulls may overlap
and pages may be replayed after a crash, so rows are only replaced by equal-or-newer data.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import fields
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from syncer.records import Owner, Record, StreamName
from syncer.store.tables import STREAM_TABLES, OwnerRow

BATCH_ROWS = 500  # 500 rows × 16 columns stays far below SQLite's 32,766 bound parameters


def _insert(session: Session, table: Table) -> Any:
    """The dialect's INSERT that knows ON CONFLICT; the one place that picks it."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"the store does not support {dialect}")


def _as_row(item: Record | Owner) -> dict[str, Any]:
    return {f.name: getattr(item, f.name) for f in fields(item)}


def _chunks(rows: Sequence[dict[str, Any]]) -> Iterable[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), BATCH_ROWS):
        yield rows[start : start + BATCH_ROWS]


def _upsert_newer(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], *, replace_equal: bool = False
) -> int:
    """Insert rows, or update stored ones that are older; returns rows written.

    A copy as old as the stored one is skipped (it is the same version), unless
    `replace_equal` asks for it: a full resync re-maps every row.
    """
    written = 0
    keys = [c.name for c in table.primary_key.columns]
    for chunk in _chunks(rows):
        statement = _insert(session, table).values(list(chunk))
        excluded = statement.excluded
        statement = statement.on_conflict_do_update(
            index_elements=keys,
            set_={c.name: excluded[c.name] for c in table.columns if c.name not in keys},
            where=(
                excluded.modified_at >= table.c.modified_at
                if replace_equal
                else excluded.modified_at > table.c.modified_at
            ),
        )
        # RETURNING counts the rows really written: rowcount is -1 for batched inserts on psycopg.
        written += len(session.execute(statement.returning(table.c[keys[0]])).all())
    return written


def upsert_records(
    session: Session, stream: StreamName, records: Sequence[Record], *, replace_equal: bool = False
) -> int:
    """Upsert one stream's records; returns how many rows were new or changed."""
    if not records:
        return 0
    table = STREAM_TABLES[stream].__table__
    # Within one batch the newest copy of a record wins (a page may hold it twice).
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for record in records:
        row = _as_row(record)
        key = (row["source"], row["id"])
        if key not in latest or row["modified_at"] >= latest[key]["modified_at"]:
            latest[key] = row
    rows = list(latest.values())
    return _upsert_newer(session, table, rows, replace_equal=replace_equal)  # type: ignore[arg-type]


def live_ids(session: Session, stream: StreamName, source: str, ids: Sequence[str]) -> set[str]:
    """Which of `ids` the store holds as live (not deleted) records of `source`'s `stream`."""
    table = STREAM_TABLES[stream].__table__
    found: set[str] = set()
    for start in range(0, len(ids), BATCH_ROWS):
        chunk = ids[start : start + BATCH_ROWS]
        statement = select(table.c.id).where(
            table.c.source == source, table.c.id.in_(chunk), table.c.deleted.is_(False)
        )
        found.update(session.scalars(statement))
    return found


def upsert_owners(session: Session, owners: Sequence[Owner]) -> int:
    """Upsert owners (e-mails lower-cased, so teams and targets match case-insensitively)."""
    rows = {}
    for owner in owners:
        row = _as_row(owner)
        row["email"] = owner.email.strip().lower() if owner.email else None
        rows[(owner.source, owner.id)] = row
    # Owners are few and their team may come from a changed mapping: always take the pulled copy.
    return _upsert_newer(session, OwnerRow.__table__, list(rows.values()), replace_equal=True)  # type: ignore[arg-type]


def count_rows(session: Session, stream: StreamName, *, include_deleted: bool = False) -> int:
    table = STREAM_TABLES[stream].__table__
    statement = select(func.count()).select_from(table)
    if not include_deleted:
        statement = statement.where(table.c.deleted.is_(False))
    return int(session.execute(statement).scalar_one())
