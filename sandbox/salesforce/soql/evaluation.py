"""Evaluates a bound SOQL statement over the org's records: filter, order, offset, limit.

Semantics follow SOQL: text compares case-insensitively, ids by their 15-character form; null
equals only `null` (`!=` and NOT IN keep null rows, <, >, LIKE never match them; a boolean null
is false); a missing parent makes every field through it null; ascending order puts nulls first,
descending last, unless NULLS FIRST/LAST says otherwise.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, Protocol

from sandbox.salesforce.schema import NUMBER_TYPES, TEXT_TYPES, FieldDef
from sandbox.salesforce.soql.binding import BoundPath, BoundQuery
from sandbox.salesforce.soql.dates import resolve_range
from sandbox.salesforce.soql.syntax import (
    Comparison,
    Condition,
    DateRange,
    InList,
    Junction,
    Like,
    Not,
)

Record = dict[str, Any]
Getter = Callable[[Record], Any]
Predicate = Callable[[Record], bool]
OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}  # fmt: skip


class RecordSource(Protocol):
    """Where the records live (the org); called with the org lock held."""

    def rows(self, object_name: str) -> Iterable[Record]: ...

    def lookup(self, record_id: str) -> Record | None: ...


def select_ids(bound: BoundQuery, source: RecordSource, *, include_deleted: bool, today: date) -> list[str]:
    """Ids of the matching records, ordered, after OFFSET and LIMIT."""
    where = bound.query.where
    keep = _compile(where, bound, source, today) if where is not None else None
    rows = source.rows(bound.object.name)
    if not include_deleted:
        rows = (row for row in rows if not row.get("IsDeleted"))
    matched = [row for row in rows if keep is None or keep(row)]
    for item in reversed(bound.query.order_by):
        path = bound.paths[item.path]
        matched.sort(
            key=_sort_key(path, source, item.nulls_first != item.descending), reverse=item.descending
        )
    start = bound.query.offset or 0
    stop = None if bound.query.limit is None else start + bound.query.limit
    return [row["Id"] for row in matched[start:stop]]


def make_getter(path: BoundPath, source: RecordSource) -> Getter:
    """Reads the path's value from a record, walking relationships (None when a parent is missing)."""
    name = path.field.name
    references = [step.name for step in path.steps]
    if not references:
        return lambda record: record.get(name)
    lookup = source.lookup

    def get(record: Record | None) -> Any:
        for reference in references:
            parent_id = record.get(reference) if record else None
            record = lookup(parent_id) if parent_id else None
        return record.get(name) if record else None

    return get


def _normalizer(field: FieldDef) -> Callable[[Any], Any]:
    if field.type in TEXT_TYPES:
        return str.lower
    if field.type in ("id", "reference"):
        return operator.itemgetter(slice(0, 15))
    if field.type in NUMBER_TYPES:
        return float
    return lambda value: value


def _sort_key(path: BoundPath, source: RecordSource, nulls_low: bool) -> Callable[[Record], tuple[Any, ...]]:
    """A key that sorts nulls below everything (`nulls_low`) or above, without comparing None."""
    get, normalize = make_getter(path, source), _normalizer(path.field)
    null_key, rank = ((0,), 1) if nulls_low else ((1,), 0)

    def key(record: Record) -> tuple[Any, ...]:
        value = get(record)
        return null_key if value is None else (rank, normalize(value))

    return key


def _compile(condition: Condition, bound: BoundQuery, source: RecordSource, today: date) -> Predicate:
    match condition:
        case Junction(operator="AND", conditions=inner):
            parts = [_compile(c, bound, source, today) for c in inner]
            return lambda record: all(part(record) for part in parts)
        case Junction(conditions=inner):
            parts = [_compile(c, bound, source, today) for c in inner]
            return lambda record: any(part(record) for part in parts)
        case Not(condition=inner):
            part = _compile(inner, bound, source, today)
            return lambda record: not part(record)
        case Comparison():
            return _comparison(condition, bound.paths[condition.path], source, today)
        case InList():
            return _in_list(condition, bound.paths[condition.path], source)
        case Like():
            return _like(condition, bound.paths[condition.path], source)
    raise TypeError(f"unknown condition {condition!r}")


def _comparison(condition: Comparison, path: BoundPath, source: RecordSource, today: date) -> Predicate:
    get, normalize, op = make_getter(path, source), _normalizer(path.field), condition.operator
    literal = condition.literal.value
    if path.field.type == "boolean":
        get = _false_when_null(get)
        literal = False if literal is None else literal
    if literal is None:
        if op in ("=", "!="):
            wanted_null = op == "="
            return lambda record: (get(record) is None) == wanted_null
        return lambda record: False
    if isinstance(literal, DateRange):
        return _in_range(get, op, _range_bounds(literal, path.field, today))
    target, compare = normalize(_plain(literal)), OPERATORS[op]
    if op == "!=":  # SOQL: a null field is "not equal" to any value
        return lambda record: (value := get(record)) is None or normalize(value) != target
    return lambda record: (value := get(record)) is not None and compare(normalize(value), target)


def _in_range(get: Getter, op: str, bounds: tuple[Any, Any]) -> Predicate:
    start, end = bounds
    tests: dict[str, Callable[[Any], bool]] = {
        "=": lambda v: start <= v < end, "!=": lambda v: not start <= v < end,
        "<": lambda v: v < start, "<=": lambda v: v < end, ">": lambda v: v >= end, ">=": lambda v: v >= start,
    }  # fmt: skip
    test = tests[op]
    if op == "!=":
        return lambda record: (value := get(record)) is None or test(value)
    return lambda record: (value := get(record)) is not None and test(value)


def _range_bounds(literal: DateRange, field: FieldDef, today: date) -> tuple[Any, Any]:
    first, after = resolve_range(literal, today)
    if field.type == "datetime":
        return datetime.combine(first, time(0), tzinfo=UTC), datetime.combine(after, time(0), tzinfo=UTC)
    return first, after


def _in_list(condition: InList, path: BoundPath, source: RecordSource) -> Predicate:
    get, normalize = make_getter(path, source), _normalizer(path.field)
    values = [literal.value for literal in condition.literals]
    if path.field.type == "boolean":
        get, values = _false_when_null(get), [False if v is None else v for v in values]
    wanted = {normalize(_plain(v)) for v in values if v is not None}
    has_null = any(v is None for v in values)

    def contains(record: Record) -> bool:
        value = get(record)
        return has_null if value is None else normalize(value) in wanted

    if condition.negated:
        return lambda record: not contains(record)
    return contains


def _like(condition: Like, path: BoundPath, source: RecordSource) -> Predicate:
    get = make_getter(path, source)
    pattern = re.compile(_like_regex(str(condition.pattern.value)), re.IGNORECASE | re.DOTALL)
    return lambda record: (value := get(record)) is not None and pattern.fullmatch(value) is not None


def _like_regex(pattern: str) -> str:
    """% matches any run of characters, _ one character; \\% and \\_ match themselves."""
    parts, index = [], 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and pattern[index + 1 : index + 2] in ("%", "_"):
            parts.append(re.escape(pattern[index + 1]))
            index += 2
            continue
        parts.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        index += 1
    return "".join(parts)


def _false_when_null(get: Getter) -> Getter:
    return lambda record: bool(get(record))


def _plain(value: Any) -> Any:
    """Literals as stored values: numbers are floats, datetimes UTC."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return value
