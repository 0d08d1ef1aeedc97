"""Scoring rules as pure functions: targets, progress (both directions), status, projection."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from syncer.config.models import KeyResult
from syncer.rollup import scoring
from syncer.values import KeyResultValue, Period


def _kr(**fields: Any) -> KeyResult:
    metric = fields.pop("metric", {"kind": "sum", "stream": "deals", "field": "amount"})
    return KeyResult.model_validate({"key": "kr", "metric": metric, "target": 1, **fields})


@pytest.mark.parametrize(
    ("spec", "baseline", "target"),
    [
        ("+15%", Decimal(500000), Decimal("575000")),
        ("-5%", Decimal("0.1"), Decimal("0.095")),
        ("+5pp", Decimal("0.8"), Decimal("0.85")),
        ("-2.5pp", Decimal("0.1"), Decimal("0.075")),
        ("+20%", Decimal(0), Decimal(0)),
        ("+15%", None, None),
    ],
)
def test_relative_targets(spec: str, baseline: Decimal | None, target: Decimal | None) -> None:
    assert scoring.relative_target(spec, baseline) == target


@pytest.mark.parametrize(
    ("value", "start", "target", "progress"),
    [
        (Decimal(30), Decimal(30), Decimal("25.5"), 0.0),  # has not moved
        (Decimal(27), Decimal(30), Decimal("25.5"), 2 / 3),  # decrease: both differences negative
        (Decimal("25.5"), Decimal(30), Decimal("25.5"), 1.0),
        (Decimal(24), Decimal(30), Decimal("25.5"), 6 / 4.5),  # beyond a decrease target
        (Decimal(33), Decimal(30), Decimal("25.5"), 0.0),  # moved the wrong way: floored at 0
        (Decimal(60), Decimal(0), Decimal(50), 1.2),
        (None, Decimal(0), Decimal(50), None),
        (Decimal(5), Decimal(0), None, None),
        (Decimal(5), Decimal(7), Decimal(7), None),  # target equals the start
    ],
)
def test_progress(
    value: Decimal | None, start: Decimal, target: Decimal | None, progress: float | None
) -> None:
    assert scoring.progress(value, start, target) == (None if progress is None else pytest.approx(progress))


def test_period_totals_count_from_zero_other_kinds_from_the_baseline() -> None:
    assert scoring.progress_start("sum", "increase", Decimal(500000)) == 0
    assert scoring.progress_start("count", "decrease", Decimal(40)) == 40
    assert scoring.progress_start("avg_days", "decrease", Decimal(30)) == 30
    assert scoring.progress_start("ratio", "increase", None) == 0


@pytest.mark.parametrize(
    ("progress", "expected", "status", "score"),
    [
        (1.0, 0.5, "done", 1.0),
        (1.4, 0.2, "done", 1.0),
        (0.5, 0.5, "on_track", 0.5),
        (0.35, 0.5, "at_risk", 0.35),  # 0.7 × 0.5 = 0.35
        (0.3499, 0.5, "off_track", 0.3499),
        (-0.2, 0.5, "off_track", 0.0),
        (0.0, 0.0, "on_track", 0.0),  # nothing expected yet
        (None, 0.5, None, None),
    ],
)
def test_status_and_score(
    progress: float | None, expected: float, status: str | None, score: float | None
) -> None:
    assert scoring.status(progress, expected) == status
    assert scoring.score(progress) == score


@pytest.mark.parametrize(
    ("kind", "value", "expected", "projected"),
    [
        ("sum", Decimal(100), 0.25, Decimal(400)),
        ("count", Decimal(3), 0.0, Decimal(3)),  # before the period starts: the value itself
        ("avg", Decimal("12.5"), 0.25, Decimal("12.5")),
        ("ratio", Decimal("0.5"), 0.5, Decimal("0.5")),
        ("distinct_count", Decimal(8), 0.5, Decimal(8)),
        ("sum", None, 0.5, None),
    ],
)
def test_projected(kind: str, value: Decimal | None, expected: float, projected: Decimal | None) -> None:
    assert scoring.projected(kind, value, expected) == projected


@pytest.mark.parametrize(
    ("fields", "direction"),
    [
        ({"baseline": 30, "target": 25.5}, "decrease"),
        ({"baseline": 30, "target": 35}, "increase"),
        ({"target": 50}, "increase"),
        ({"baseline": 30, "target": 25.5, "direction": "decrease"}, "decrease"),
        ({"baseline": "previous_period", "target": "-5%"}, "decrease"),
        ({"baseline": "previous_period", "target": "+5%"}, "increase"),
    ],
)
def test_direction_is_explicit_or_inferred(fields: dict[str, Any], direction: str) -> None:
    kr = _kr(**fields)
    assert scoring.direction(kr, scoring.total_goal(kr, None)) == direction


def test_group_goals_follow_the_owner_targets() -> None:
    even = _kr(target=90, group_by="owner", owner_targets="even", baseline=60)
    total = scoring.total_goal(even, None)
    assert scoring.group_goal(even, total, ("owner", "a"), previous=None, owners=3) == scoring.Goal(
        Decimal(20), Decimal(30)
    )
    plain = _kr(target=90, group_by="team", baseline=60)
    assert scoring.group_goal(plain, total, ("team", "t"), previous=None, owners=0) == scoring.Goal(
        None, None
    )
    rate = _kr(
        metric={"kind": "avg", "stream": "deals", "field": "amount"},
        target=900,
        baseline=800,
        group_by="team",
    )
    rate_total = scoring.total_goal(rate, None)
    assert scoring.group_goal(rate, rate_total, ("team", "t"), previous=None, owners=0) == (
        scoring.Goal(Decimal("800.0"), None)
    )


def test_value_attributes_for_write_back() -> None:
    value = KeyResultValue(
        objective="q-revenue",
        key_result="revenue",
        group_kind="owner",
        group_key="ana@example.com",
        period=Period(date(2026, 10, 1), date(2026, 12, 31)),
        value=Decimal("412000.00"),
        baseline=None,
        target=Decimal("575000.00"),
        direction="increase",
        progress=412000 / 575000,
        score=412000 / 575000,
        expected=0.5,
        status="on_track",
        projected=Decimal("824000.00"),
        updated_at=datetime(2026, 11, 15, tzinfo=UTC),
    )
    assert value.progress_pct == 71.7
    assert value.attribute("progress_pct") == 71.7
    assert value.attribute("value") == Decimal("412000.00")
    assert value.attribute("key") == "q-revenue.revenue.ana@example.com"
    assert value.attribute("group") == "ana@example.com"
    assert value.attribute("title") == "revenue"
    assert value.attribute("period_end") == date(2026, 12, 31)
    with pytest.raises(KeyError, match="no attribute `colour`"):
        value.attribute("colour")
