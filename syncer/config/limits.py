"""Bounds on the YAML a loader will read: size, control characters, nesting, alias expansion.

A configuration is a few hundred lines; these limits are far above any real one and far below
what would exhaust memory or the stack ("billion laughs" aliases, `[` nested thousands deep).
Each check reports `file:line` and what to change, like every other configuration problem.
"""

from __future__ import annotations

import re

from syncer.errors import ConfigProblem

MAX_FILE_BYTES = 1024 * 1024  # 1 MiB
MAX_DEPTH = 64  # nested mappings and lists, aliases expanded
MAX_NODES = 50_000  # values built, aliases expanded: a real configuration has a few thousand

# What YAML forbids in a file, tab, line breaks and a byte-order mark aside: C0 and C1 controls,
# DEL, surrogates and the two non-characters (the PyYAML reader refuses them with no line).
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")


def size_problem(file: str, size: int) -> ConfigProblem | None:
    """A problem when the file is larger than any configuration could be."""
    if size <= MAX_FILE_BYTES:
        return None
    return ConfigProblem(
        file,
        None,
        f"the file is {size:,} bytes; a configuration is at most {MAX_FILE_BYTES:,} (1 MiB): "
        "is this the right file?",
    )


def control_problem(file: str, text: str) -> ConfigProblem | None:
    """The first control character in `text`, with its line and column, or None."""
    match = _FORBIDDEN.search(text)
    if match is None:
        return None
    line = text.count("\n", 0, match.start()) + 1
    column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
    return ConfigProblem(
        file,
        line,
        f"invalid YAML at column {column}: a control character (U+{ord(match[0]):04X}) is not allowed; "
        "remove it (is this a binary file, or text pasted with invisible characters?)",
    )


def depth_message() -> str:
    return f"nesting deeper than {MAX_DEPTH} levels: a configuration is never this deep; flatten it"


def nodes_message() -> str:
    return (
        f"more than {MAX_NODES:,} values once `*aliases` are expanded: aliases that repeat aliases "
        "multiply; write the values out or use fewer aliases"
    )
