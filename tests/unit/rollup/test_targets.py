"""The target rules of README "Targets", each with numbers worked by hand.

1. An explicit `owner_targets` map wins (per owner); unlisted owners get no target.
2. `owner_targets: even` splits the TOTAL's target among the n active owners in scope, whatever
   its form: with "+15%", each rep gets total target / n, never +15 % of their own baseline.
3. With no `owner_targets`, a relative target applies to each group's own baseline.
4. An absolute target belongs to the total only.
Progress is floored at 0: a key result moving the wrong way reads 0 % and off_track.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from syncer.config.models import KeyResult
from syncer.rollup import compute_key_results, scoring
from syncer.rollup.scoring import Goal

from .builders import Rows, key_result_settings

SUM = {"kind": "sum", "stream": "deals", "field": "amount", "where": {"is_won": True}}
RATIO = {
    "kind": "ratio",
    "stream": "deals",
    "numerator": {"is_won": True},
    "denominator": {"is_closed": True},
}
AVG = {"kind": "avg", "stream": "deals", "field": "amount"}


def _kr(metric: dict[str, Any] = SUM, **fields: Any) -> KeyResult:
    return KeyResult.model_validate({"key": "kr", "metric": metric, **fields})


def _goal(kr: KeyResult, group: tuple[str, str], *, previous_total: Decimal | None = None,
          previous: Decimal | None = None, owners: int = 3) -> Goal:  # fmt: skip
    total = scoring.total_goal(kr, previous_total)
    return scoring.group_goal(kr, total, group, previous=previous, owners=owners)


ANA = ("owner", "ana@example.com")
EMEA = ("team", "emea")


def test_even_splits_a_relative_total_target_not_each_reps_own_growth() -> None:
    # Last quarter the total was 300,000 and Ana's 200,000. +15 % → total target 345,000;
    # three active reps → 115,000 each. Ana's own +15 % would have been 230,000.
    kr = _kr(baseline="previous_period", target="+15%", group_by="owner", owner_targets="even")
    goal = _goal(kr, ANA, previous_total=Decimal(300000), previous=Decimal(200000), owners=3)
    assert goal == Goal(Decimal(200000), Decimal(115000))


def test_even_splits_an_absolute_target_and_a_numeric_baseline() -> None:
    kr = _kr(baseline=60, target=90, group_by="owner", owner_targets="even")
    assert _goal(kr, ANA, owners=3) == Goal(Decimal(20), Decimal(30))  # 60 / 3, 90 / 3


def test_even_gives_a_rate_the_totals_rate() -> None:
    # Win rate last quarter 0.40, "+5pp" → 0.45 for the total, and for every rep (a rate splits as itself).
    kr = _kr(RATIO, baseline="previous_period", target="+5pp", group_by="owner", owner_targets="even")
    goal = _goal(kr, ANA, previous_total=Decimal("0.40"), previous=Decimal("0.30"), owners=4)
    assert goal == Goal(Decimal("0.30"), Decimal("0.45"))


def test_even_without_a_total_target_or_owners_gives_no_target() -> None:
    kr = _kr(baseline="previous_period", target="+15%", group_by="owner", owner_targets="even")
    assert _goal(kr, ANA, previous_total=None, previous=Decimal(5), owners=3).target is None
    assert _goal(_kr(target=90, group_by="owner", owner_targets="even"), ANA, owners=0).target is None


def test_without_owner_targets_a_relative_target_grows_each_groups_own_baseline() -> None:
    kr = _kr(baseline="previous_period", target="+15%", group_by="owner")
    assert _goal(kr, ANA, previous_total=Decimal(300000), previous=Decimal(200000)) == Goal(
        Decimal(200000), Decimal(230000)
    )
    team = _kr(baseline="previous_period", target="+15%", group_by="team")
    assert _goal(team, EMEA, previous_total=Decimal(300000), previous=Decimal(120000)) == Goal(
        Decimal(120000), Decimal(138000)
    )
    # A rep with no records last quarter: a sum's baseline is 0, and +15 % of 0 is 0.
    assert _goal(kr, ANA, previous_total=Decimal(300000), previous=None) == Goal(Decimal(0), Decimal(0))


def test_an_explicit_map_wins_over_a_relative_target() -> None:
    kr = _kr(
        baseline="previous_period",
        target="+15%",
        group_by="owner",
        owner_targets={"Ana@Example.com": 100000},
    )
    assert _goal(kr, ANA, previous_total=Decimal(300000), previous=Decimal(200000)) == Goal(
        Decimal(200000), Decimal(100000)
    )
    bo = _goal(kr, ("owner", "bo@example.com"), previous_total=Decimal(300000), previous=Decimal(90000))
    assert bo == Goal(Decimal(90000), None)  # not listed: value only


@pytest.mark.parametrize("group", [ANA, EMEA, ("region", "NA")])
def test_an_absolute_target_belongs_to_the_total_only(group: tuple[str, str]) -> None:
    kr = _kr(target=575000, group_by=group[0])
    assert _goal(kr, group).target is None
    rate = _kr(AVG, baseline=800, target=900, group_by=group[0])
    assert _goal(rate, group) == Goal(Decimal("800.0"), None)  # a rate's baseline is everyone's


# ---------------------------------------------------------------- progress floored at 0


@pytest.mark.parametrize(
    ("value", "start", "target", "direction", "expected", "grade"),
    [
        # A decrease from 30 days to 25.5 that went to 33: −3 / −4.5 would be −66.7 %: 0 %, off track.
        (Decimal(33), Decimal(30), Decimal("25.5"), "decrease", 0.5, (0.0, 0.0, "off_track")),
        # The wrong way is off track even when nothing is expected yet.
        (Decimal(33), Decimal(30), Decimal("25.5"), "decrease", 0.0, (0.0, 0.0, "off_track")),
        # Not moved at all, nothing expected yet: on track.
        (Decimal(30), Decimal(30), Decimal("25.5"), "decrease", 0.0, (0.0, 0.0, "on_track")),
        (Decimal(27), Decimal(30), Decimal("25.5"), "decrease", 0.5, (2 / 3, 2 / 3, "on_track")),
        (Decimal(60), Decimal(0), Decimal(50), "increase", 0.5, (1.2, 1.0, "done")),
        # A rep whose own last rate (0.40) beat the shared target (0.30): done at 0.45 and at 0.30 ...
        (Decimal("0.45"), Decimal("0.40"), Decimal("0.30"), "increase", 0.5, (1.0, 1.0, "done")),
        (Decimal("0.30"), Decimal("0.40"), Decimal("0.30"), "increase", 0.5, (1.0, 1.0, "done")),
        # ... and at 0 once below it (the bare formula would say (0.2 − 0.4) / (0.3 − 0.4) = 200 %).
        (Decimal("0.20"), Decimal("0.40"), Decimal("0.30"), "increase", 0.5, (0.0, 0.0, "off_track")),
        (None, Decimal(0), Decimal(50), "increase", 0.5, (None, None, None)),
    ],
)
def test_grade_floors_progress_and_keeps_score_and_status_consistent(
    value: Decimal | None,
    start: Decimal,
    target: Decimal,
    direction: Any,
    expected: float,
    grade: tuple[float | None, float | None, str | None],
) -> None:
    got = scoring.grade(value, start=start, target=target, direction_=direction, expected=expected)
    assert (got.progress, got.score, got.status) == (
        pytest.approx(grade[0]) if grade[0] is not None else None,
        pytest.approx(grade[1]) if grade[1] is not None else None,
        grade[2],
    )


NOW = datetime(2026, 11, 16, 17, 0, tzinfo=UTC)  # mid Q4 in New York


def test_a_key_result_moving_the_wrong_way_reads_zero_percent_and_off_track(session: Session) -> None:
    # Lost deals should fall from 10 last quarter to 5 ("-50%"); this quarter already 14.
    # (14 − 10) / (5 − 10) = −80 %: the CRM must show 0 % and off_track, never −80.
    rows = Rows(session)
    rows.owner("u1", "ana@example.com")
    for n in range(10):
        rows.deal(f"p{n}", owner_id="u1", is_won=False, close_date=date(2026, 8, 3))
    for n in range(14):
        rows.deal(f"c{n}", owner_id="u1", is_won=False, close_date=date(2026, 10, 5))
    settings = key_result_settings(
        {"kind": "count", "stream": "deals", "where": {"is_won": False}, "date": "close_date"},
        baseline="previous_period",
        target="-50%",
        group_by="owner",
    )

    values = {v.group_key: v for v in compute_key_results(session, settings, now=NOW)}

    for value in (values[""], values["ana@example.com"]):
        assert (value.value, value.baseline, value.target) == (14, 10, 5)
        assert (value.progress, value.progress_pct, value.score, value.status) == (0.0, 0.0, 0.0, "off_track")
        assert value.attribute("progress_pct") == 0.0
        # Oct 1 04:00 UTC (EDT) to Nov 16 17:00 UTC is 1117 h of the quarter's 2209 h (Jan 1 05:00 UTC, EST).
        assert value.expected == pytest.approx(1117 / 2209)
        assert value.projected == 28  # 14 / 0.5057 = 27.7, a whole count
