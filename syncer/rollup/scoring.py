"""Scoring: baselines and targets per group, progress, score, status, projection. Pure functions.

The rules (README "Targets" has a worked example):
- progress = (value − start) / (target − start), floored at 0: 0 when the value has not moved
  from where it started or moved the wrong way (never negative: a wrong-way key result reads
  0 % and off_track), above 1 when the target is exceeded; for a decrease both differences are
  negative, so the same formula holds. None when the value or the target is missing, or the
  target equals the start. A group whose target was already met where it starts (a rep whose
  own last-quarter rate beats the team's target) is done while the value stays at or beyond
  the target, and at 0 once it falls short.
- The start is the baseline (0 when there is none), except for period totals (count, sum,
  distinct_count) that should grow: they restart at 0 every period, so they count from 0 and
  their baseline only sets the target. "+15 % over last quarter's 500,000" at 412,000 is
  412,000 of 575,000, 72 % (the README's "Targets" example; docs/decisions.md D1), not −117 %; and progress can then be held
  against the elapsed share for the status. A period total that should fall (fewer lost
  deals) counts from its baseline.
- score = progress clamped to [0, 1]; expected = the elapsed share of the period.
- status: done (progress ≥ 1), on_track (≥ expected), at_risk (≥ 0.7 × expected), else
  off_track; off_track whenever the value moved the wrong way; None without progress.
  `grade` computes progress, score and status together, so they always agree.
- projected: count and sum extrapolate the current pace (value / expected, the value itself
  before the period starts); the other kinds are not cumulative, so their projection is the
  current value.

Committed, aspirational and stretch (README "Committed, aspirational and stretch key results"):
- type: a key result's `type`, else its objective's, else committed.
- A stretch scores the way Microsoft Dynamics 365 goals do: 0.7 at the target, 1.0 at the
  stretch, linear between (0.7 + 0.3 × (value − target) / (stretch − target), capped at 1.0)
  and below (0.7 × progress: the start scores 0.0). Without a stretch, score = progress.
- A committed key result's status holds progress against 1.0, as above; an aspirational one's
  holds its score against the 0.7 success line: done at a score ≥ 0.7, on_track at ≥ 0.7 ×
  expected, at_risk at ≥ 0.7 × 0.7 × expected, else off_track (off_track the wrong way). With a
  stretch both say `done` at the target; without one, an aspirational key result is done at 70 %
  of the way to its target.
- A group's stretch follows its target's rule: an even split splits the total's stretch, a
  relative stretch applies to the group's own baseline, an absolute one is the total's only, and
  a rep in `owner_targets: {email: number}` gets their number × the total's stretch / target.
  A stretch not beyond the target the way the key result moves is ignored (validate refuses it).

Group goals (what a rep, team or region is measured against), first rule that applies:
1. `owner_targets: {email: number}` (per owner): each listed owner gets their number (e-mails
   case-insensitive); an active owner not listed gets no target (value only).
2. `owner_targets: even` (per owner): the TOTAL's target, whatever its form (a number, or
   `+15%` of the total's baseline), is split evenly among the active owners in scope: an
   additive kind (count, sum, distinct_count) gets total target / n, an average or ratio gets
   the total's target as it is (an even split of a rate is the rate). n, the active owners in
   scope, is the number of per-owner values: one per rep (merged across CRMs by e-mail) with
   an active user in a source that pulls the key result's stream, whether or not they have
   records this period. A rep who left still counts in the total, but is not in n.
3. A relative target (`+15%`, `-5%`, `+5pp`) applies to each group's own baseline.
4. An absolute target belongs to the total only: groups get none.
Baselines:
- `baseline: previous_period` is the group's own value last period (0 for a count or sum it
  had no records in, none for an average or ratio), with every rule above.
- A numeric baseline is the total's. Averages and ratios are the same for everyone, so each
  group gets it as is; for additive kinds only an even owner split divides it (by n),
  otherwise groups have no baseline.
`okrsync validate` warns about combinations that are probably mistakes (syncer.config.pitfalls).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from syncer.config.grading import OkrType
from syncer.config.models import RELATIVE_TARGET, KeyResult, Objective, Settings
from syncer.rollup import objective_tree
from syncer.values import Direction, KeyResultValue, ObjectiveScore, Status

ADDITIVE_KINDS = frozenset({"count", "sum", "distinct_count"})  # period totals: add up, restart at 0
CUMULATIVE_KINDS = frozenset({"count", "sum"})  # their end-of-period value grows with time
MEASURE_LIMIT = Decimal(10) ** 20  # key-result values are Numeric(28, 8): 20 digits before the point
AT_RISK_SHARE = 0.7  # at_risk down to 70 % of where a steady pace would be
SUCCESS_LINE = 0.7  # an aspirational key result's success; the score of a stretched target


@dataclass(frozen=True, slots=True)
class Goal:
    baseline: Decimal | None
    target: Decimal | None
    stretch: Decimal | None = None  # scored 1.0 where the target scores 0.7


def quantize(value: Decimal | None, quantum: Decimal) -> Decimal | None:
    """`value` rounded to `quantum`; None when it is not a finite number that fits a key-result
    value (Numeric(28, 8)): NaN or Infinity must reach neither the store nor a CRM."""
    if value is None or not value.is_finite() or abs(value) >= MEASURE_LIMIT:
        return None
    try:
        return value.quantize(quantum, rounding=ROUND_HALF_UP)
    except InvalidOperation:  # more digits than the context holds
        return None


def _decimal(number: float | None) -> Decimal | None:
    """A YAML number as a Decimal; NaN and ±Infinity are no number (validate refuses them too)."""
    if number is None or not math.isfinite(number):
        return None
    return Decimal(str(number))  # str: 25.5 stays 25.5, not its binary


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
    """The total's baseline (a number, last period's total, or none), target and stretch."""
    baseline = previous_total if isinstance(kr.baseline, str) else _decimal(kr.baseline)
    absolute = _decimal(kr.target) if isinstance(kr.target, int | float) else None  # CRM targets: crm_targets
    return Goal(baseline, _target(kr, baseline, absolute), _stretch(kr.stretch, baseline))


def _stretch(spec: float | str | None, baseline: Decimal | None) -> Decimal | None:
    return relative_target(spec, baseline) if isinstance(spec, str) else _decimal(spec)


def okr_type(objective: Objective, kr: KeyResult) -> OkrType:
    """The key result's `type`, else its objective's (committed by default)."""
    return kr.type or objective.type


def stretched(
    kr: KeyResult, total: Goal, group: tuple[str, str], goal: Goal, *, previous: Decimal | None, owners: int
) -> Goal:
    """`goal` (the group's, from `group_goal`) with its stretch, by the rule that gave it its
    target (module docstring): the stretch stands in for the target in `group_goal`."""
    if kr.stretch is None or goal.target is None:
        return goal
    if group[0] == "owner" and isinstance(kr.owner_targets, dict):
        scale = total.stretch / total.target if total.stretch is not None and total.target else None
        return Goal(goal.baseline, goal.target, goal.target * scale if scale is not None else None)
    stand_in = kr.model_copy(update={"target": kr.stretch})
    as_target = group_goal(
        stand_in, Goal(total.baseline, total.stretch), group, previous=previous, owners=owners
    )
    return Goal(goal.baseline, goal.target, as_target.target)


def group_goal(
    kr: KeyResult, total: Goal, group: tuple[str, str], *, previous: Decimal | None, owners: int
) -> Goal:
    """The baseline and target of one group, (group_kind, group_key); rules in the module docstring.

    `previous` is the group's value last period (used with `baseline: previous_period`);
    `owners` is n, the active owners in scope (the number of per-owner values), for an even split.
    """
    group_kind, group_key = group
    additive = kr.metric.kind in ADDITIVE_KINDS
    per_owner = group_kind == "owner"
    even = per_owner and kr.owner_targets == "even"
    share = Decimal(owners) if even and additive and owners > 0 else None
    if kr.baseline == "previous_period":
        baseline = previous if previous is not None or not additive else Decimal(0)
    elif total.baseline is None or not additive:
        baseline = total.baseline
    else:
        baseline = total.baseline / share if share else None
    if per_owner and isinstance(kr.owner_targets, dict):
        targets = {email.strip().lower(): number for email, number in kr.owner_targets.items()}
        return Goal(baseline, _decimal(targets.get(group_key)))
    if even:  # the total's target, absolute or relative, split: never the rep's own +15 %
        if total.target is None or owners <= 0:
            return Goal(baseline, None)
        return Goal(baseline, total.target / share if share else total.target)
    if isinstance(kr.target, str):
        return Goal(baseline, relative_target(kr.target, baseline))
    return Goal(baseline, None)


def direction(kr: KeyResult, total: Goal) -> Direction:
    """Explicit, else inferred from the total: a target below the baseline is a decrease.

    Without a total target (a relative target over a missing baseline) the sign of the
    relative target decides.
    """
    if kr.direction is not None:
        return kr.direction
    if total.target is not None and total.stretch is not None and total.stretch != total.target:
        return "decrease" if total.stretch < total.target else "increase"  # the stretch is beyond it
    if total.target is not None:
        return "decrease" if total.target < (total.baseline or 0) else "increase"
    return "decrease" if isinstance(kr.target, str) and kr.target.strip().startswith("-") else "increase"


def progress_start(kind: str, direction_: Direction, baseline: Decimal | None) -> Decimal:
    """Where progress counts from (see the module docstring)."""
    if kind in ADDITIVE_KINDS and direction_ == "increase":
        return Decimal(0)
    return baseline if baseline is not None else Decimal(0)


@dataclass(frozen=True, slots=True)
class Grade:
    """Progress (floored at 0), score and status of one value: computed together, always agreeing."""

    progress: float | None
    score: float | None
    status: Status | None


def grade(
    value: Decimal | None,
    *,
    start: Decimal,
    target: Decimal | None,
    direction_: Direction,
    expected: float,
    stretch: Decimal | None = None,
    type_: OkrType = "committed",
) -> Grade:
    """The value's grade against its goal (rules in the module docstring)."""
    signed = _signed_progress(value, start, target, direction_)
    if signed is None or value is None or target is None:
        return Grade(None, None, None)
    if stretch is not None and (stretch > target if direction_ == "increase" else stretch < target):
        score_ = stretch_score(signed, float((value - target) / (stretch - target)))
    else:
        score_ = min(1.0, max(0.0, signed))
    if type_ == "aspirational":
        return Grade(max(0.0, signed), score_, aspirational_status(signed, score_, expected))
    return Grade(max(0.0, signed), score_, status(signed, expected))


def stretch_score(signed_progress: float, beyond: float) -> float:
    """0.7 × progress up to the target, then 0.7 + 0.3 × the share of the way from the target to
    the stretch (`beyond`), capped at 1.0."""
    if signed_progress < 1:
        return SUCCESS_LINE * max(0.0, signed_progress)
    return min(1.0, SUCCESS_LINE + (1 - SUCCESS_LINE) * max(0.0, beyond))


def aspirational_status(signed_progress: float, score_: float, expected: float) -> Status:
    """The score against the 0.7 success line and 0.7 × expected (module docstring)."""
    if signed_progress < 0:
        return "off_track"
    if score_ >= SUCCESS_LINE:
        return "done"
    pace = SUCCESS_LINE * expected
    if score_ >= pace:
        return "on_track"
    return "at_risk" if score_ >= AT_RISK_SHARE * pace else "off_track"


def _signed_progress(
    value: Decimal | None, start: Decimal, target: Decimal | None, direction_: Direction
) -> float | None:
    """Progress before the floor: negative when the value moved the wrong way."""
    if value is None or target is None or target == start:
        return None
    if (target < start) != (direction_ == "decrease"):  # the goal was met where it starts
        reached = value >= target if direction_ == "increase" else value <= target
        return 1.0 if reached else -1.0
    return float((value - start) / (target - start))


def progress(value: Decimal | None, start: Decimal, target: Decimal | None) -> float | None:
    """(value − start) / (target − start), floored at 0; None without a value or a target."""
    if value is None or target is None or target == start:
        return None
    return max(0.0, float((value - start) / (target - start)))


def score(progress_: float | None) -> float | None:
    return None if progress_ is None else min(1.0, max(0.0, progress_))


def status(progress_: float | None, expected: float) -> Status | None:
    """From signed progress: a negative one (the wrong way) is off_track even before the period runs."""
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
    """Each objective's weighted mean of its key results' total scores, in YAML order; a parent
    with `from_children` counts its children's scores too (`objective_tree`, README "Objective tree").

    Key results without a score (no target yet, no value) are left out of the mean; an
    objective none of whose key results has a score has none.
    """
    totals = {(v.objective, v.key_result): v.score for v in values if v.is_total}
    own = {
        objective.key: [
            (kr.weight, grade)
            for kr in objective.key_results
            if (grade := totals.get((objective.key, kr.key))) is not None
        ]
        for objective in settings.objectives
    }
    scores = objective_tree.tree_scores(settings.objectives, own)
    return [ObjectiveScore(objective.key, scores[objective.key]) for objective in settings.objectives]
