"""Rules of a `stretch:` that compare it with its target (README "Committed, aspirational and
stretch key results"): written the same way as the target, and beyond it in the direction the key
result should move. The stretch's own numbers (finite, reachable) are checked with the target's in
`soundness.py`.

The direction is the one scoring uses (`syncer.rollup.scoring.direction`): `direction:` when
written, else the target against a numeric baseline, else a relative target's sign; a key result
without a baseline counts up from 0. An absolute target over `baseline: previous_period` has no
direction before last period is measured: there the stretch itself says which way is better.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from syncer.config.models import RELATIVE_TARGET, KeyResult, Settings
from syncer.config.violations import Path, Violation


def check_stretches(settings: Settings) -> list[Violation]:
    """Every stretch that is written unlike its target or not beyond it, in file order."""
    return [
        violation
        for i, objective in enumerate(settings.objectives)
        for j, kr in enumerate(objective.key_results)
        if kr.stretch is not None
        for violation in _stretch_problems(kr, ("objectives", i, "key_results", j, "stretch"))
    ]


def _stretch_problems(kr: KeyResult, where: Path) -> Iterator[Violation]:
    target, stretch = kr.target, kr.stretch
    if isinstance(target, bool) or not isinstance(target, int | float | str):
        yield Violation(
            where,
            "a stretch goes beyond a target written as a number or a change like '+15%': "
            "write the target that way, or drop `stretch`",
        )
        return
    if isinstance(target, str):
        yield from _relative(kr, target, stretch, where)
    elif isinstance(stretch, str):
        yield Violation(
            where,
            f"the target is the number {target:g} but the stretch `{stretch}` is a change: write the "
            f"stretch as a number too, beyond {target:g}",
        )
    elif isinstance(stretch, int | float):
        yield from _absolute(kr, float(target), float(stretch), where)


def _absolute(kr: KeyResult, target: float, stretch: float, where: Path) -> Iterator[Violation]:
    if stretch == target:
        yield Violation(
            where, f"the stretch equals the target {target:g}: set it beyond the target, or drop it"
        )
        return
    direction, why = _absolute_direction(kr, target)
    if direction is None:  # the stretch says which way is better (see the module docstring)
        return
    beyond = stretch > target if direction == "increase" else stretch < target
    if not beyond:
        side = "above" if direction == "increase" else "below"
        yield Violation(
            where,
            f"the stretch {stretch:g} is not beyond the target {target:g}: {why}, so write a stretch "
            f"{side} {target:g}",
        )


def _absolute_direction(kr: KeyResult, target: float) -> tuple[str | None, str]:
    if kr.direction is not None:
        return kr.direction, f"this key result should {kr.direction} (`direction: {kr.direction}`)"
    baseline = kr.baseline
    if isinstance(baseline, int | float) and not isinstance(baseline, bool):
        if target == baseline:
            return None, ""
        direction = "increase" if target > baseline else "decrease"
        return direction, f"this key result should {direction} (baseline {baseline:g} → target {target:g})"
    if baseline is None:
        return (
            "increase",
            "without a baseline this key result counts up from 0 (give it a `baseline:` to count down)",
        )
    return None, ""


def _relative(kr: KeyResult, target: str, stretch: float | str | None, where: Path) -> Iterator[Violation]:
    wanted = RELATIVE_TARGET.match(target.strip())
    got = RELATIVE_TARGET.match(stretch.strip()) if isinstance(stretch, str) else None
    if wanted is None:
        return  # the target's own rule reports it
    unit = wanted[3]
    if got is None or got[3] != unit:
        example = "'+30%'" if unit == "%" else "'+8pp'"
        yield Violation(
            where,
            f"the target `{target}` is a change in {_unit_name(unit)}, so the stretch must be one too "
            f"(like {example}), not `{_shown(stretch)}`",
        )
        return
    change = _signed(wanted)
    stretched = _signed(got)
    if stretched == change:
        yield Violation(
            where, f"the stretch `{stretch}` equals the target `{target}`: set it beyond the target"
        )
        return
    direction = kr.direction or ("decrease" if change < 0 else "increase")
    beyond = stretched > change if direction == "increase" else stretched < change
    if not beyond:
        side = "more than" if direction == "increase" else "less than"
        yield Violation(
            where,
            f"the stretch `{stretch}` is not beyond the target `{target}`: this key result should "
            f"{direction}, so write a change {side} `{target}` (like `{_example(change, unit, direction)}`)",
        )


def _signed(match: re.Match[str]) -> float:
    return -float(match[2]) if match[1] == "-" else float(match[2])


def _shown(stretch: float | str | None) -> str:
    return f"{stretch:g}" if isinstance(stretch, int | float) else str(stretch)


def _unit_name(unit: str) -> str:
    return "percent" if unit == "%" else "percentage points"


def _example(change: float, unit: str, direction: str) -> str:
    step = abs(change) / 2 or 5
    better = change + step if direction == "increase" else change - step
    if unit == "%" and better <= -100:
        better = (change - 100) / 2
    return f"{better:+g}{unit}"
