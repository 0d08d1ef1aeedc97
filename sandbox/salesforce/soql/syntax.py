"""The parsed form of a SOQL statement: select items, conditions, literals, ordering.

Positions are offsets into the statement text, kept so errors can point at a row and column the
way Salesforce does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

Operator = str  # one of "=", "!=", "<", "<=", ">", ">="


@dataclass(frozen=True, slots=True)
class FieldPath:
    """`Amount`, or `Owner.Email` through relationships; `parts` as written."""

    parts: tuple[str, ...]
    position: int

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True, slots=True)
class FieldItem:
    path: FieldPath


@dataclass(frozen=True, slots=True)
class ConvertCurrencyItem:
    """`convertCurrency(Amount) [alias]`: the amount in the running user's currency."""

    path: FieldPath
    alias: str | None


@dataclass(frozen=True, slots=True)
class CountItem:
    """`COUNT()`: the statement returns only `totalSize`."""

    position: int


SelectItem = FieldItem | ConvertCurrencyItem | CountItem


@dataclass(frozen=True, slots=True)
class DateRange:
    """A date literal such as TODAY, LAST_N_DAYS:30 or THIS_QUARTER, resolved when evaluated."""

    name: str
    amount: int | None
    position: int


Value = str | Decimal | bool | date | datetime | DateRange | None


@dataclass(frozen=True, slots=True)
class Literal:
    value: Value
    position: int


@dataclass(frozen=True, slots=True)
class Comparison:
    path: FieldPath
    operator: Operator
    literal: Literal


@dataclass(frozen=True, slots=True)
class InList:
    path: FieldPath
    literals: tuple[Literal, ...]
    negated: bool


@dataclass(frozen=True, slots=True)
class Like:
    path: FieldPath
    pattern: Literal


@dataclass(frozen=True, slots=True)
class Not:
    condition: Condition


@dataclass(frozen=True, slots=True)
class Junction:
    """Conditions joined by one operator: SOQL needs parentheses to mix AND and OR."""

    operator: str  # "AND" or "OR"
    conditions: tuple[Condition, ...]


Condition = Comparison | InList | Like | Not | Junction


@dataclass(frozen=True, slots=True)
class OrderItem:
    path: FieldPath
    descending: bool
    nulls_first: bool


@dataclass(frozen=True, slots=True)
class Query:
    text: str
    select: tuple[SelectItem, ...]
    object_name: str
    object_position: int
    where: Condition | None
    order_by: tuple[OrderItem, ...]
    limit: int | None
    offset: int | None
