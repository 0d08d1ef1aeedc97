"""The objective tree's scores (README "Objective tree"): a parent with `from_children` scores the
weighted mean of its own key results (by their `weight`) and its children (1 each under `mean`,
their `weight` under `weighted`); a part without a score is left out, never counted as 0."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from syncer.config.models import Objective, Settings
from syncer.objective_writeback import writable_scores
from syncer.rollup import objective_scores
from syncer.rollup.objective_tree import counted_key_results, tree_order, tree_scores
from syncer.values import KeyResultValue, Period

SOURCE = {
    "kind": "hubspot",
    "auth": {"method": "private_app", "access_token": "pat-na1-x"},
    "streams": {"deals": {}},
}
METRIC = {"kind": "count", "stream": "deals"}


def kr(key: str, weight: float = 1.0) -> dict[str, Any]:
    return {"key": key, "metric": METRIC, "target": 10, "weight": weight}


def settings(*objectives: dict[str, Any]) -> Settings:
    return Settings.model_validate({"version": 1, "sources": {"hub": SOURCE}, "objectives": list(objectives)})


def objectives(*raw: dict[str, Any]) -> list[Objective]:
    return list(settings(*raw).objectives)


def total(objective: str, key_result: str, score: float | None) -> KeyResultValue:
    """A key result's total with just the fields objective scores read."""
    period = Period(date(2026, 10, 1), date(2026, 12, 31))
    return KeyResultValue(
        objective=objective,
        key_result=key_result,
        group_kind="total",
        group_key="",
        period=period,
        value=None if score is None else Decimal(10 * score),
        baseline=None,
        target=Decimal(10),
        direction="increase",
        progress=score,
        score=score,
        expected=0.5,
        status=None,
        projected=None,
        updated_at=datetime(2026, 11, 16, tzinfo=UTC),
    )


TREE = (
    {"key": "company", "from_children": "mean"},
    {"key": "sales", "parent": "company", "key_results": [kr("won")]},
    {"key": "service", "parent": "company", "key_results": [kr("csat")]},
)


def test_mean_counts_each_child_once() -> None:
    scores = tree_scores(objectives(*TREE), {"sales": [(1.0, 0.8)], "service": [(1.0, 0.4)]})
    assert scores == {"company": pytest.approx(0.6), "sales": 0.8, "service": 0.4}


def test_mean_counts_the_parents_own_key_results_by_their_weight() -> None:
    tree = objectives(
        {"key": "company", "from_children": "mean", "key_results": [kr("nps", weight=2)]},
        *TREE[1:],
    )
    own = {"company": [(2.0, 0.3)], "sales": [(1.0, 0.8)], "service": [(1.0, 0.4)]}
    # (2 × 0.3 + 0.8 + 0.4) / (2 + 1 + 1)
    assert tree_scores(tree, own)["company"] == pytest.approx(0.45)


def test_weighted_uses_each_childs_weight_default_one() -> None:
    tree = objectives(
        {"key": "company", "from_children": "weighted"},
        {"key": "sales", "parent": "company", "weight": 3, "key_results": [kr("won")]},
        {"key": "service", "parent": "company", "key_results": [kr("csat")]},  # weight 1
    )
    scores = tree_scores(tree, {"sales": [(1.0, 0.8)], "service": [(1.0, 0.4)]})
    assert scores["company"] == pytest.approx((3 * 0.8 + 0.4) / 4)


def test_mean_ignores_a_childs_weight() -> None:
    tree = objectives(
        {"key": "company", "from_children": "mean"},
        {"key": "sales", "parent": "company", "weight": 3, "key_results": [kr("won")]},
        {"key": "service", "parent": "company", "key_results": [kr("csat")]},
    )
    assert tree_scores(tree, {"sales": [(1.0, 0.8)], "service": [(1.0, 0.4)]})["company"] == pytest.approx(
        0.6
    )


def test_three_levels_roll_rep_into_team_into_company() -> None:
    tree = objectives(
        {"key": "company", "from_children": "weighted"},
        {
            "key": "emea",
            "parent": "company",
            "weight": 2,
            "from_children": "mean",
            "key_results": [kr("rev")],
        },
        {"key": "ana", "parent": "emea", "key_results": [kr("calls")]},
        {"key": "ben", "parent": "emea", "key_results": [kr("calls")]},
        {"key": "amer", "parent": "company", "key_results": [kr("rev")]},
    )
    own = {"emea": [(1.0, 0.9)], "ana": [(1.0, 0.6)], "ben": [(1.0, 0.3)], "amer": [(1.0, 0.5)]}
    scores = tree_scores(tree, own)
    emea = (0.9 + 0.6 + 0.3) / 3
    assert scores["emea"] == pytest.approx(emea)
    assert scores["company"] == pytest.approx((2 * emea + 0.5) / 3)


def test_a_child_without_a_score_is_skipped_not_zero() -> None:
    scores = tree_scores(objectives(*TREE), {"sales": [(1.0, 0.8)], "service": []})
    assert scores["service"] is None
    assert scores["company"] == pytest.approx(0.8)  # not (0.8 + 0) / 2


def test_a_parent_none_of_whose_parts_has_a_score_has_none() -> None:
    assert tree_scores(objectives(*TREE), {})["company"] is None


def test_without_from_children_a_parent_scores_its_own_key_results_only() -> None:
    tree = objectives({"key": "company", "key_results": [kr("nps")]}, *TREE[1:])
    scores = tree_scores(tree, {"company": [(1.0, 0.2)], "sales": [(1.0, 0.8)], "service": [(1.0, 0.4)]})
    assert scores["company"] == 0.2


def test_objective_scores_reads_the_tree_from_key_result_totals() -> None:
    config = settings(*TREE)
    values = [total("sales", "won", 0.8), total("service", "csat", None)]
    scores = {s.objective: s.score for s in objective_scores(values, config)}
    assert scores == {"company": 0.8, "sales": 0.8, "service": None}


def test_tree_order_is_depth_first_in_yaml_order() -> None:
    tree = objectives(
        {"key": "ana", "parent": "emea", "key_results": [kr("calls")]},
        {"key": "company", "from_children": "mean"},
        {"key": "amer", "parent": "company", "key_results": [kr("rev")]},
        {"key": "emea", "parent": "company", "from_children": "mean", "key_results": [kr("rev")]},
    )
    nodes = [(n.objective.key, n.depth, n.parent, n.children) for n in tree_order(tree)]
    assert nodes == [
        ("company", 0, None, ("amer", "emea")),
        ("amer", 1, "company", ()),
        ("emea", 1, "company", ("ana",)),
        ("ana", 2, "emea", ()),
    ]


def test_a_cycle_neither_loops_nor_loses_an_objective() -> None:
    """validate refuses cycles; a Settings built without it must still terminate."""
    tree = objectives(
        {"key": "a", "parent": "b", "from_children": "mean", "key_results": [kr("x")]},
        {"key": "b", "parent": "a", "from_children": "mean", "key_results": [kr("y")]},
    )
    assert sorted(n.objective.key for n in tree_order(tree)) == ["a", "b"]
    scores = tree_scores(tree, {"a": [(1.0, 0.2)], "b": [(1.0, 0.6)]})
    assert set(scores) == {"a", "b"}


def test_a_parents_score_is_written_only_when_every_counted_key_result_is_current() -> None:
    config = settings(*TREE)
    assert counted_key_results(config.objectives, "company") == [("sales", "won"), ("service", "csat")]
    stale_service = [total("sales", "won", 0.8)]  # service.csat dropped as stale this cycle
    assert writable_scores(config, stale_service) == {"sales": 0.8}
    both = [total("sales", "won", 0.8), total("service", "csat", 0.4)]
    assert writable_scores(config, both) == {"company": pytest.approx(0.6), "sales": 0.8, "service": 0.4}
