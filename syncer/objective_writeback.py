"""Write-back of objective scores (README "Objective tree"): the expression `<objective>.score`.

On a rep's record (`match: owner`) every rep gets the objective's score; in a keyed target the
objective has its own record, found or created by its key (`company`, never a key result's key,
which always holds a dot), and `*.key`, `*.title` and `*.score` fill that record with the
objective's own; the other `*` attributes are a key result's and stay off it.

An objective's score is written only when every key result it counts (its own and, for a parent
with `from_children`, its descendants') was computed this cycle: a stale key result would move
the score without a change in the CRM, so the score keeps its last written value instead
(docs/decisions.md, "unknown is not zero").
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from syncer.config.models import Settings
from syncer.rollup.objective_tree import counted_key_results
from syncer.rollup.scoring import objective_scores
from syncer.values import KeyResultValue

RECORD_NAMES = ("key", "title", "score")  # the `*` attributes an objective's own record holds


def is_objective_expression(expression: str) -> bool:
    """`company.score`: an objective's, not `*.value` nor `objective.key_result.value`."""
    parts = expression.split(".")
    return len(parts) == 2 and parts[0] != "*"


def writable_scores(settings: Settings, values: Sequence[KeyResultValue]) -> dict[str, float | None]:
    """Objective key → its score, for the objectives whose counted key results are all in `values`."""
    computed = {(v.objective, v.key_result) for v in values if v.is_total}
    return {
        s.objective: s.score
        for s in objective_scores(values, settings)
        if all(kr in computed for kr in counted_key_results(settings.objectives, s.objective))
    }


def owner_fields(fields: Mapping[str, str], scores: Mapping[str, float | None]) -> dict[str, float | None]:
    """CRM field → score, for a rep's record: each `<objective>.score` whose score is writable."""
    return {
        crm_field: scores[expression.split(".")[0]]
        for crm_field, expression in fields.items()
        if is_objective_expression(expression) and expression.split(".")[0] in scores
    }


def keyed_records(
    settings: Settings, fields: Mapping[str, str], scores: Mapping[str, float | None]
) -> Iterator[tuple[str, dict[str, float | str | None]]]:
    """(objective key, CRM field → value) of each objective record a keyed target wants."""
    for objective in settings.objectives:
        if objective.key not in scores:
            continue
        own = {
            crm_field: scores[objective.key]
            for crm_field, expression in fields.items()
            if is_objective_expression(expression) and expression.split(".")[0] == objective.key
        }
        if not own:
            continue
        names = {
            "key": objective.key,
            "title": objective.title or objective.key,
            "score": scores[objective.key],
        }
        named: dict[str, float | str | None] = {
            crm_field: names[expression.split(".")[1]]
            for crm_field, expression in fields.items()
            if expression.split(".")[0] == "*" and expression.split(".")[1] in RECORD_NAMES
        }
        yield objective.key, {**named, **own}
