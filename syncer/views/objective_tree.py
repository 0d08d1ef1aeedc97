"""What people see of the objective tree (README "Objective tree"): `okrsync status`, the status
page and the report show company → team → rep objectives nested, each with its score, and say
how a parent's score is made.

`Status.objectives` comes in tree order with each objective's depth (`syncer.views.status_data`);
this module only draws it.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from syncer.views.status_data import ObjectiveStatus

INDENT = "  "


def has_tree(objectives: Sequence[ObjectiveStatus]) -> bool:
    return any(o.parent is not None for o in objectives)


def score_text(objective: ObjectiveStatus) -> str:
    return "—" if objective.score is None else f"{objective.score:.2f}"


def how_scored(objective: ObjectiveStatus) -> str:
    """'mean of 2 child objectives and 1 key result', or '' for an objective scored as before."""
    if objective.from_children is None:
        return ""
    parts = [_count(len(objective.children), "child objective")]
    if objective.key_results or objective.awaiting:
        parts.append(_count(len(objective.key_results) + len(objective.awaiting), "key result"))
    how = "weighted mean" if objective.from_children == "weighted" else "mean"
    return f"{how} of {' and '.join(parts)}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def console_prefix(objective: ObjectiveStatus) -> str:
    """The indentation of an objective's line in `okrsync status`: its depth, then a branch."""
    return f"{INDENT * (objective.depth - 1)}└ " if objective.depth else ""


def html_outline(objectives: Sequence[ObjectiveStatus]) -> str:
    """The tree at a glance above the objectives' sections, each line linking to its section;
    nothing when no objective has a parent."""
    if not has_tree(objectives):
        return ""
    by_key = {o.key: o for o in objectives}

    def items(keys: Sequence[str]) -> str:
        return "".join(_item(by_key[k], items(by_key[k].children)) for k in keys if k in by_key)

    tops = [o.key for o in objectives if o.parent is None]
    return f'<nav class="objective-tree"><h2>Objectives</h2><ul>{items(tops)}</ul></nav>'


def _item(objective: ObjectiveStatus, below: str) -> str:
    how = how_scored(objective)
    note = f' <span class="muted">({escape(how)})</span>' if how else ""
    nested = f"<ul>{below}</ul>" if below else ""
    return (
        f'<li><a href="#{escape(objective.key)}">{escape(objective.title)}</a> '
        f'<span class="score">score {score_text(objective)}</span>{note}{nested}</li>'
    )


def html_heading_note(objective: ObjectiveStatus) -> str:
    """Beside a parent's score on its section: how it is made."""
    how = how_scored(objective)
    return f' <span class="score">({escape(how)})</span>' if how else ""
