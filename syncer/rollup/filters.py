"""YAML filters (`where:`, `numerator:`, `denominator:`) → SQL where-clauses.

A filter maps a field to a value; every entry must hold. A scalar is equality (`null` means
the field is missing), a list is "any of these", and a comparison (`{gt, gte, lt, lte, not}`)
holds when each of its parts does.

- A name that is a canonical column of the stream compares that column; `attributes.x` or
  any other bare name compares the attribute `x`.
- For an attribute, the filter value's type decides how the attribute is read: a number
  compares it numerically, a boolean as true/false, a date or a string as text (ISO dates
  sort as text). An attribute that cannot be read that way does not match.
- A date compared with an instant column (`created_at`, …) compares that instant's local
  date in the configured time zone.
- `not` also matches records where the field is missing: `{type: {not: new}}` keeps records
  without a type, as a person reading the filter expects (SQL's NULL <> 'new' would not).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Boolean, Date, Integer, Numeric, Table, and_, false, func, or_, true
from sqlalchemy.sql.elements import ColumnElement

from syncer.config.models import Comparison, Filter, FilterValue, Scalar
from syncer.rollup.expressions import SqlContext, attribute_number, attribute_text, is_instant, local_date

ATTRIBUTE_PREFIX = "attributes."
# A view reads one field for one filter value: (SQL expression, value to compare it with).
View = Callable[[Scalar], tuple[ColumnElement[Any], Any]]
_ORDERINGS = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}


def filter_clause(table: Table, where: Filter, ctx: SqlContext) -> ColumnElement[bool]:
    """Every entry of `where` holds (TRUE for an empty filter)."""
    return and_(true(), *(matches(field_view(table, name, ctx), value) for name, value in where.items()))


def canonical_column(table: Table, name: str) -> ColumnElement[Any] | None:
    """The stream's own column called `name`, or None when `name` is an attribute."""
    if name.startswith(ATTRIBUTE_PREFIX) or name == "attributes" or name not in table.c:
        return None
    return table.c[name]


def attribute_name(name: str) -> str:
    return name.removeprefix(ATTRIBUTE_PREFIX)


def field_view(table: Table, name: str, ctx: SqlContext) -> View:
    """How field `name` is read for a given filter value."""
    column = canonical_column(table, name)
    if column is not None:
        return _column_view(column, ctx)
    return _attribute_view(table, attribute_name(name), ctx)


def matches(view: View, value: FilterValue) -> ColumnElement[bool]:
    if isinstance(value, Comparison):
        return and_(true(), *_comparison_parts(view, value))
    if isinstance(value, list):
        return or_(false(), *(_equals(view, item) for item in value))
    return _equals(view, value)


def _equals(view: View, value: Scalar) -> ColumnElement[bool]:
    expression, bound = view(value)
    return expression.is_(None) if bound is None else expression == bound


def _differs(view: View, value: Scalar | list[Scalar]) -> ColumnElement[bool]:
    parts: list[ColumnElement[bool]] = []
    for item in value if isinstance(value, list) else [value]:
        expression, bound = view(item)
        if bound is None:
            parts.append(expression.is_not(None))
        else:
            parts.append(or_(expression != bound, expression.is_(None)))
    return and_(true(), *parts)


def _comparison_parts(view: View, comparison: Comparison) -> Iterator[ColumnElement[bool]]:
    for name, compare in _ORDERINGS.items():
        limit = getattr(comparison, name)
        if limit is not None:
            expression, bound = view(limit)
            yield compare(expression, bound)
    if "not_" in comparison.model_fields_set:
        yield _differs(view, comparison.not_)


def _column_view(column: ColumnElement[Any], ctx: SqlContext) -> View:
    def view(value: Scalar) -> tuple[ColumnElement[Any], Any]:
        if value is None:
            return column, None
        if is_instant(column):
            day = _as_date(value)
            return (local_date(column, ctx), day) if day is not None else (column, value)
        return column, _coerce(column, value)

    return view


def _coerce(column: ColumnElement[Any], value: Scalar) -> Any:
    """The filter value in the column's type, as YAML may quote or not quote it."""
    kind = column.type
    if isinstance(kind, Boolean):
        return value.strip().lower() == "true" if isinstance(value, str) else bool(value)
    if isinstance(kind, Date):
        return _as_date(value) or value
    if isinstance(kind, Numeric | Integer):
        return _as_number(value) if isinstance(value, str) else value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if isinstance(value, int | float) else value


def _as_number(text: str) -> Decimal | str:
    try:
        return Decimal(text.strip())
    except InvalidOperation:
        return text


def _as_date(value: Scalar) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _attribute_view(table: Table, name: str, ctx: SqlContext) -> View:
    def view(value: Scalar) -> tuple[ColumnElement[Any], Any]:
        if isinstance(value, bool):
            return func.lower(attribute_text(table, name, ctx)), "true" if value else "false"
        if isinstance(value, int | float):
            return attribute_number(table, name, ctx), float(value)
        if isinstance(value, date):
            return attribute_text(table, name, ctx), value.isoformat()
        return attribute_text(table, name, ctx), value

    return view
