"""How each key result is graded, for every view: committed or aspirational, its stretch and the
team's confidence (README "Committed, aspirational and stretch key results").

These come from the YAML, not the store: the stretch is worked out from the total's baseline the
way the rollup works it out (`rollup.scoring.total_goal`), so a relative stretch shows as a number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

from rich.console import Group

from syncer.config.grading import OkrType
from syncer.config.models import KeyResult, Objective
from syncer.rollup import scoring
from syncer.values import KeyResultValue
from syncer.views import units
from syncer.views.tables import Column, fitted_table


@dataclass(frozen=True, slots=True)
class Grading:
    key: str  # objective.key_result
    type: OkrType
    stretch: Decimal | None  # the total's
    confidence: float | None
    score: float | None  # the total's
    unit: units.Unit = units.PLAIN

    @property
    def plain(self) -> bool:
        """Committed, no stretch, no confidence: nothing to say beyond the usual numbers."""
        return self.type == "committed" and self.stretch is None and self.confidence is None


def grading_of(objective: Objective, kr: KeyResult, total: KeyResultValue, unit: units.Unit) -> Grading:
    stretch = scoring.total_goal(kr, total.baseline).stretch if kr.stretch is not None else None
    return Grading(
        key=f"{objective.key}.{kr.key}",
        type=scoring.okr_type(objective, kr),
        stretch=stretch,
        confidence=kr.confidence,
        score=total.score,
        unit=unit,
    )


def _score(score: float | None) -> str:
    return "—" if score is None else f"{score:.2f}"


def _confidence(confidence: float | None) -> str:
    return "—" if confidence is None else f"{confidence * 100:.0f} %"


GRADING_COLUMNS = (
    Column("key result"),
    Column("type", whole=True, constant_folds=False),
    Column("score", numeric=True),
    Column("stretch (scores 1.0)", numeric=True),
    Column("confidence", numeric=True),
)


def console_table(gradings: Sequence[Grading]) -> Group | None:
    """`okrsync status`: the key results that are aspirational, stretched or carry a confidence."""
    rows = [
        (g.key, g.type, _score(g.score), units.full(g.stretch, g.unit), _confidence(g.confidence))
        for g in gradings
        if not g.plain
    ]
    if not rows:
        return None
    return fitted_table(
        "Grading (aspirational: 0.7 is success; a target with a stretch scores 0.7)", GRADING_COLUMNS, rows
    )


def html_note(grading: Grading | None) -> str:
    """One line under a key result's numbers on the status page and in the report."""
    if grading is None or grading.plain:
        return ""
    parts = [
        "aspirational: 0.7 is success" if grading.type == "aspirational" else "committed",
        f"score {_score(grading.score)}",
    ]
    if grading.stretch is not None:
        parts.append(f"stretch {units.full(grading.stretch, grading.unit)} scores 1.0, the target 0.7")
    if grading.confidence is not None:
        parts.append(f"confidence {_confidence(grading.confidence)}")
    return f'<p class="grading muted">{escape(" · ".join(parts))}</p>'
