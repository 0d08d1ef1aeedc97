"""The objective tree (README "Objective tree"): which objective rolls up into which, and a
parent's score from its children's, in the manner of Microsoft Dynamics 365 parent goals.

Pure functions over the YAML's objectives; `scoring.objective_scores` gives them each objective's
own score and takes the tree's back.

- An objective without `from_children` scores from its own key results only, as before the tree.
- One with `from_children` scores the weighted mean of its own key results' scores (each by its
  key result's `weight`) and its children's objective scores: each child counts 1 under `mean`,
  its `weight:` (default 1) under `weighted`. A child's score is its own tree score, so a
  three-level tree rolls rep → team → company.
- A child, or a key result, without a score (no target yet, no value, stale) is left out, never
  counted as 0 (docs/decisions.md, "unknown is not zero"); a parent none of whose parts has a
  score has none.

`validate` refuses cycles and unknown parents (`config/tree_rules.py`); on a configuration that
was not validated, an objective in a cycle scores from its own key results and children outside
the cycle, and an unknown parent is no parent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from syncer.config.models import Objective

# A part of an objective's score: (its weight, its score).
Part = tuple[float, float]


@dataclass(frozen=True, slots=True)
class TreeNode:
    """An objective's place in the tree, in the order the views show it (depth first, YAML order)."""

    objective: Objective
    depth: int  # 0 for a top-level objective
    parent: str | None  # the parent's key; None at the top (also for an unknown parent)
    children: tuple[str, ...]  # the children's keys, in YAML order


def children_of(objectives: Sequence[Objective]) -> dict[str, list[Objective]]:
    """Parent key → its children, in YAML order (only parents that exist)."""
    keys = {o.key for o in objectives}
    found: dict[str, list[Objective]] = {}
    for objective in objectives:
        if objective.parent in keys and objective.parent != objective.key:
            found.setdefault(objective.parent, []).append(objective)
    return found


def tree_order(objectives: Sequence[Objective]) -> list[TreeNode]:
    """Every objective once: each top-level one (no parent, or an unknown one) followed by its
    descendants, depth first, siblings in YAML order; objectives caught in a cycle come last, at
    the top level."""
    children = children_of(objectives)
    keys = {o.key for o in objectives}
    placed: set[str] = set()
    nodes: list[TreeNode] = []

    def visit(objective: Objective, depth: int, parent: str | None) -> None:
        placed.add(objective.key)
        below = [c for c in children.get(objective.key, []) if c.key not in placed]
        nodes.append(TreeNode(objective, depth, parent, tuple(c.key for c in below)))
        for child in below:
            if child.key not in placed:
                visit(child, depth + 1, objective.key)

    for objective in objectives:
        if objective.parent not in keys or objective.parent == objective.key:
            visit(objective, 0, None)
    for objective in objectives:  # a cycle has no top: show it rather than lose it
        if objective.key not in placed:
            visit(objective, 0, None)
    return nodes


def weighted_mean(parts: Sequence[Part]) -> float | None:
    """Σ weight × score / Σ weight over the parts that have a score; None without any."""
    weight = sum(w for w, _ in parts)
    return sum(w * s for w, s in parts) / weight if parts and weight > 0 else None


def tree_scores(
    objectives: Sequence[Objective], own_parts: Mapping[str, Sequence[Part]]
) -> dict[str, float | None]:
    """Each objective's score: from `own_parts` (its key results' weights and scores), and from its
    children's scores when it has `from_children` (see the module docstring)."""
    children = children_of(objectives)
    scores: dict[str, float | None] = {}
    visiting: set[str] = set()

    def score_of(objective: Objective) -> float | None:
        if objective.key in scores:
            return scores[objective.key]
        visiting.add(objective.key)
        parts = list(own_parts.get(objective.key, ()))
        if objective.from_children is not None:
            for child in children.get(objective.key, []):
                if child.key in visiting:  # a cycle (refused by validate): not a child here
                    continue
                child_score = score_of(child)
                if child_score is not None:
                    weight = (child.weight or 1.0) if objective.from_children == "weighted" else 1.0
                    parts.append((weight, child_score))
        visiting.discard(objective.key)
        scores[objective.key] = weighted_mean(parts)
        return scores[objective.key]

    for objective in objectives:
        score_of(objective)
    return scores


def counted_key_results(objectives: Sequence[Objective], key: str) -> list[tuple[str, str]]:
    """(objective, key result) of every key result `key`'s score counts: its own, and, when it has
    `from_children`, those its children's scores count, down the tree."""
    by_key = {o.key: o for o in objectives}
    children = children_of(objectives)
    found: list[tuple[str, str]] = []
    seen: set[str] = set()
    stack = [key]
    while stack:
        current = by_key.get(stack.pop())
        if current is None or current.key in seen:
            continue
        seen.add(current.key)
        found.extend((current.key, kr.key) for kr in current.key_results)
        if current.from_children is not None:
            stack.extend(c.key for c in reversed(children.get(current.key, [])))
    return found
