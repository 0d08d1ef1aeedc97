"""Reading written properties back for drift repair: batch read, ≤ 100 inputs a call.

`POST /crm/v3/objects/{type}/batch/read` with the properties and, for records upserted by a
unique property, `idProperty` (docs/crm-apis.md §3.3). A record HubSpot does not have comes back
as an error of the 207 answer and is simply absent from the result. Builds bodies and maps
answers; makes no HTTP call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from connectors.hubspot.write import BATCH_LIMIT
from syncer.contract import FieldValue, RecordRef


@dataclass(frozen=True, slots=True)
class ReadBatch:
    """One batch read and the refs it asks for, in order."""

    object: str
    id_property: str | None  # None: by record id
    refs: tuple[RecordRef, ...]
    properties: tuple[str, ...]

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "properties": list(self.properties),
            "propertiesWithHistory": [],
            "inputs": [{"id": _key(ref)} for ref in self.refs],
        }
        if self.id_property is not None:
            body["idProperty"] = self.id_property
        return body


def plan_reads(object_type: str, refs: Sequence[RecordRef], fields: Sequence[str]) -> list[ReadBatch]:
    """The fewest batch reads: one group per id property, ≤ 100 inputs each."""
    groups: dict[str | None, list[RecordRef]] = {}
    for ref in refs:
        if ref.record_id or (ref.key_field and ref.key_value):
            groups.setdefault(None if ref.record_id else ref.key_field, []).append(ref)
    batches: list[ReadBatch] = []
    for id_property, grouped in groups.items():
        properties = tuple(dict.fromkeys([*fields, *([id_property] if id_property else [])]))
        batches += [
            ReadBatch(object_type, id_property, tuple(grouped[s : s + BATCH_LIMIT]), properties)
            for s in range(0, len(grouped), BATCH_LIMIT)
        ]
    return batches


def to_stored(raw: Any, batch: ReadBatch, fields: Sequence[str]) -> dict[str, dict[str, FieldValue]]:
    """RecordRef.target → property → value (HubSpot's string, or None) for every ref found."""
    body = raw if isinstance(raw, Mapping) else {}
    found: dict[str, Mapping[str, Any]] = {}
    for row in body.get("results") or []:
        if not isinstance(row, Mapping):
            continue
        properties = row.get("properties") or {}
        key = properties.get(batch.id_property) if batch.id_property else row.get("id")
        if key is not None:
            found[str(key)] = properties
    stored: dict[str, dict[str, FieldValue]] = {}
    for ref in batch.refs:
        properties = found.get(_key(ref))
        if properties is not None:
            stored[ref.target] = {f: _text(properties.get(f)) for f in fields}
    return stored


def _key(ref: RecordRef) -> str:
    return str(ref.record_id or ref.key_value)


def _text(value: Any) -> FieldValue:
    return None if value is None else str(value)
