"""How a key result is graded, as the YAML says it (README "Committed, aspirational and stretch key
results"): its type, its stretch target and the team's confidence. Field-level checks only; the
rules that compare a stretch with its target are in `stretch_rules.py`.
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal

OkrType = Literal["committed", "aspirational"]
TYPE_DESCRIPTION = (
    "committed (done at the target) or aspirational (0.7 is success); a key result's type overrides "
    "its objective's; default committed"
)
STRETCH_DESCRIPTION = (
    "a target beyond the target, scored 1.0 (the target scores 0.7): a number, or a change like "
    "'+30%' when the target is one"
)
CONFIDENCE_DESCRIPTION = "how likely the team thinks the target is, 0 to 1 (OKR practice: 0.8, 0.5, 0.2)"
_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")
_FIX = "write a number from 0 to 1, like 0.5 (OKR practice sets key results at 0.8, 0.5 or 0.2)"


def read_confidence(value: Any) -> Any:
    """The YAML's `confidence:` as a number 0..1, or ValueError saying what to write.

    A percentage (`80%`, `80`) is the commonest slip: its message names the fraction meant.
    """
    if value is None:
        return None
    if isinstance(value, bool):  # YAML 1.1 reads `yes`/`no` as true/false
        raise ValueError(f"`{str(value).lower()}` is not a confidence: {_FIX}")
    if isinstance(value, str):
        percent = _PERCENT.match(value)
        if percent:
            raise ValueError(
                f"`{value}`: write the confidence as a fraction, {float(percent[1]) / 100:g} for {value}"
            )
        try:
            value = float(value.strip())
        except ValueError:
            raise ValueError(f"`{value}` is not a confidence: {_FIX}") from None
    if not isinstance(value, int | float):
        raise ValueError(f"the confidence is not a number: {_FIX}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"the confidence `{value}` is not a number: {_FIX}")
    if 2 <= number <= 100:  # a percentage (80, 50, 20) written without the point
        raise ValueError(f"the confidence {number:g} is above 1: write {number / 100:g} for {number:g} %")
    if not 0 <= number <= 1:
        raise ValueError(f"the confidence {number:g} is outside 0..1: {_FIX}")
    return number


def check_stretch_has_target(data: Any) -> Any:
    """A `stretch:` with no `target:` beside it: the stretch is graded against the target."""
    if isinstance(data, dict) and data.get("stretch") is not None and data.get("target") is None:
        raise ValueError(
            "`stretch` needs a `target`: the target scores 0.7 and the stretch 1.0; add `target:` "
            "(a number, or a change like '+15%'), or drop `stretch`"
        )
    return data
