"""The rollup: key-result values computed in SQL over the store, then scored.

`compute_key_results` is the entry point; `objective_scores` grades objectives from its
values. Periods, SQL and scoring live in `periods`, `metrics` (with `filters` and
`expressions`) and `scoring`; the value types in `values`.
"""

from __future__ import annotations

from syncer.rollup.keyresults import compute_key_results
from syncer.rollup.measure import ROLLUP_CONNECTIONS
from syncer.rollup.scoring import objective_scores
from syncer.rollup.values import KeyResultValue, ObjectiveScore, Period

__all__ = [
    "ROLLUP_CONNECTIONS",
    "KeyResultValue",
    "ObjectiveScore",
    "Period",
    "compute_key_results",
    "objective_scores",
]
