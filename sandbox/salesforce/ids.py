"""Salesforce record ids: 15-character case-sensitive ids, their 18-character case-safe form, sequences.

An id is a 3-character key prefix (the object: 005 User, 006 Opportunity…), an instance part and a
base-62 counter; the 18-character form appends a checksum of the letter case of the first 15.
"""

from __future__ import annotations

import itertools
import re

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
CHECKSUM_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
INSTANCE_PART = "Dn0"  # stands in for the pod/instance characters of a real id
ID_PATTERN = re.compile(r"[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?")
# Maps each character to "1" when it is an upper-case letter: the checksum reads case as bits,
# each 5-character chunk giving one character (its first character is the lowest bit).
_CASE_BITS = str.maketrans({c: ("1" if c.isupper() else "0") for c in BASE62})
_CHUNK_CHARS = {f"{n:05b}": CHECKSUM_CHARS[n] for n in range(32)}
_PAIRS = [a + b for a in BASE62 for b in BASE62]  # base-62 digit pairs, for fast encoding


def checksum(id15: str) -> str:
    """The 3-character case-safe suffix of a 15-character id."""
    bits = id15.translate(_CASE_BITS)
    return _CHUNK_CHARS[bits[4::-1]] + _CHUNK_CHARS[bits[9:4:-1]] + _CHUNK_CHARS[bits[14:9:-1]]


def is_valid_id(value: str) -> bool:
    """True for a well-formed 15- or 18-character id (an 18-character one must carry its checksum)."""
    if not ID_PATTERN.fullmatch(value):
        return False
    return len(value) == 15 or value[15:] == checksum(value[:15])


def to_id18(value: str) -> str:
    """The 18-character form of a valid id."""
    return value if len(value) == 18 else value + checksum(value)


def base62(number: int, width: int) -> str:
    """`number` in base 62, left-padded with zeros to `width` characters."""
    pairs = []
    while number:
        number, pair = divmod(number, 3_844)
        pairs.append(_PAIRS[pair])
    return "".join(reversed(pairs)).lstrip("0").rjust(width, "0")


class IdSequence:
    """Hands out new 18-character ids for one key prefix, in increasing order."""

    def __init__(self, key_prefix: str, *, start: int = 1) -> None:
        if len(key_prefix) != 3:
            raise ValueError(f"key prefix must have 3 characters: {key_prefix!r}")
        self._head = key_prefix + INSTANCE_PART
        self._counter = itertools.count(start)

    def next_id(self) -> str:
        # itertools.count is atomic under the GIL, so concurrent callers never share an id.
        id15 = self._head + base62(next(self._counter), 9)
        return id15 + checksum(id15)
