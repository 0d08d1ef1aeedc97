"""An objective's place in the objective tree, as the YAML says it (README "Objective tree"):
its `parent:`, how a parent scores from its children (`from_children:`) and a child's `weight:` in
a weighted parent. Field-level checks only; the rules across objectives (an unknown parent, a
cycle, `from_children` without children, a weight no parent uses) are in `tree_rules.py`.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic_core import PydanticCustomError

FromChildren = Literal["mean", "weighted"]
PARENT_DESCRIPTION = "the key of the objective this one rolls up into (company → team → rep)"
FROM_CHILDREN_DESCRIPTION = (
    "score this objective from its child objectives as well as its own key results: mean (each child "
    "counts 1) or weighted (each child counts its `weight`)"
)
WEIGHT_DESCRIPTION = "this objective's weight in a parent with `from_children: weighted`; default 1"
_FIX = "write a positive number, like 2 or 0.5: this objective's share in its parent's weighted score"


def read_weight(value: Any) -> Any:
    """The YAML's objective `weight:` as a positive number, or ValueError saying what to write."""
    if value is None:
        return None
    if isinstance(value, bool):  # YAML 1.1 reads `yes`/`no` as true/false
        raise ValueError(f"`{str(value).lower()}` is not a weight: {_FIX}")
    if isinstance(value, str):
        try:
            value = float(value.strip().removesuffix("%"))
        except ValueError:
            raise ValueError(f"`{value}` is not a weight: {_FIX}") from None
    if not isinstance(value, int | float) or not math.isfinite(float(value)):
        raise ValueError(f"the weight is not a number: {_FIX}")
    if value <= 0:
        raise ValueError(f"the weight {value:g} is not positive: {_FIX}, or drop `weight` to count 1")
    return float(value)


def require_key_results(key_results: list[Any], from_children: FromChildren | None) -> list[Any]:
    """An objective needs a key result unless it scores from its children (`from_children:`).

    Raised as pydantic's own `too_short`, so the message reads as every other list's.
    """
    if not key_results and from_children is None:
        raise PydanticCustomError(
            "too_short",
            "List should have at least 1 item after validation, not 0",
            {"field_type": "List", "min_length": 1, "actual_length": 0},
        )
    return key_results
