"""Which table and columns a stream's records are in: the one place the rollup asks.

A built-in stream (deals, calls, renewals) has a table of its own. The declared streams (README
"Any object as a stream") share `object_records`: each gets a `Table` over it of its own, whose
date columns are keyed by the stream's date names (`Column("date_2", key="converted")`), so
`table.c.converted` is `object_records.date_2` and every statement the rollup builds reads a
declared stream as it reads deals. Only the rows differ: `stream_scope` keeps the stream's own.
"""

from __future__ import annotations

from functools import cache
from typing import Any, cast

from sqlalchemy import JSON, Boolean, Column, Index, MetaData, String, Table
from sqlalchemy.sql.elements import ColumnElement

from syncer.config.object_streams import StreamLayout, registered
from syncer.records import DEFAULT_DATE_FIELD
from syncer.store.tables import STREAM_TABLES, UtcDateTime


def stream_table(stream: str) -> Table:
    """The table the rollup reads `stream` from (a declared stream: its view of object_records)."""
    row = STREAM_TABLES.get(stream)
    if row is not None:
        return cast(Table, row.__table__)
    return _declared_table(_layout(stream))


def default_date(stream: str) -> str:
    """The date that places a record in a period when the metric names none."""
    built_in = cast(dict[str, str], DEFAULT_DATE_FIELD).get(stream)
    return built_in if built_in is not None else _layout(stream).default_date


def stream_scope(table: Table) -> list[ColumnElement[bool]]:
    """The condition that keeps a declared stream's own rows ([] for a built-in stream's table)."""
    name = table.info.get("declared_stream")
    return [] if name is None else [table.c.stream == name]


def _layout(stream: str) -> StreamLayout:
    layout = registered(stream)
    if layout is None:  # `validate` names the stream no source pulls before any rollup runs
        raise KeyError(f"no source pulls the stream `{stream}`")
    return layout


@cache
def _declared_table(layout: StreamLayout) -> Table:
    """`object_records` as the stream's table: its dates under their names, its rows by `stream_scope`."""
    dates: list[Any] = [Column(column, UtcDateTime, key=name) for name, column in layout.columns]
    table = Table(
        "object_records",
        MetaData(),
        Column("source", String(64), primary_key=True),
        Column("stream", String(16), primary_key=True),
        Column("id", String(64), primary_key=True),
        Column("owner_id", String(64)),
        *dates,
        Column("modified_at", UtcDateTime, nullable=False),
        Column("deleted", Boolean, nullable=False),
        Column("attributes", JSON, nullable=False),
        info={"declared_stream": layout.name},
    )
    # The store's indexes (migration 0009), so that the rollup's plans see them as they are.
    Index("ix_object_records_owner", table.c.source, table.c.stream, table.c.owner_id)
    for name, column in layout.columns:
        Index(f"ix_object_records_stream_{column}", table.c.stream, table.c[name])
    return table
