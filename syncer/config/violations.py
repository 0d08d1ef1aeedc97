"""A configuration problem at a YAML path, and the "did you mean" hint its message may carry.

Below every module that finds problems (`rules`, `soundness`, `pitfalls`) and the loader that
reports them with line numbers, so none of them imports another for these.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Violation:
    path: Path
    message: str


def suggest(word: str, choices: list[str] | tuple[str, ...]) -> str:
    """' Did you mean `x`?' for a near miss, '' otherwise."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" Did you mean `{close[0]}`?" if close else ""
