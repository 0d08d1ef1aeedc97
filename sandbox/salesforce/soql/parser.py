"""SOQL parser for the subset the sandbox serves.

SELECT fields | relationship paths | COUNT() | convertCurrency(field) [alias]
FROM object [WHERE condition] [ORDER BY path [ASC|DESC] [NULLS FIRST|LAST], …] [LIMIT n] [OFFSET n]

Conditions: =, !=, <>, <, <=, >, >=, [NOT] IN (…), LIKE, NOT, AND/OR with parentheses (mixing AND
and OR at one level is a syntax error, as in SOQL). Any other token, a `;` included, is a
MALFORMED_QUERY "unexpected token" error.
"""

from __future__ import annotations

from decimal import Decimal

from sandbox.salesforce.soql.lexer import Token, tokenize
from sandbox.salesforce.soql.messages import query_error, unexpected_token
from sandbox.salesforce.soql.syntax import (
    Comparison,
    Condition,
    ConvertCurrencyItem,
    CountItem,
    DateRange,
    FieldItem,
    FieldPath,
    InList,
    Junction,
    Like,
    Literal,
    Not,
    OrderItem,
    Query,
    SelectItem,
)

KEYWORDS = frozenset(
    {"SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "ORDER", "BY", "ASC", "DESC", "NULLS",
     "FIRST", "LAST", "LIMIT", "OFFSET", "NULL", "TRUE", "FALSE", "GROUP", "HAVING", "WITH", "FOR"}
)  # fmt: skip
DATE_RANGES = frozenset(
    {"TODAY", "YESTERDAY", "TOMORROW", "THIS_MONTH", "LAST_MONTH", "NEXT_MONTH", "THIS_QUARTER",
     "LAST_QUARTER", "NEXT_QUARTER", "THIS_YEAR", "LAST_YEAR", "NEXT_YEAR"}
)  # fmt: skip
DATE_RANGES_N = frozenset({"LAST_N_DAYS", "NEXT_N_DAYS"})
MAX_OFFSET = 2_000


def parse_soql(text: str) -> Query:
    """Parse one SOQL statement; raises ApiError (400 MALFORMED_QUERY) on a syntax error."""
    return _Parser(text).query()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0

    # -- token helpers

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.token
        self.index += 1
        return token

    def is_keyword(self, *words: str) -> bool:
        return self.token.kind == "ident" and self.token.text.upper() in words

    def accept_keyword(self, word: str) -> bool:
        if self.is_keyword(word):
            self.index += 1
            return True
        return False

    def expect_keyword(self, word: str) -> Token:
        if not self.is_keyword(word):
            raise self.unexpected()
        return self.advance()

    def expect_punct(self, char: str) -> Token:
        if self.token.kind != "punct" or self.token.text != char:
            raise self.unexpected()
        return self.advance()

    def unexpected(self) -> Exception:
        return unexpected_token(self.text, self.token.position, self.token.text)

    # -- grammar

    def query(self) -> Query:
        self.expect_keyword("SELECT")
        select = self.select_list()
        self.expect_keyword("FROM")
        if self.token.kind != "ident" or self.token.text.upper() in KEYWORDS or "." in self.token.text:
            raise self.unexpected()
        source = self.advance()
        where = self.condition() if self.accept_keyword("WHERE") else None
        order_by = self.order_by() if self.is_keyword("ORDER") else ()
        limit = self.integer_clause("LIMIT")
        offset = self.integer_clause("OFFSET")
        if self.token.kind != "eof":
            raise self.unexpected()
        return Query(self.text, select, source.text, source.position, where, order_by, limit, offset)

    def select_list(self) -> tuple[SelectItem, ...]:
        items = [self.select_item()]
        while self.token.kind == "punct" and self.token.text == ",":
            self.advance()
            items.append(self.select_item())
        return tuple(items)

    def select_item(self) -> SelectItem:
        start = self.token
        if self.is_keyword("COUNT") and self.tokens[self.index + 1].text == "(":
            self.advance()
            self.expect_punct("(")
            self.expect_punct(")")
            return CountItem(start.position)
        if self.is_keyword("CONVERTCURRENCY") and self.tokens[self.index + 1].text == "(":
            self.advance()
            self.expect_punct("(")
            path = self.path()
            self.expect_punct(")")
            alias = None
            if self.token.kind == "ident" and self.token.text.upper() not in KEYWORDS:
                alias = self.advance().text
            return ConvertCurrencyItem(path, alias)
        return FieldItem(self.path())

    def path(self) -> FieldPath:
        token = self.token
        if token.kind != "ident" or token.text.upper() in KEYWORDS:
            raise self.unexpected()
        self.advance()
        return FieldPath(tuple(token.text.split(".")), token.position)

    def condition(self) -> Condition:
        first = self.negation()
        if not self.is_keyword("AND", "OR"):
            return first
        operator = self.token.text.upper()
        conditions = [first]
        while self.is_keyword("AND", "OR"):
            if self.token.text.upper() != operator:
                raise self.unexpected()  # SOQL needs parentheses to mix AND and OR
            self.advance()
            conditions.append(self.negation())
        return Junction(operator, tuple(conditions))

    def negation(self) -> Condition:
        if self.accept_keyword("NOT"):
            return Not(self.negation())
        if self.token.kind == "punct" and self.token.text == "(":
            self.advance()
            inner = self.condition()
            self.expect_punct(")")
            return inner
        return self.predicate()

    def predicate(self) -> Condition:
        path = self.path()
        if self.token.kind == "op":
            operator = self.advance().value
            return Comparison(path, operator, self.literal())
        if self.accept_keyword("LIKE"):
            return Like(path, self.literal())
        negated = self.accept_keyword("NOT")
        if self.accept_keyword("IN"):
            return InList(path, self.literal_list(), negated)
        raise self.unexpected()

    def literal_list(self) -> tuple[Literal, ...]:
        self.expect_punct("(")
        if self.is_keyword("SELECT"):
            raise query_error(
                "MALFORMED_QUERY",
                self.text,
                self.token.position,
                "semi-join sub-selects are not supported by the sandbox",
            )
        literals = [self.literal()]
        while self.token.kind == "punct" and self.token.text == ",":
            self.advance()
            literals.append(self.literal())
        self.expect_punct(")")
        return tuple(literals)

    def literal(self) -> Literal:
        token = self.token
        if token.kind in ("string", "number", "date", "datetime"):
            self.advance()
            return Literal(token.value, token.position)
        word = token.text.upper() if token.kind == "ident" else ""
        if word in ("TRUE", "FALSE", "NULL"):
            self.advance()
            return Literal({"TRUE": True, "FALSE": False, "NULL": None}[word], token.position)
        if word in DATE_RANGES:
            self.advance()
            return Literal(DateRange(word, None, token.position), token.position)
        if word in DATE_RANGES_N:
            self.advance()
            self.expect_punct(":")
            amount = self.advance()
            if amount.kind != "number" or amount.value != amount.value.to_integral_value():
                raise unexpected_token(self.text, amount.position, amount.text)
            return Literal(DateRange(word, int(amount.value), token.position), token.position)
        raise self.unexpected()

    def order_by(self) -> tuple[OrderItem, ...]:
        self.expect_keyword("ORDER")
        self.expect_keyword("BY")
        items = [self.order_item()]
        while self.token.kind == "punct" and self.token.text == ",":
            self.advance()
            items.append(self.order_item())
        return tuple(items)

    def order_item(self) -> OrderItem:
        path = self.path()
        descending = self.accept_keyword("DESC")
        if not descending:
            self.accept_keyword("ASC")
        nulls_first = not descending  # Salesforce: nulls first ascending, last descending
        if self.accept_keyword("NULLS"):
            if not self.is_keyword("FIRST", "LAST"):
                raise self.unexpected()
            nulls_first = self.advance().text.upper() == "FIRST"
        return OrderItem(path, descending, nulls_first)

    def integer_clause(self, keyword: str) -> int | None:
        if not self.accept_keyword(keyword):
            return None
        token = self.advance()
        value = token.value
        if (
            token.kind != "number"
            or not isinstance(value, Decimal)
            or value != value.to_integral_value()
            or value < 0
        ):
            raise unexpected_token(self.text, token.position, token.text)
        if keyword == "OFFSET" and value > MAX_OFFSET:
            detail = f"maximum SOQL offset allowed is {MAX_OFFSET}"
            raise query_error("NUMBER_OUTSIDE_VALID_RANGE", self.text, token.position, detail)
        return int(value)
