"""The SQL pieces that differ between SQLite and PostgreSQL, each behind one function.

- `local_date`: the calendar date of an instant column in the configured time zone.
  PostgreSQL: `AT TIME ZONE`. SQLite knows no time zones: the zone's UTC offsets between
  1970 and 2100 become a binary tree of CASE comparisons on the stored UTC text (exact, and
  in C: about 8 string comparisons per row for a zone with daylight saving time), and an
  instant outside those years goes to a Python function registered on the connection.
- `day_difference`: whole days between two local dates. SQLite: the same tree in milliseconds
  added to julianday()'s, in integer arithmetic, with no date text formatted and parsed again.
- `attribute_text` / `attribute_number`: typed views of one key of the JSON `attributes`
  column. A view is NULL when the key is missing, JSON null, or not of that type, so a bad
  value never fails a rollup (a plain CAST would abort the whole query on PostgreSQL).
  Numbers may arrive as JSON numbers or as numeric strings (HubSpot sends every property as
  a string); booleans as JSON true/false or the strings "true"/"false".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Float, Integer, String, Table, case, cast, func, literal, literal_column, or_
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement, UnaryExpression
from sqlalchemy.sql.operators import custom_op

from syncer.store.tables import UtcDateTime

# A number written as text: what both backends accept as a numeric attribute.
NUMBER_PATTERN = r"^\s*[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$"
_NUMBER = re.compile(NUMBER_PATTERN)
_LOCAL_DATE_FUNCTION = "okrsync_local_date"
_NUMBER_FUNCTION = "okrsync_number"
# Offsets are read from the zone database for these instants; outside, SQLite asks Python.
OFFSET_WINDOW = (datetime(1970, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
_SQLITE_INSTANT = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a DateTime in SQLite
_DAY = 86_400


@dataclass(frozen=True, slots=True)
class SqlContext:
    """What shapes the SQL of a rollup: the backend and the configured time zone."""

    dialect: str  # "sqlite" or "postgresql"
    zone: ZoneInfo

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"


def is_instant(column: ColumnElement[Any]) -> bool:
    """An aware-UTC instant column (`*_at`), as opposed to a calendar `date` column."""
    return isinstance(column.type, UtcDateTime)


def local_date(column: ColumnElement[Any], ctx: SqlContext) -> ColumnElement[date]:
    """The calendar date of `column` in the configured zone (a date column as it is)."""
    if not is_instant(column):
        return column
    if ctx.is_sqlite:
        return _sqlite_local_date_sql(column, ctx.zone.key)
    return cast(func.timezone(ctx.zone.key, column), Date)


def _sqlite_local_date_sql(column: ColumnElement[Any], zone: str) -> ColumnElement[date]:
    start, end = (_text(instant) for instant in OFFSET_WINDOW)
    python: ColumnElement[date] = getattr(func, _LOCAL_DATE_FUNCTION)(column, zone, type_=Date)
    in_window = func.date(column, _offset_tree(column, offset_changes(zone)), type_=Date)
    return case((or_(column < start, column >= end), python), else_=in_window)


def _offset_tree(
    column: ColumnElement[Any], changes: tuple[tuple[datetime, int], ...], unit: str = "modifier"
) -> ColumnElement[Any]:
    """The offset in force at `column`: SQLite's date() modifier ('-18000 seconds'), or in
    milliseconds (-18000000) with `unit="ms"`."""
    if len(changes) == 1:
        seconds = changes[0][1]
        return literal_column(f"'{seconds:+d} seconds'") if unit == "modifier" else _integer(seconds * 1000)
    middle = len(changes) // 2
    return case(
        (column < _text(changes[middle][0]), _offset_tree(column, changes[:middle], unit)),
        else_=_offset_tree(column, changes[middle:], unit),
    )


def _text(instant: datetime) -> ColumnElement[str]:
    """An instant as SQLite holds it: the stored texts compare in time order."""
    return literal_column(f"'{instant.astimezone(UTC).strftime(_SQLITE_INSTANT)}'")


@lru_cache(maxsize=16)
def offset_changes(zone: str) -> tuple[tuple[datetime, int], ...]:
    """(instant, UTC offset in seconds from that instant on), ascending, across OFFSET_WINDOW.

    The zone is sampled once a day and each change located to the second by bisection. This
    assumes no zone changes its offset twice within one day; tests/unit/rollup/
    test_time_zones.py checks the SQL against Python around every change of several zones.
    """
    info = ZoneInfo(zone)

    def offset(second: int) -> int:
        delta = datetime.fromtimestamp(second, info).utcoffset()
        assert delta is not None  # a ZoneInfo always has an offset
        return int(delta.total_seconds())

    start, end = (int(instant.timestamp()) for instant in OFFSET_WINDOW)
    changes = [(start, offset(start))]
    for earlier in range(start, end, _DAY):
        later = min(earlier + _DAY, end)
        if offset(later) != changes[-1][1]:
            low, high = earlier, later  # the offset changes in (low, high]
            while high - low > 1:
                middle = (low + high) // 2
                low, high = (middle, high) if offset(middle) == changes[-1][1] else (low, middle)
            changes.append((high, offset(high)))
    return tuple((datetime.fromtimestamp(second, UTC), seconds) for second, seconds in changes)


def sqlite_unindexed(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """`+column`: the same value, but SQLite's planner will not search an index for it."""
    return UnaryExpression(column, operator=custom_op("+"), type_=column.type)


def day_difference(to: ColumnElement[Any], from_: ColumnElement[Any], ctx: SqlContext) -> ColumnElement[Any]:
    """Whole days from `from_` to `to`, each read as a local date; NULL when either is NULL."""
    if ctx.is_sqlite:
        return _sqlite_day_number(to, ctx) - _sqlite_day_number(from_, ctx)
    return local_date(to, ctx) - local_date(from_, ctx)  # PostgreSQL: date - date is a number of days


def non_negative(span: ColumnElement[Any], ctx: SqlContext) -> ColumnElement[Any]:
    """A whole number of days, or NULL when it is negative, with `span` computed once per row
    (CASE WHEN span >= 0 THEN span computes it twice; both engines' max ignore a NULL)."""
    greatest = func.max(span, -1) if ctx.is_sqlite else func.greatest(span, -1)
    return func.nullif(greatest, -1)


def _sqlite_day_number(column: ColumnElement[Any], ctx: SqlContext) -> ColumnElement[int]:
    """The local calendar day of `column` as an integer: its Julian day number.

    Integer arithmetic on julianday()'s milliseconds, which SQLite keeps exact (round() undoes
    the division by 86,400,000 that julianday() returns): one parse per value, where
    julianday(date(x, '-18000 seconds')) parses twice and formats once. An instant outside
    OFFSET_WINDOW takes the Python function's local date, as `local_date` does.
    """
    if not is_instant(column):
        return _sqlite_julian_day(column, _integer(0))
    start, end = (_text(instant) for instant in OFFSET_WINDOW)
    python: ColumnElement[date] = getattr(func, _LOCAL_DATE_FUNCTION)(column, ctx.zone.key, type_=Date)
    in_window = _sqlite_julian_day(column, _offset_tree(column, offset_changes(ctx.zone.key), unit="ms"))
    return case(
        (or_(column < start, column >= end), _sqlite_julian_day(python, _integer(0))), else_=in_window
    )


def _sqlite_julian_day(value: ColumnElement[Any], offset_ms: ColumnElement[Any]) -> ColumnElement[int]:
    # Whole seconds only ('YYYY-MM-DD HH:MM:SS' of the stored text): julianday() rounds to the
    # millisecond, so 23:59:59.9999 would be the next day; offsets are whole seconds, so the
    # dropped fraction never changes a local date.
    whole_seconds = func.substr(value, 1, 19)
    milliseconds = cast(func.round(func.julianday(whole_seconds) * _integer(_DAY * 1000)), Integer)
    # julianday() counts from noon: half a day more puts midnight on a whole number.
    return (milliseconds + offset_ms + _integer(_DAY * 500)) // _integer(_DAY * 1000)


def _integer(value: int) -> ColumnElement[int]:
    return literal_column(str(value), type_=Integer)


def attribute_text(table: Table, name: str, ctx: SqlContext) -> ColumnElement[str]:
    """The attribute as text: strings as they are, numbers as written, booleans 'true'/'false'."""
    if not ctx.is_sqlite:
        text: ColumnElement[str] = table.c.attributes[name].as_string()
        return text  # ->> renders every JSON scalar as text
    path = _json_path(name)
    kind = func.json_type(table.c.attributes, path)
    # SQLite's json_extract turns true/false into 1/0: name them as PostgreSQL does.
    return case(
        (kind == "true", literal("true")),
        (kind == "false", literal("false")),
        else_=cast(func.json_extract(table.c.attributes, path), String),
    )


def attribute_number(table: Table, name: str, ctx: SqlContext) -> ColumnElement[float]:
    """The attribute as a number, NULL unless it is a JSON number or a numeric string."""
    if not ctx.is_sqlite:
        text = table.c.attributes[name].as_string()
        return case((text.regexp_match(NUMBER_PATTERN), cast(text, Float)), else_=None)
    path = _json_path(name)
    kind = func.json_type(table.c.attributes, path)
    raw = func.json_extract(table.c.attributes, path)
    return case(
        (kind.in_(["integer", "real"]), cast(raw, Float)),
        (kind == "text", getattr(func, _NUMBER_FUNCTION)(raw, type_=Float)),
        else_=None,
    )


def _json_path(name: str) -> str:
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'$."{escaped}"'


def prepare_connection(session: Session) -> None:
    """Register the SQLite functions the rollup's SQL calls on the session's connection.

    Idempotent and cheap; called before each rollup query, since a session may move to
    another pooled connection after a commit.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    raw = connection.connection.driver_connection
    assert raw is not None  # a checked-out connection always has its driver connection
    raw.create_function(_LOCAL_DATE_FUNCTION, 2, _sqlite_local_date, deterministic=True)
    raw.create_function(_NUMBER_FUNCTION, 1, _sqlite_number, deterministic=True)


@contextmanager
def sorts_on_one_thread(session: Session) -> Iterator[None]:
    """SQLite: sort without helper threads while in this block, then as before.

    The store gives each SQLite connection two helper threads for one large sort
    (store.database); statements already read side by side on one connection per core gain
    nothing from them, and each helper thread holds sort buffers of its own.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    raw = connection.connection.driver_connection
    assert raw is not None  # a checked-out connection always has its driver connection
    (threads,) = raw.execute("PRAGMA threads").fetchone()
    raw.execute("PRAGMA threads=0")
    try:
        yield
    finally:
        raw.execute(f"PRAGMA threads={int(threads)}")


def _sqlite_local_date(stored: str | None, zone: str) -> str | None:
    """SQLite stores UtcDateTime as naive UTC text ('2026-01-01 05:00:00.000000')."""
    if stored is None:
        return None
    instant = datetime.fromisoformat(stored).replace(tzinfo=UTC)
    return instant.astimezone(ZoneInfo(zone)).date().isoformat()


def _sqlite_number(text: object) -> float | None:
    if isinstance(text, str) and _NUMBER.match(text):
        return float(text)
    return None
