"""Reading written fields back for drift repair: one SOQL query per object and field set.

`SELECT Id, <fields> FROM <object> WHERE Id IN (…)` (or `WHERE <external id> IN (…)` for
records upserted by an external id), the IN list cut so each query's URL stays under the REST
API's URI limit. Names are checked against `describe` before they reach a query; values go
through `format_soql`. Builds queries and maps rows; makes no HTTP call.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote_plus

from simple_salesforce.format import format_soql

from connectors.salesforce.mapping import ObjectDescription
from syncer.contract import FieldValue, RecordRef

# The REST API refuses a URI longer than 16,384 bytes (414); a query travels URL-encoded in
# `?q=`, after the instance URL and `/services/data/vNN.N/query/`: keep well under.
MAX_ENCODED_QUERY = 15_000
NUMBER_TYPES = frozenset({"double", "currency", "percent", "int"})


@dataclass(frozen=True, slots=True)
class ReadQuery:
    """One SOQL query and how its rows map back onto the refs it asked for."""

    soql: str
    key_field: str  # "Id", or the external id field the records were upserted by
    refs: tuple[RecordRef, ...]


def plan_queries(
    description: ObjectDescription, refs: Sequence[RecordRef], fields: Sequence[str]
) -> list[ReadQuery]:
    """The fewest queries reading `fields` of `refs`: one per key field, cut by URL length.

    Fields (and external id fields) the object does not have are left out: their write fails
    on its own, and a field that cannot be read cannot be compared.
    """
    known = [name for f in fields if (name := description.resolve(f)) is not None and "." not in name]
    by_key: dict[str, list[RecordRef]] = {}
    for ref in refs:
        key = "Id" if ref.record_id else description.resolve(ref.key_field or "")
        if key is not None and "." not in key:
            by_key.setdefault(key, []).append(ref)
    queries: list[ReadQuery] = []
    for key, grouped in by_key.items():
        select = ", ".join(dict.fromkeys(["Id", key, *known]))
        prefix = f"SELECT {select} FROM {description.name} WHERE {key} IN "
        queries += [
            ReadQuery(prefix + format_soql("{}", [_key(r) for r in chunk]), key, tuple(chunk))
            for chunk in _chunks(prefix, grouped)
        ]
    return queries


def _chunks(prefix: str, refs: Sequence[RecordRef]) -> Iterable[list[RecordRef]]:
    """Consecutive runs of refs whose query, URL-encoded, stays within MAX_ENCODED_QUERY."""
    budget = MAX_ENCODED_QUERY - len(quote_plus(prefix)) - len(quote_plus("()"))
    chunk: list[RecordRef] = []
    used = 0
    for ref in refs:
        cost = len(quote_plus(format_soql("{}", _key(ref)) + ","))
        if chunk and used + cost > budget:
            yield chunk
            chunk, used = [], 0
        chunk.append(ref)
        used += cost
    if chunk:
        yield chunk


def _key(ref: RecordRef) -> str:
    return str(ref.record_id or ref.key_value)


def to_stored(
    query: ReadQuery, rows: Iterable[Mapping[str, Any]], fields: Sequence[str], description: ObjectDescription
) -> dict[str, dict[str, FieldValue]]:
    """RecordRef.target → field → value, for every ref of `query` a row answers."""
    names = {f: name for f in fields if (name := description.resolve(f)) is not None}
    found: dict[str, Mapping[str, Any]] = {}
    for row in rows:
        value = row.get(query.key_field)
        if value is not None:
            found[_match_key(query.key_field, str(value))] = row
    stored: dict[str, dict[str, FieldValue]] = {}
    for ref in query.refs:
        answer = found.get(_match_key(query.key_field, _key(ref)))
        if answer is not None:
            stored[ref.target] = {f: to_field_value(answer.get(name)) for f, name in names.items()}
    return stored


def _match_key(key_field: str, value: str) -> str:
    # An Id matches in its 15-character form (the 18-character one adds a checksum); SOQL compares
    # external id text without regard to case.
    return value[:15] if key_field == "Id" else value.casefold()


def to_field_value(raw: Any) -> FieldValue:
    """A query value as a FieldValue: numbers (Decimal from the client) as int or float."""
    if raw is None or isinstance(raw, bool | str | int | float):
        return raw
    if isinstance(raw, Decimal):
        return int(raw) if raw == raw.to_integral_value() else float(raw)
    return str(raw)


def decimals(description: ObjectDescription, fields: Sequence[str]) -> dict[str, int]:
    """Decimal places each number field keeps (describe's `scale`)."""
    kept: dict[str, int] = {}
    for f in fields:
        info = description.field(f)
        if info is not None and info.type in NUMBER_TYPES:
            kept[f] = info.scale
    return kept
