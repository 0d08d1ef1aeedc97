"""Binds a parsed SOQL statement to the schema: objects, fields, relationship paths, literal types.

Errors come out as Salesforce words them: INVALID_TYPE for an unknown object, INVALID_FIELD for an
unknown field or relationship or a literal of the wrong type, INVALID_QUERY_FILTER_OPERATOR for a
malformed id literal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sandbox.salesforce.ids import is_valid_id
from sandbox.salesforce.schema import NUMBER_TYPES, TEXT_TYPES, FieldDef, ObjectDef, Schema
from sandbox.salesforce.soql.messages import (
    no_such_column,
    query_error,
    unknown_relationship,
    unsupported_object,
)
from sandbox.salesforce.soql.syntax import (
    Comparison,
    Condition,
    ConvertCurrencyItem,
    CountItem,
    DateRange,
    FieldPath,
    InList,
    Junction,
    Like,
    Literal,
    Not,
    Query,
)

TYPE_WORDS = {"currency": "currency", "double": "double", "percent": "double", "int": "integer",
              "boolean": "boolean", "date": "date", "datetime": "dateTime"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class BoundPath:
    """A field path resolved: the reference fields walked, then the field read."""

    path: FieldPath
    steps: tuple[FieldDef, ...]
    field: FieldDef
    names: tuple[str, ...]  # canonical relationship names, then the field name


@dataclass(frozen=True, slots=True)
class Column:
    """One selected value: its path, the key it is returned under, and whether it is converted."""

    path: BoundPath
    key: str
    convert_currency: bool


@dataclass(frozen=True, slots=True)
class BoundQuery:
    query: Query
    object: ObjectDef
    count_only: bool
    columns: tuple[Column, ...]
    paths: dict[FieldPath, BoundPath]  # every path of WHERE and ORDER BY


def bind_query(query: Query, schema: Schema) -> BoundQuery:
    """Check `query` against `schema`; raises ApiError as Salesforce would."""
    root = schema.object(query.object_name)
    if root is None:
        raise unsupported_object(query.text, query.object_position, query.object_name)
    binder = _Binder(query, schema, root)
    columns = binder.columns()
    paths: dict[FieldPath, BoundPath] = {}
    if query.where is not None:
        binder.check_condition(query.where, paths)
    for item in query.order_by:
        bound = paths[item.path] = binder.resolve(item.path)
        if bound.field.is_long_text:
            detail = f"field '{bound.field.name}' can not be sorted in a query call"
            raise query_error("INVALID_FIELD", query.text, item.path.position, detail)
    count_only = any(isinstance(item, CountItem) for item in query.select)
    return BoundQuery(query, root, count_only, columns, paths)


class _Binder:
    def __init__(self, query: Query, schema: Schema, root: ObjectDef) -> None:
        self.query, self.schema, self.root = query, schema, root

    def resolve(self, path: FieldPath) -> BoundPath:
        current, steps, names = self.root, [], []
        for part in path.parts[:-1]:
            reference = current.relationship(part)
            targets = [self.schema.object(name) for name in reference.reference_to] if reference else []
            target = next((t for t in targets if t is not None and t.has_field(path.parts[-1])), None)
            target = target or next((t for t in targets if t is not None), None)
            if reference is None or target is None:
                raise unknown_relationship(self.query.text, path.position, part)
            steps.append(reference)
            names.append(reference.relationship_name or part)
            current = target
        field = current.field(path.parts[-1])
        if field is None:
            raise no_such_column(self.query.text, path.position, path.parts[-1], current.name)
        return BoundPath(path, tuple(steps), field, (*names, field.name))

    def columns(self) -> tuple[Column, ...]:
        items = self.query.select
        if any(isinstance(item, CountItem) for item in items):
            if len(items) > 1 or self.query.order_by:
                raise query_error(
                    "MALFORMED_QUERY",
                    self.query.text,
                    0,
                    "COUNT() must be the only element in the SELECT list",
                )
            return ()
        columns: list[Column] = []
        for item in items:
            assert not isinstance(item, CountItem)
            bound = self.resolve(item.path)
            converted = isinstance(item, ConvertCurrencyItem)
            if converted and bound.field.type != "currency":
                detail = f"convertCurrency can only be used on currency fields: {item.path.text}"
                raise query_error("INVALID_FIELD", self.query.text, item.path.position, detail)
            alias = item.alias if isinstance(item, ConvertCurrencyItem) else None
            column = Column(bound, alias or bound.names[-1], converted)
            if any(c.path.names == column.path.names and c.key == column.key for c in columns):
                detail = f"duplicate field selected: {item.path.text}"
                raise query_error("MALFORMED_QUERY", self.query.text, item.path.position, detail)
            columns.append(column)
        return tuple(columns)

    def check_condition(self, condition: Condition, paths: dict[FieldPath, BoundPath]) -> None:
        match condition:
            case Junction(conditions=inner):
                for item in inner:
                    self.check_condition(item, paths)
            case Not(condition=inner):
                self.check_condition(inner, paths)
            case Comparison(path=path, literal=literal) | Like(path=path, pattern=literal):
                paths[path] = self.filterable(path)
                self.check_literal(paths[path], literal, like=isinstance(condition, Like))
            case InList(path=path, literals=literals):
                paths[path] = self.filterable(path)
                for literal in literals:
                    self.check_literal(paths[path], literal, like=False)

    def filterable(self, path: FieldPath) -> BoundPath:
        bound = self.resolve(path)
        if not bound.field.filterable:
            detail = f"field '{bound.field.name}' can not be filtered in a query call"
            raise query_error("INVALID_FIELD", self.query.text, path.position, detail)
        return bound

    def check_literal(self, bound: BoundPath, literal: Literal, *, like: bool) -> None:
        field, value = bound.field, literal.value
        if like and (field.type not in TEXT_TYPES or not isinstance(value, str)):
            detail = f"invalid operator on field '{field.name}': LIKE needs a text field and a quoted pattern"
            raise query_error("INVALID_FIELD", self.query.text, literal.position, detail)
        if value is None or _fits(field, value):
            return
        if field.type in ("id", "reference") and isinstance(value, str):
            raise query_error(
                "INVALID_QUERY_FILTER_OPERATOR",
                self.query.text,
                literal.position,
                f"invalid ID field: {value}",
            )
        if field.type in TEXT_TYPES or field.type in ("id", "reference"):
            detail = f"value of filter criterion for field '{field.name}' must be of type string and should be enclosed in quotes"
        else:
            word = TYPE_WORDS.get(field.type, field.type)
            detail = f"value of filter criterion for field '{field.name}' must be of type {word} and should not be enclosed in quotes"
        raise query_error("INVALID_FIELD", self.query.text, literal.position, detail)


def _fits(field: FieldDef, value: object) -> bool:
    """Whether a non-null literal may be compared with `field`."""
    if field.type in TEXT_TYPES:
        return isinstance(value, str)
    if field.type in ("id", "reference"):
        return isinstance(value, str) and is_valid_id(value)
    if field.type in NUMBER_TYPES:
        return isinstance(value, Decimal)
    if field.type == "boolean":
        return isinstance(value, bool)
    if field.type == "datetime":
        return isinstance(value, datetime | DateRange)
    if field.type == "date":
        return isinstance(value, DateRange) or (isinstance(value, date) and not isinstance(value, datetime))
    return False
