"""Query result records as Salesforce returns them: `attributes` first, then the selected fields in
order, relationship fields nested under their relationship (`"Owner": {"attributes": …, "Email": …}`
or `null` when the reference is empty).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.salesforce.schema import Schema
from sandbox.salesforce.soql.binding import BoundQuery, Column
from sandbox.salesforce.soql.evaluation import Record, RecordSource
from sandbox.salesforce.values import wire_formatter


@dataclass(slots=True)
class _Shape:
    """What to emit for one record level: (key, reader) pairs and nested relationships."""

    entries: list[tuple[str, Callable[[Record], Any] | None, str | None]] = field(default_factory=list)
    children: dict[str, tuple[str, _Shape]] = field(
        default_factory=dict
    )  # relationship -> (reference field, shape)


class Projector:
    """Builds the JSON records of one query's pages."""

    def __init__(
        self,
        bound: BoundQuery,
        *,
        source: RecordSource,
        schema: Schema,
        api_version: str,
        convert: Callable[[Record, str], Any],
    ) -> None:
        """`convert(record, field)` is convertCurrency(): the amount in the running user's currency."""
        self._source, self._schema, self._version = source, schema, api_version
        self._convert = convert
        self._shape = _Shape()
        for column in bound.columns:
            self._add(column)

    def project(self, record: Record) -> dict[str, Any]:
        """The JSON object of `record` (a live org record; call with the org lock held)."""
        return self._emit(record, self._shape)

    def _add(self, column: Column) -> None:
        shape = self._shape
        for step, name in zip(column.path.steps, column.path.names, strict=False):
            if name not in shape.children:
                shape.children[name] = (step.name, _Shape())
                shape.entries.append((name, None, name))
            shape = shape.children[name][1]
        shape.entries.append((column.key, self._reader(column), None))

    def _reader(self, column: Column) -> Callable[[Record], Any]:
        name, fmt = column.path.field.name, wire_formatter(column.path.field)
        if not column.convert_currency:
            return lambda record: fmt(record.get(name))
        convert = self._convert
        return lambda record: convert(record, name)

    def _emit(self, record: Record, shape: _Shape) -> dict[str, Any]:
        record_id = record["Id"]
        definition = self._schema.object_for_id(record_id)
        type_name = definition.name if definition else "Unknown"
        out: dict[str, Any] = {
            "attributes": {
                "type": type_name,
                "url": f"/services/data/v{self._version}/sobjects/{type_name}/{record_id}",
            }
        }
        for key, reader, relationship in shape.entries:
            if relationship is None:
                assert reader is not None
                out[key] = reader(record)
                continue
            reference, child = shape.children[relationship]
            parent_id = record.get(reference)
            parent = self._source.lookup(parent_id) if parent_id else None
            out[key] = None if parent is None else self._emit(parent, child)
        return out


def flatten(projected: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A projected record as {"Id": …, "Owner.Email": …}, without attributes (for tests)."""
    flat: dict[str, Any] = {}
    for key, value in projected.items():
        if key == "attributes":
            continue
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
