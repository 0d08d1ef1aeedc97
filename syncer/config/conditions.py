"""The one check a YAML `where:` (a SOQL condition) must pass: one boolean condition, nothing else.

`validate` reports it at the `where:` line; the Salesforce connector refuses the same conditions
again before any query is sent. Pure text checks: no CRM call, no SOQL parser.
"""

from __future__ import annotations

import re

_ALLOWED_OUTSIDE_LITERALS = re.compile(r"[A-Za-z0-9_.\s=!<>(),:+\-]")
# Words outside a string that would end the condition or extend the statement. Checked on words
# split from numbers too: `5LIMIT 1` is `5` then `LIMIT`.
_CLAUSE_WORDS = (
    "SELECT", "FROM", "LIMIT", "OFFSET", "ORDER BY", "GROUP BY", "HAVING", "WITH", "FOR", "UPDATE",
    "ALL ROWS", "USING SCOPE", "TYPEOF",
)  # fmt: skip
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER_THEN_WORD = re.compile(r"(?<![A-Za-z0-9_])(\d+)(?=[A-Za-z_])")


def where_problem(where: str) -> str | None:
    """Why a YAML `where` is refused: `;`, unbalanced quotes or parentheses, a clause keyword."""
    if not where.strip():
        return "it is empty"
    outside, problem = _outside_literals(where)
    if problem:
        return problem
    if "--" in outside:  # SOQL has no comments: `--` can only be an attempt to hide the rest
        return "`--` may not appear outside a string"
    words = " ".join(_WORD.findall(_NUMBER_THEN_WORD.sub(r"\1 ", outside))).upper()
    for clause in _CLAUSE_WORDS:
        if re.search(rf"(?<![A-Z0-9_]){clause}(?![A-Z0-9_])", words):
            return f"`{clause}` may not appear outside a string"
    return None


def _outside_literals(text: str) -> tuple[str, str | None]:
    """The text with 'string literals' blanked, or the first lexical problem found."""
    outside: list[str] = []
    depth, in_literal, escaped = 0, False, False
    for char in text:
        if in_literal:  # inside 'a string': only an unescaped quote ends it
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == "'":
                in_literal = False
            continue
        if char == "'":
            in_literal = True
            outside.append("''")
        elif char == ";":
            return "", "`;` may not appear outside a string"
        elif char in "()":
            depth += 1 if char == "(" else -1
            if depth < 0:
                return "", "unbalanced parentheses"
        elif not _ALLOWED_OUTSIDE_LITERALS.match(char):
            return "", f"`{char}` may not appear outside a string (strings take 'single quotes')"
        if char != "'":
            outside.append(char)
    if in_literal:
        return "", "a string is not closed (unbalanced quotes)"
    if depth:
        return "", "unbalanced parentheses"
    return "".join(outside), None
