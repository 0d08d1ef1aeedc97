"""Scoring: baselines and targets per group, progress, score, status, projection. Pure functions.

- progress = (value − start) / (target − start): 0 when the value has not moved from where it
  started, above 1 when the target is exceeded; for a decrease both differences are negative,
  so the same formula holds. None when the value or the target is missing, or the target
  equals the start.
- The start is the baseline (0 when there is none), except for period totals (count, sum,
  distinct_count) that should grow: they restart at 0 every period, so they count from 0 and
  their baseline only sets the target. "+15 % over last quarter's 500,000" at 412,000 is
  412,000 of 575,000, 72 % (DESIGN.md's example), not −117 %; and progress can then be held
  against the elapsed share for the status. A period total that should fall (fewer lost
  deals) counts from its baseline.
- score = progress clamped to [0, 1]; expected = the elapsed share of the period.
- status: done (progress ≥ 1), on_track (≥ expected), at_risk (≥ 0.7 × expected), else
  off_track; None without progress.
- projected: count and sum extrapolate the current pace (value / expected, the value itself
  before the period starts); the other kinds are not cumulative, so their projection is the
  current value.

Group goals (what a rep, team or region is measured against):
- `baseline: previous_period` is the group's own value last period (0 for a count or sum it
  had no records in, none for an average or ratio).
- A numeric baseline is the total's. Averages and ratios are the same for everyone, so each
  group gets it as is; for additive kinds (count, sum, distinct_count) only an even owner
  split divides it, otherwise groups have no baseline.
- A relative target (`+15%`, `-5%`, `+5pp`) applies to each group's own baseline.
- An absolute target belongs to the total, except per owner with `owner_targets`: `even`
  divides an additive target by the number of owners with a value, and gives averages and
  ratios the total's target (an even split of a rate is the rate); a map gives each listed
  owner their number (e-mails case-insensitive) and no target to the others. The map wins
  over a relative target for the owners.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from syncer.config.models import RELATIVE_TARGET, KeyResult, Settings
from syncer.rollup.values import Direction, KeyResultValue, ObjectiveScore, Status

ADDITIVE_KINDS = frozenset({"count", "sum", "distinct_count"})  # period totals: add up, restart at 0
CUMULATIVE_KINDS = frozenset({"count", "sum"})  # their end-of-period value grows with time
AT_RISK_SHARE = 0.7  # at_risk down to 70 % of where a steady pace would be


@dataclass(frozen=True, slots=True)
class Goal:
    baseline: Decimal | None
    target: Decimal | None


def quantize(value: Decimal | None, quantum: Decimal) -> Decimal | None:
    return None if value is None else value.quantize(quantum, rounding=ROUND_HALF_UP)


def _decimal(number: float | None) -> Decimal | None:
    return None if number is None else Decimal(str(number))  # str: 25.5 stays 25.5, not its binary


def relative_target(spec: str, baseline: Decimal | None) -> Decimal | None:
    """'+15%' → baseline × 1.15, '-5%' → × 0.95, '+5pp' → baseline + 0.05; None without baseline."""
    match = RELATIVE_TARGET.match(spec.strip())
    if match is None:
        raise ValueError(f"'{spec}' is not a relative target")
    if baseline is None:
        return None
    change = Decimal(match[2]) / 100 * (-1 if match[1] == "-" else 1)
    return baseline * (1 + change) if match[3] == "%" else baseline + change


def _target(kr: KeyResult, baseline: Decimal | None, absolute: Decimal | None) -> Decimal | None:
    return relative_target(kr.target, baseline) if isinstance(kr.target, str) else absolute


def total_goal(kr: KeyResult, previous_total: Decimal | None) -> Goal:
    """The total's baseline (a number, last period's total, or none) and target."""
    baseline = previous_total if isinstance(kr.baseline, str) else _decimal(kr.baseline)
    absolute = None if isinstance(kr.target, str) else _decimal(kr.target)
    return Goal(baseline, _target(kr, baseline, absolute))


def group_goal(
    kr: KeyResult, total: Goal, group: tuple[str, str], *, previous: Decimal | None, owners: int
) -> Goal:
    """The baseline and target of one group, (group_kind, group_key); rules in the module docstring.

    `previous` is the group's value last period (used with `baseline: previous_period`);
    `owners` is how many owners get a value, for an even split.
    """
    group_kind, group_key = group
    additive = kr.metric.kind in ADDITIVE_KINDS
    split = group_kind == "owner" and kr.owner_targets == "even"
    share = Decimal(owners) if split and additive and owners else None
    if kr.baseline == "previous_period":
        baseline = previous if previous is not None or not additive else Decimal(0)
    elif total.baseline is None or not additive:
        baseline = total.baseline
    else:
        baseline = total.baseline / share if share else None
    if group_kind == "owner" and isinstance(kr.owner_targets, dict):
        targets = {email.strip().lower(): number for email, number in kr.owner_targets.items()}
        return Goal(baseline, _decimal(targets.get(group_key)))
    if isinstance(kr.target, str):
        return Goal(baseline, relative_target(kr.target, baseline))
    if not split or total.target is None:
        return Goal(baseline, None)
    return Goal(baseline, total.target / share if share else (None if additive else total.target))


def direction(kr: KeyResult, total: Goal) -> Direction:
    """Explicit, else inferred from the total: a target below the baseline is a decrease.

    Without a total target (a relative target over a missing baseline) the sign of the
    relative target decides.
    """
    if kr.direction is not None:
        return kr.direction
    if total.target is not None:
        return "decrease" if total.target < (total.baseline or 0) else "increase"
    return "decrease" if isinstance(kr.target, str) and kr.target.strip().startswith("-") else "increase"


def progress_start(kind: str, direction_: Direction, baseline: Decimal | None) -> Decimal:
    """Where progress counts from (see the module docstring)."""
    if kind in ADDITIVE_KINDS and direction_ == "increase":
        return Decimal(0)
    return baseline if baseline is not None else Decimal(0)


def progress(value: Decimal | None, start: Decimal, target: Decimal | None) -> float | None:
    if value is None or target is None or target == start:
        return None
    return float((value - start) / (target - start))


def score(progress_: float | None) -> float | None:
    return None if progress_ is None else min(1.0, max(0.0, progress_))


def status(progress_: float | None, expected: float) -> Status | None:
    if progress_ is None:
        return None
    if progress_ >= 1:
        return "done"
    if progress_ >= expected:
        return "on_track"
    return "at_risk" if progress_ >= AT_RISK_SHARE * expected else "off_track"


def projected(kind: str, value: Decimal | None, expected: float) -> Decimal | None:
    if value is None or kind not in CUMULATIVE_KINDS or expected <= 0:
        return value
    return value / Decimal(repr(expected))


def objective_scores(values: Sequence[KeyResultValue], settings: Settings) -> list[ObjectiveScore]:
    """Each objective's weighted mean of its key results' total scores, in YAML order.

    Key results without a score (no target yet, no value) are left out of the mean; an
    objective none of whose key results has a score has none.
    """
    totals = {(v.objective, v.key_result): v.score for v in values if v.is_total}
    scores = []
    for objective in settings.objectives:
        graded = [
            (kr.weight, grade)
            for kr in objective.key_results
            if (grade := totals.get((objective.key, kr.key))) is not None
        ]
        weight = sum(w for w, _ in graded)
        mean = sum(w * g for w, g in graded) / weight if graded else None
        scores.append(ObjectiveScore(objective.key, mean))
    return scores
