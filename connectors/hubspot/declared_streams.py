"""Declared streams on any HubSpot object (README "Any object as a stream"): meetings, contacts,
tickets, a custom object (`p_projects`, `2-1234567`).

A declared stream is read like a built-in one, by the same plan (`mapping.StreamPlan`) and the
same reads in `HubSpotConnector.pull_group`: archived objects listed for deletes, a first list of
every object, then searches by hs_lastmodifieddate. Only its properties and its records differ:
the owner property, the named dates in the generic date columns (`syncer.config.object_streams`),
the mapped properties as attributes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import tzinfo
from typing import Any, cast

from connectors.hubspot.mapping import MODIFIED, StreamPlan, to_instant
from syncer.config.object_streams import ObjectStream, layouts
from syncer.contract import Cursor, Page
from syncer.errors import BadRecordError
from syncer.object_records import DATE_COLUMNS, ObjectRecord, record_instant
from syncer.records import StreamName


def plan(name: str, stream: ObjectStream, *, zone: tzinfo) -> StreamPlan:
    """What the declared stream reads: its owner and date properties, and its mapped ones."""
    layout = layouts({"": _Declaring({name: stream})})[name]
    fields = {"owner_id": stream.owner or "hubspot_owner_id"}  # `validate` refuses a stream without one
    fields |= {column: stream.dates[date_name] for date_name, column in layout.columns}
    return StreamPlan(
        stream=cast(StreamName, name),  # a declared name: `HubSpotConnector.pull_group` maps it here
        object_type=stream.object,
        fields=fields,
        attributes=dict(stream.fields),
        pipelines=frozenset(),
        deal_types=frozenset(),
        zone=zone,
    )


def to_page(source: str, rows: Iterable[Any], plan: StreamPlan, *, cursor: Cursor | None) -> Page:
    """A page of records of the declared stream; an object that cannot be read is rejected."""
    records: list[ObjectRecord] = []
    rejected: list[BadRecordError] = []
    for row in rows:
        try:
            records.append(_record(source, row, plan))
        except BadRecordError as exc:
            rejected.append(exc)
    return Page(records=records, rejected=rejected, cursor=cursor)


def _record(source: str, row: Any, plan: StreamPlan) -> ObjectRecord:
    record_id = row.get("id") if isinstance(row, Mapping) else None
    if not isinstance(record_id, str) or not isinstance(row.get("properties"), Mapping):
        raise BadRecordError(plan.stream, None, "not a HubSpot object (no id or properties)")
    props: Mapping[str, Any] = row["properties"]
    archived = bool(row.get("archived"))
    stamp = (row.get("archivedAt") if archived else None) or props.get(MODIFIED) or row.get("updatedAt")
    modified_at = to_instant(stamp)
    if modified_at is None:
        raise BadRecordError(plan.stream, record_id, f"{MODIFIED} is empty", field="modified_at")

    def instant(column: str) -> Any:
        prop = plan.fields.get(column)
        value = props.get(prop) if prop else None
        try:
            return record_instant(value, plan.zone)
        except (ValueError, OverflowError, OSError):
            raise BadRecordError(
                plan.stream, record_id, f"{prop} is not a date or a date-time", field=column, value=value
            ) from None

    owner = props.get(plan.fields["owner_id"])
    date_1, date_2, date_3 = (instant(column) for column in DATE_COLUMNS)
    return ObjectRecord(
        source,
        plan.stream,
        record_id,
        str(owner) if owner not in (None, "") else None,
        date_1,
        date_2,
        date_3,
        modified_at=modified_at,
        deleted=archived,
        attributes={name: props.get(prop) for name, prop in plan.attributes.items()},
    )


class _Declaring:
    """A source holding just one declared stream, for `layouts`."""

    def __init__(self, object_streams: dict[str, ObjectStream]) -> None:
        self.object_streams = object_streams
