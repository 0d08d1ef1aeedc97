"""The rollup: key-result values computed in SQL over the store, then scored.

`compute_key_results` is the entry point; `objective_scores` grades objectives from its
values. The value types (`Period`, `KeyResultValue`, `ObjectiveScore`) are in `syncer.values`,
below both the rollup and the store. The rollup may import the store; the store never imports
the rollup.

Modules in the order they run for one cycle:
9. `burn_up` (not part of a cycle): a count or sum's running total day by day, for the charts.

1. `keyresults`: for each objective, resolve its period and build the requests.
2. `periods`: calendar and fiscal periods in the configured zone, resolved from the clock.
3. `measure`: plans the requests into passes and runs them (several connections).
4. `passes`: one statement per stream, date column and set of non-overlapping periods.
5. `metrics`, `filters`, `expressions`: a metric's terms and scope in SQL; YAML `where` → SQL;
   the SQLite/PostgreSQL differences (local dates).
6. `owner_groups`: folds per-owner rows into totals, owners, teams and regions.
7. `undated`: counts the records a key result skips because their date field is empty.
8. `scoring`: baselines, targets per group, progress, score, status, projection.
"""

from __future__ import annotations

from syncer.rollup.keyresults import compute_key_results
from syncer.rollup.measure import ROLLUP_CONNECTIONS
from syncer.rollup.scoring import objective_scores

__all__ = [
    "ROLLUP_CONNECTIONS",
    "compute_key_results",
    "objective_scores",
]
