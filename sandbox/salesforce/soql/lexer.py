"""SOQL tokens: identifiers (with dotted paths), quoted strings, numbers, date/datetime literals.

String escapes follow SOQL (`\\'`, `\\"`, `\\\\`, `\\n`, `\\r`, `\\t`, `\\b`, `\\f`); `\\%` and `\\_` stay
escaped so LIKE can tell a literal % or _ from a wildcard. Anything else (`;` included) becomes an
"other" token that the parser rejects as unexpected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from sandbox.salesforce.soql.messages import query_error, unexpected_token

ESCAPES = {"'": "'", '"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}
LIKE_ESCAPES = {"%", "_"}
_DATETIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?(Z|[+-]\d{2}:?\d{2})")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?![\w.:])")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?![\w])")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_OPERATOR = re.compile(r"!=|<>|<=|>=|=|<|>")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # ident, string, number, date, datetime, op, punct, other, eof
    text: str
    position: int
    value: Any = None


def tokenize(text: str) -> list[Token]:
    """All tokens of `text`, ending with an "eof" token."""
    tokens: list[Token] = []
    position = 0
    while True:
        space = _SPACE.match(text, position)
        if space:
            position = space.end()
        if position >= len(text):
            tokens.append(Token("eof", "<EOF>", position))
            return tokens
        token = _next_token(text, position)
        tokens.append(token)
        position += len(token.text)


def _next_token(text: str, position: int) -> Token:
    char = text[position]
    if char == "'":
        return _string(text, position)
    if match := _DATETIME.match(text, position):
        return Token("datetime", match.group(), position, _datetime_value(text, match))
    if match := _DATE.match(text, position):
        return Token("date", match.group(), position, _date_value(text, match))
    if match := _NUMBER.match(text, position):
        return Token("number", match.group(), position, Decimal(match.group()))
    if match := _IDENT.match(text, position):
        return Token("ident", match.group(), position)
    if match := _OPERATOR.match(text, position):
        return Token("op", match.group(), position, "!=" if match.group() == "<>" else match.group())
    if char in "(),:":
        return Token("punct", char, position)
    return Token("other", char, position)


def _string(text: str, start: int) -> Token:
    chars: list[str] = []
    position = start + 1
    while position < len(text):
        char = text[position]
        if char == "'":
            return Token("string", text[start : position + 1], start, "".join(chars))
        if char == "\\":
            escaped = text[position + 1 : position + 2]
            if escaped in ESCAPES:
                chars.append(ESCAPES[escaped])
            elif escaped in LIKE_ESCAPES:
                chars.append("\\" + escaped)
            else:
                detail = f"Invalid string literal '{text[start : position + 2]}'. Illegal escape sequence"
                raise query_error("MALFORMED_QUERY", text, position, detail)
            position += 2
            continue
        chars.append(char)
        position += 1
    raise unexpected_token(text, start, text[start:])


def _date_value(text: str, match: re.Match[str]) -> date:
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        raise unexpected_token(text, match.start(), match.group()) from None


def _datetime_value(text: str, match: re.Match[str]) -> datetime:
    year, month, day, hour, minute, second, millis, zone = match.groups()
    tz = UTC
    if zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    try:
        value = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=tz)
    except ValueError:
        raise unexpected_token(text, match.start(), match.group()) from None
    return value + timedelta(milliseconds=int((millis or "0").ljust(3, "0")))
