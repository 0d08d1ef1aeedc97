"""The SQL pieces that differ between SQLite and PostgreSQL, each behind one function.

- `local_date`: the calendar date of an instant column in the configured time zone
  (PostgreSQL: `AT TIME ZONE`; SQLite: a deterministic Python function registered on the
  session's connection, because SQLite knows no time zones).
- `attribute_text` / `attribute_number`: typed views of one key of the JSON `attributes`
  column. A view is NULL when the key is missing, JSON null, or not of that type, so a bad
  value never fails a rollup (a plain CAST would abort the whole query on PostgreSQL).
  Numbers may arrive as JSON numbers or as numeric strings (HubSpot sends every property as
  a string); booleans as JSON true/false or the strings "true"/"false".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Float, String, Table, case, cast, func, literal
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from syncer.store.tables import UtcDateTime

# A number written as text: what both backends accept as a numeric attribute.
NUMBER_PATTERN = r"^\s*[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$"
_NUMBER = re.compile(NUMBER_PATTERN)
_LOCAL_DATE_FUNCTION = "okrsync_local_date"
_NUMBER_FUNCTION = "okrsync_number"


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
        return getattr(func, _LOCAL_DATE_FUNCTION)(column, ctx.zone.key, type_=Date)  # type: ignore[no-any-return]
    return cast(func.timezone(ctx.zone.key, column), Date)


def day_difference(to: ColumnElement[Any], from_: ColumnElement[Any], ctx: SqlContext) -> ColumnElement[Any]:
    """Whole days from `from_` to `to`, each read as a local date; NULL when either is NULL."""
    to_day, from_day = local_date(to, ctx), local_date(from_, ctx)
    if ctx.is_sqlite:  # SQLite keeps dates as ISO text; julianday() differences are exact days
        return func.julianday(to_day) - func.julianday(from_day)
    return to_day - from_day  # PostgreSQL: date - date is an integer number of days


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
