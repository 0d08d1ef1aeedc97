"""Batched upserts of canonical records and owners, on SQLite and PostgreSQL alike.

An upsert never lets an older copy of a record overwrite a newer one: pulls may overlap
and pages may be replayed after a crash, so rows are only replaced by equal-or-newer data.
That rule is the statement's own `ON CONFLICT … DO UPDATE … WHERE`, so a page is one statement:
`executemany` of one compiled INSERT on SQLite, one `INSERT … SELECT FROM unnest(arrays)` on
PostgreSQL. Values are converted by the columns' own SQLAlchemy bind processors, so a row is
stored exactly as an ORM insert would store it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from functools import cache
from operator import attrgetter
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Dialect, Integer, Numeric, String, Table, func, select
from sqlalchemy.orm import Session

from syncer.records import Owner, Record, StreamName
from syncer.store.tables import STREAM_TABLES, ObjectRecordRow, OwnerRow, UtcDateTime

BATCH_ROWS = 500  # ids per `IN (…)` of a lookup, far below SQLite's 32,766 bound parameters

Processor = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class _Statement:
    """One table's upsert on one dialect: its SQL, and how a record becomes its parameters."""

    sql: str
    # Per column, in order: how to read it from a record, and its bind processor (None: as it is).
    columns: tuple[tuple[Callable[[Any], Any], Processor | None], ...]
    array_types: tuple[str, ...]  # PostgreSQL: the element type each column's array is cast to


def _array_type(column_type: Any) -> str:
    """The PostgreSQL array element type for a column, without its length or precision.

    An explicit cast to `varchar(64)` would cut a long value silently; the INSERT's assignment
    to the column refuses it instead, as a row-by-row insert does.
    """
    for kind, name in (
        (Boolean, "boolean"),
        (DateTime, "timestamptz"),
        (Date, "date"),
        (Integer, "integer"),
        (Numeric, "numeric"),
        (JSON, "json"),
        (String, "text"),
    ):
        if isinstance(column_type, kind) or isinstance(getattr(column_type, "impl", None), kind):
            return name
    raise NotImplementedError(f"no array type for {column_type!r}")


@cache
def _statement(table: Table, dialect_name: str, dialect: Dialect, replace_equal: bool) -> _Statement:
    quote = dialect.identifier_preparer.quote
    columns = list(table.columns)
    names = [quote(c.name) for c in columns]
    keys = [quote(c.name) for c in table.primary_key.columns]
    name, modified = quote(table.name), quote("modified_at")
    newer = ">=" if replace_equal else ">"
    updates = ", ".join(f"{n} = excluded.{n}" for n in names if n not in keys)
    conflict = (
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates} "
        f"WHERE excluded.{modified} {newer} {name}.{modified}"
    )
    processors = [_fast_path(c.type, dialect, _bind_processor(c, dialect)) for c in columns]
    if dialect_name == "sqlite":
        marks = ", ".join("?" for _ in names)
        sql = f"INSERT INTO {name} ({', '.join(names)}) VALUES ({marks}) {conflict}"
        array_types: tuple[str, ...] = ()
    elif dialect_name == "postgresql":
        array_types = tuple(_array_type(c.type) for c in columns)
        arrays = ", ".join(f"%s::{t}[]" for t in array_types)
        sql = f"INSERT INTO {name} ({', '.join(names)}) SELECT * FROM unnest({arrays}) {conflict}"
    else:
        raise NotImplementedError(f"the store does not support {dialect_name}")
    readers = tuple(zip((attrgetter(c.name) for c in columns), processors, strict=True))
    return _Statement(sql, readers, array_types)


def _bind_processor(column: Any, dialect: Dialect) -> Processor | None:
    """What turns a column's value into the driver's parameter, as an ORM insert would send it."""
    if dialect.name == "postgresql" and isinstance(column.type, JSON):
        # Sent as text, cast to json in the statement.
        return getattr(dialect, "_json_serializer", None) or json.dumps
    process: Processor | None = column.type.dialect_impl(dialect).bind_processor(dialect)
    return process


def _fast_path(column_type: Any, dialect: Dialect, process: Processor | None) -> Processor | None:
    """`process`, with the values every pulled row carries converted without its Python calls.

    A page of 10,000 rows goes through about 100,000 bind processors (issue #14). Each shortcut
    gives exactly what `process` gives (tests/unit/store/test_batched_upserts.py compares them);
    any other value, None included, still goes through `process`.
    """
    if process is None:
        return None
    sqlite = dialect.name == "sqlite"
    if isinstance(column_type, UtcDateTime) and not sqlite:
        if column_type.impl_instance.dialect_impl(dialect).bind_processor(dialect) is not None:
            return process

        def utc(value: Any) -> Any:  # the driver sends an aware UTC datetime as it is
            return value if type(value) is datetime and value.tzinfo is UTC else process(value)

        return utc
    if isinstance(column_type, UtcDateTime) and sqlite:
        # SQLAlchemy's SQLite DATETIME text: `YYYY-MM-DD HH:MM:SS.ffffff`, the instant in UTC.
        def utc_text(value: Any) -> Any:
            if type(value) is datetime and value.tzinfo is UTC:
                return value.isoformat(" ", "microseconds")[:26]
            return process(value)

        return utc_text
    if isinstance(column_type, Date) and sqlite:

        def day_text(value: Any) -> Any:
            return value.isoformat() if type(value) is date else process(value)

        return day_text
    if isinstance(column_type, Boolean):
        true, false = process(True), process(False)

        def flag(value: Any) -> Any:
            return true if value is True else false if value is False else process(value)

        return flag
    if isinstance(column_type, JSON):
        empty = process({})  # most records carry no attributes

        def document(value: Any) -> Any:
            return empty if type(value) is dict and not value else process(value)

        return document
    return process


def _upsert_newer(
    session: Session, table: Table, items: Sequence[Record | Owner], *, replace_equal: bool = False
) -> int:
    """Insert rows, or update stored ones that are older, in one statement; returns rows written.

    A copy as old as the stored one is skipped (it is the same version), unless
    `replace_equal` asks for it: a full resync re-maps every row. `items` must hold each key once
    (one statement cannot update a row twice on PostgreSQL).
    """
    if not items:
        return 0
    connection = session.connection()
    dialect = connection.dialect
    statement = _statement(table, dialect.name, dialect, replace_equal)
    # Column by column: one `map` per column instead of a Python loop per value.
    columns: list[list[Any]] = []
    for read, process in statement.columns:
        values = list(map(read, items))
        columns.append(values if process is None else list(map(process, values)))
    if dialect.name == "sqlite":
        result = connection.exec_driver_sql(statement.sql, list(zip(*columns, strict=True)))
    else:
        result = connection.exec_driver_sql(statement.sql, tuple(map(_array_literal, columns)))
    # Both drivers count rows inserted or updated, not those the WHERE kept as they were.
    return int(result.rowcount)


def _array_literal(values: list[Any]) -> str:
    """The column as PostgreSQL array input text: each element quoted, None as NULL.

    The statement casts it (`::timestamptz[]`, …), so each element is read by its type's own input
    function, as the driver's text adaptation would send it; psycopg's adaptation of a Python list
    quotes each element with regular expressions, ten times this cost (issue #14).
    """
    if values and None not in values:
        texts = list(map(str, values))  # a str stays itself; Decimal, datetime, date, bool: their text
        whole = "".join(texts)
        if '"' not in whole and "\\" not in whole:
            return '{"' + '","'.join(texts) + '"}'  # nothing to escape: every element quoted at once
    return (
        "{"
        + ",".join(
            "NULL"
            if value is None
            else '"'
            + (value if type(value) is str else str(value)).replace("\\", "\\\\").replace('"', '\\"')
            + '"'
            for value in values
        )
        + "}"
    )


def _newest(records: Sequence[Record]) -> list[Record]:
    """Each (source, id) once: its newest copy (a page may hold a record twice)."""
    if len({(record.source, record.id) for record in records}) == len(records):
        return list(records)  # the common case: no record twice
    latest: dict[tuple[str, str], Record] = {}
    for record in records:
        key = (record.source, record.id)
        held = latest.get(key)
        if held is None or record.modified_at >= held.modified_at:
            latest[key] = record
    return list(latest.values())


def upsert_records(
    session: Session, stream: StreamName, records: Sequence[Record], *, replace_equal: bool = False
) -> int:
    """Upsert one stream's records; returns how many rows were new or changed."""
    if not records:
        return 0
    table = _records_table(stream)
    return _upsert_newer(session, table, _newest(records), replace_equal=replace_equal)


def live_ids(session: Session, stream: StreamName, source: str, ids: Sequence[str]) -> set[str]:
    """Which of `ids` the store holds as live (not deleted) records of `source`'s `stream`."""
    table = _records_table(stream)
    declared = [table.c.stream == stream] if stream not in STREAM_TABLES else []
    found: set[str] = set()
    for start in range(0, len(ids), BATCH_ROWS):
        chunk = ids[start : start + BATCH_ROWS]
        statement = select(table.c.id).where(
            table.c.source == source, *declared, table.c.id.in_(chunk), table.c.deleted.is_(False)
        )
        found.update(session.scalars(statement))
    return found


def _records_table(stream: str) -> Table:
    """A built-in stream's table, or the one table of every declared stream (README "Any object as
    a stream"; its rows carry their stream's name)."""
    row = STREAM_TABLES.get(stream, ObjectRecordRow)
    return row.__table__  # type: ignore[return-value]


def upsert_owners(session: Session, owners: Sequence[Owner]) -> int:
    """Upsert owners (e-mails lower-cased, so teams and targets match case-insensitively)."""
    rows: dict[tuple[str, str], Owner] = {}
    for owner in owners:
        email = owner.email.strip().lower() if owner.email else None
        rows[(owner.source, owner.id)] = owner if email == owner.email else replace(owner, email=email)
    # Owners are few and their team may come from a changed mapping: always take the pulled copy.
    return _upsert_newer(session, OwnerRow.__table__, list(rows.values()), replace_equal=True)  # type: ignore[arg-type]


def count_rows(session: Session, stream: StreamName, *, include_deleted: bool = False) -> int:
    table = STREAM_TABLES[stream].__table__
    statement = select(func.count()).select_from(table)
    if not include_deleted:
        statement = statement.where(table.c.deleted.is_(False))
    return int(session.execute(statement).scalar_one())
