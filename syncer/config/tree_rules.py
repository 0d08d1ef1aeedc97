"""Rules of the objective tree across objectives (README "Objective tree"): every `parent:` names
an objective, no objective is its own ancestor, `from_children:` has children to score from, and
a `weight:` sits under a parent that weighs its children. Also the write-back expression of an
objective's score, `<objective>.score`.
"""

from __future__ import annotations

from collections.abc import Iterator

from syncer.config.models import Objective, Settings
from syncer.config.violations import Violation, suggest

OBJECTIVE_ATTRIBUTES = ("score",)  # what `<objective>.<attribute>` may write


def check_tree(settings: Settings) -> list[Violation]:
    """Every problem of the objective tree, in file order."""
    return [
        *_unknown_parents(settings),
        *_cycles(settings),
        *_childless(settings),
        *_unused_weights(settings),
    ]


def _unknown_parents(settings: Settings) -> Iterator[Violation]:
    keys = [o.key for o in settings.objectives]
    for i, objective in enumerate(settings.objectives):
        if objective.parent is not None and objective.parent not in keys:
            yield Violation(
                ("objectives", i, "parent"),
                f"no objective `{objective.parent}`: `parent` names another objective's key "
                f"({', '.join(keys)}), or drop it.{suggest(objective.parent, keys)}",
            )


def _cycles(settings: Settings) -> Iterator[Violation]:
    """One violation per cycle, on the `parent` of its first objective in the file."""
    index = {o.key: i for i, o in enumerate(settings.objectives)}
    reported: set[str] = set()
    for i, objective in enumerate(settings.objectives):
        chain = [objective.key]
        parent = objective.parent
        while parent in index and parent not in chain:
            chain.append(parent)
            parent = settings.objectives[index[parent]].parent
        if parent != objective.key or objective.key in reported:
            continue  # no cycle, or one through an ancestor reported from its own first objective
        reported.update(chain)
        path = " → ".join([*chain, objective.key])
        yield Violation(
            ("objectives", i, "parent"),
            f"the objective tree has a cycle: {path}; an objective cannot roll up into itself: "
            f"drop `parent` on the top one of these (the company objective has none)",
        )


def _childless(settings: Settings) -> Iterator[Violation]:
    parents = {o.parent for o in settings.objectives}
    for i, objective in enumerate(settings.objectives):
        if objective.from_children is not None and objective.key not in parents:
            yield Violation(
                ("objectives", i, "from_children"),
                f"objective `{objective.key}` has no child objectives to score from: add "
                f"`parent: {objective.key}` to the objectives that roll up into it, or drop `from_children`",
            )


def _unused_weights(settings: Settings) -> Iterator[Violation]:
    by_key = {o.key: o for o in settings.objectives}
    for i, objective in enumerate(settings.objectives):
        if objective.weight is None:
            continue
        parent = by_key.get(objective.parent) if objective.parent else None
        if parent is None:
            if objective.parent is None:  # an unknown parent is reported on its own
                yield Violation(
                    ("objectives", i, "weight"),
                    "`weight` is a child objective's share in its parent's score, and this objective "
                    "has no `parent`: add `parent: <objective key>`, or drop `weight`",
                )
        elif parent.from_children != "weighted":
            yield Violation(
                ("objectives", i, "weight"),
                f"`weight` counts only under a parent with `from_children: weighted`, and `{parent.key}` "
                f"has {_scoring(parent)}: set `from_children: weighted` on `{parent.key}`, or drop `weight`",
            )


def _scoring(parent: Objective) -> str:
    if parent.from_children is None:
        return "no `from_children` (it scores from its own key results only)"
    return f"`from_children: {parent.from_children}`"


def objective_expression_problem(settings: Settings, expression: str) -> str | None:
    """What is wrong with a write-back expression `<objective>.<attribute>`, or None."""
    objective_key, attribute = expression.split(".")
    objectives = [o.key for o in settings.objectives]
    if objective_key not in objectives:
        return (
            f"`{expression}` is not a value: write objective.key_result.attribute, like "
            f"q-revenue.revenue.value, or objective.score for an objective's score; there is no objective "
            f"`{objective_key}`.{suggest(objective_key, objectives)}"
        )
    if attribute not in OBJECTIVE_ATTRIBUTES and settings.key_result(objective_key, attribute) is not None:
        return (
            f"`{expression}` names key result `{attribute}` but no attribute: write "
            f"{expression}.value (or another attribute), or {objective_key}.score for the objective's score"
        )
    if attribute not in OBJECTIVE_ATTRIBUTES:
        return (
            f"`{expression}`: an objective writes only its `score` ({objective_key}.score); for a key "
            f"result's {attribute}, write {objective_key}.<key_result>.{attribute}"
        )
    return None
