"""Declared streams on any sObject (README "Any object as a stream"): a Lead, an Event, a Case.

A declared stream is read like a built-in one, with the same query plan (`soql.QueryPlan`): the
SystemModstamp window, `queryAll` so deleted rows come with IsDeleted, Bulk API 2.0 above the
threshold. Only its field map and its records differ: the owner field, the named dates in the
generic date columns (`syncer.config.object_streams`), the mapped fields as attributes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import tzinfo
from typing import Any

from connectors.salesforce import soql
from connectors.salesforce.mapping import ObjectDescription, RowMap, to_json_safe, value_at
from syncer.config.object_streams import ObjectStream, layouts
from syncer.contract import Cursor, Page
from syncer.errors import BadRecordError, RejectedRequestError
from syncer.object_records import DATE_COLUMNS, ObjectRecord, record_instant

# What every sObject a stream may read carries (docs/crm-apis.md §1.2): the id, the stamp that
# moves on every change, system ones included, and the flag `queryAll` returns deleted rows with.
STAMPS = {"id": "Id", "modified_at": "SystemModstamp", "deleted": "IsDeleted"}


def plan(
    name: str, stream: ObjectStream, description: ObjectDescription, *, source: str, zone: tzinfo
) -> soql.QueryPlan:
    """The checked plan of one declared stream; RejectedRequestError names any field the object lacks."""
    layout = layouts({source: _Declaring({name: stream})})[name]
    owner = stream.owner or "OwnerId"  # `validate` refuses a stream without one
    wanted = {**STAMPS, "owner_id": owner}
    wanted |= {column: stream.dates[date_name] for date_name, column in layout.columns}
    missing = soql.unknown_paths({**wanted, **stream.fields}, description)
    if missing:
        raise RejectedRequestError(
            f"object_streams.{name}: {', '.join(f'`{m}`' for m in missing)} not found on object "
            f"`{description.name}` (or not readable by the integration user); fix the stream's "
            "owner, dates or fields, or grant field access",
            source=source,
        )
    paths: dict[str, str | None] = {key: description.resolve(path) for key, path in wanted.items()}
    attributes = {key: description.resolve(path) or path for key, path in stream.fields.items()}
    columns = dict.fromkeys(p for p in [*paths.values(), *attributes.values()] if p)
    return soql.QueryPlan(description.name, RowMap(paths, attributes, zone), tuple(columns), None)


def to_page(source: str, stream: str, rows: Iterable[Any], row_map: RowMap, *, start: Cursor | None) -> Page:
    """One page of rows as records of the declared `stream`; a row that cannot be read is rejected."""
    records: list[ObjectRecord] = []
    rejected: list[BadRecordError] = []
    paths = row_map.paths
    for row in rows:
        record_id = value_at(row, paths["id"] or "Id")
        try:
            records.append(_record(source, stream, row, row_map))
        except ValueError as exc:
            rejected.append(BadRecordError(stream, str(record_id) if record_id else None, str(exc)))
    cursor = Cursor(modified_at=records[-1].modified_at, last_id=records[-1].id) if records else start
    return Page(records=records, rejected=rejected, cursor=cursor)


def _record(source: str, stream: str, row: Any, row_map: RowMap) -> ObjectRecord:
    paths, zone = row_map.paths, row_map.zone

    def read(key: str) -> Any:
        path = paths.get(key)
        return value_at(row, path) if path else None

    record_id, modified = read("id"), _instant(read("modified_at"), "modified_at", zone)
    if not record_id or modified is None:
        raise ValueError("the row has no Id or SystemModstamp")
    date_1, date_2, date_3 = (_instant(read(column), column, zone) for column in DATE_COLUMNS)
    owner = read("owner_id")
    deleted = read("deleted")
    return ObjectRecord(
        source,
        stream,
        str(record_id),
        str(owner) if owner else None,
        date_1,
        date_2,
        date_3,
        modified_at=modified,
        deleted=deleted is True or str(deleted).lower() == "true",
        attributes={key: to_json_safe(value_at(row, path)) for key, path in row_map.attributes.items()},
    )


def _instant(value: Any, name: str, zone: tzinfo) -> Any:
    try:
        return record_instant(value, zone)
    except ValueError:
        raise ValueError(f"{name} is not a date or a datetime: {str(value)[:40]}") from None


class _Declaring:
    """A source holding just one declared stream, for `layouts`."""

    def __init__(self, object_streams: dict[str, ObjectStream]) -> None:
        self.object_streams = object_streams
