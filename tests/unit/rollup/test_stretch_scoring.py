"""README "Committed, aspirational and stretch key results", number for number.

The README's YAML is read from the README itself and rolled up over a small org built so that
each key result takes the value of one row of the README's table; the row's progress, score and
status must come out. The clock is 2026-08-16 00:00 UTC: 46 of the 92 days of Q3 have passed,
so expected is exactly 0.5, as the README says.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.orm import Session

from syncer.config.models import KeyResult, Objective
from syncer.rollup import compute_key_results, objective_scores, scoring
from syncer.rollup.scoring import Goal
from syncer.values import KeyResultValue

from .builders import Rows, settings_with

README = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
NOW = datetime(2026, 8, 16, tzinfo=UTC)  # Q3 2026: Jul 1 – Sep 30, 46 of 92 days gone


def _section() -> str:
    match = re.search(
        r"^### Committed, aspirational and stretch key results\n(.*?)(?=^#+ )",
        README,
        re.MULTILINE | re.DOTALL,
    )
    assert match, "README has no section on committed, aspirational and stretch key results"
    return match[1]


def readme_objectives() -> list[dict[str, Any]]:
    (block,) = re.findall(r"```yaml\n(.*?)```", _section(), re.DOTALL)
    objectives: list[dict[str, Any]] = yaml.safe_load(block)["objectives"]
    return objectives


def readme_rows() -> list[tuple[str, Decimal, float, float, str]]:
    """(key result, value, progress %, score, status) of each row of the README's table."""
    rows = []
    for line in _section().splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) != 5 or cells[0] in ("key result", "---"):
            continue
        key, value, progress, score, status = cells
        number = Decimal(value.removesuffix(" days").replace(",", ""))
        percent = float(progress.split(" %")[0])
        rows.append((key, number, percent, float(score.split()[0]), re.findall(r"`(\w+)`", status)[0]))
    return rows


ROWS = readme_rows()


def test_the_readme_table_is_read_whole() -> None:
    assert [(key, value) for key, value, *_ in ROWS] == [
        ("new-logos", Decimal(10)),
        ("new-logos", Decimal(16)),
        ("new-logos", Decimal(24)),
        ("new-logos", Decimal(40)),
        ("new-logos", Decimal(50)),
        ("new-logos", Decimal(70)),
        ("cycle", Decimal(45)),
        ("cycle", Decimal(34)),
        ("cycle", Decimal(28)),
        ("revenue", Decimal(150000)),
        ("revenue", Decimal(360000)),
    ]


def _org(session: Session, *, logos: int, days: int, revenue: int) -> dict[str, KeyResultValue]:
    """`logos` new-business wins, one win that took `days`, and `revenue` this quarter over 300,000
    last quarter; each deal counts in one key result only (no amount, or no created_at)."""
    rows = Rows(session)
    rows.owner("005A", "ana@example.com")
    for i in range(logos):
        rows.deal(f"n{i}", owner_id="005A", type="new", close_date=date(2026, 8, 3))
    closed = date(2026, 8, 10)
    created = datetime(2026, 8, 10, 12, tzinfo=UTC) - timedelta(days=days)
    rows.deal("c", owner_id="005A", type="expansion", created_at=created, close_date=closed)
    rows.deal("p", owner_id="005A", type="expansion", amount=300_000, close_date=date(2026, 5, 20))
    rows.deal("r", owner_id="005A", type="expansion", amount=revenue, close_date=date(2026, 8, 4))
    settings = settings_with(readme_objectives(), timezone="UTC")
    values = compute_key_results(session, settings, now=NOW)
    by_key = {v.key_result: v for v in values if v.is_total}
    by_key["objective"] = objective_scores(values, settings)[0]  # type: ignore[assignment]
    return by_key


DEFAULTS = {"new-logos": 24, "cycle": 28, "revenue": 360_000}
ARGUMENT = {"new-logos": "logos", "cycle": "days", "revenue": "revenue"}


@pytest.mark.parametrize("row", ROWS, ids=lambda row: f"{row[0]}-{row[1]}")
def test_each_row_of_the_readme_table(session: Session, row: tuple[str, Decimal, float, float, str]) -> None:
    key, number, percent, score, status = row
    counts = {ARGUMENT[k]: int(number) if k == key else v for k, v in DEFAULTS.items()}
    value = _org(session, **counts)[key]

    assert value.value == number
    assert value.expected == 0.5
    assert value.progress_pct == pytest.approx(percent, abs=0.05)
    digits = len(str(score).split(".")[1])  # the README shows 0.175, 0.28, 0.304…
    assert round(value.score or 0, digits) == pytest.approx(score)
    assert value.status == status


def test_the_objective_scores_the_mean_the_readme_gives(session: Session) -> None:
    values = _org(session, logos=24, days=28, revenue=360_000)
    assert (values["new-logos"].score, values["cycle"].score) == pytest.approx((0.42, 0.82))
    assert values["revenue"].score == pytest.approx(0.80)
    assert values["objective"].score == pytest.approx(0.68)  # type: ignore[attr-defined]
    assert values["revenue"].target == Decimal("345000.00")
    assert values["cycle"].direction == "decrease"
    assert values["new-logos"].attribute("confidence") == 0.5
    assert values["cycle"].attribute("confidence") is None


# ---------------------------------------------------------------- the rules behind the table


def _kr(**fields: Any) -> KeyResult:
    metric = fields.pop("metric", {"kind": "count", "stream": "deals", "where": {"is_won": True}})
    return KeyResult.model_validate({"key": "kr", "metric": metric, **fields})


def test_without_a_stretch_aspirational_is_done_at_70_percent_and_committed_at_the_target() -> None:
    # README: "an aspirational new-logos without `stretch:` is `done` at 28 logos (score 0.70), a
    # committed one at 40".
    def graded(value: int, type_: Any) -> scoring.Grade:
        return scoring.grade(
            Decimal(value),
            start=Decimal(0),
            target=Decimal(40),
            direction_="increase",
            expected=0.5,
            type_=type_,
        )

    assert graded(28, "aspirational") == scoring.Grade(0.7, 0.7, "done")
    assert graded(27, "aspirational").status == "on_track"  # 0.675 ≥ 0.35
    assert graded(28, "committed") == scoring.Grade(0.7, 0.7, "on_track")
    assert graded(40, "committed") == scoring.Grade(1.0, 1.0, "done")


def test_a_stretch_scores_0_7_at_the_target_and_1_at_the_stretch_for_both_types() -> None:
    for type_ in ("committed", "aspirational"):
        at = scoring.grade(
            Decimal(40),
            start=Decimal(0),
            target=Decimal(40),
            direction_="increase",
            expected=0.5,
            stretch=Decimal(60),
            type_=type_,  # type: ignore[arg-type]
        )
        assert at == scoring.Grade(1.0, 0.7, "done")


def test_a_stretch_on_the_wrong_side_is_ignored() -> None:
    wrong = scoring.grade(
        Decimal(50),
        start=Decimal(0),
        target=Decimal(40),
        direction_="increase",
        expected=0.5,
        stretch=Decimal(30),
    )
    assert wrong.score == 1.0  # scored as without a stretch (validate refuses it anyway)


def test_the_type_of_a_key_result_overrides_its_objectives() -> None:
    kr = {"key": "k", "metric": {"kind": "count", "stream": "deals"}, "target": 1}
    aspirational = Objective.model_validate({"key": "o", "type": "aspirational", "key_results": [kr]})
    plain = Objective.model_validate({"key": "o", "key_results": [kr]})
    assert scoring.okr_type(aspirational, _kr(target=1)) == "aspirational"
    assert scoring.okr_type(aspirational, _kr(target=1, type="committed")) == "committed"
    assert scoring.okr_type(plain, _kr(target=1)) == "committed"


def test_the_stretch_decides_the_direction_when_last_period_is_the_baseline() -> None:
    # Sales cycle to 30 days, stretch 25, over last quarter's 28: the target is above the
    # baseline, but lower is better; without the stretch the direction would read "increase".
    kr = _kr(
        metric={"kind": "avg_days", "stream": "deals", "from": "created_at", "to": "close_date"},
        baseline="previous_period",
        target=30,
        stretch=25,
    )
    total = scoring.total_goal(kr, Decimal(28))
    assert total == Goal(Decimal(28), Decimal(30), Decimal(25))
    assert scoring.direction(kr, total) == "decrease"


ANA = ("owner", "ana@example.com")


def _group(
    kr: KeyResult, *, previous_total: Decimal | None, previous: Decimal | None, owners: int = 4
) -> Goal:
    total = scoring.total_goal(kr, previous_total)
    goal = scoring.group_goal(kr, total, ANA, previous=previous, owners=owners)
    return scoring.stretched(kr, total, ANA, goal, previous=previous, owners=owners)


def test_an_even_split_splits_the_stretch_too() -> None:
    kr = _kr(target=40, stretch=60, group_by="owner", owner_targets="even")
    assert _group(kr, previous_total=None, previous=None) == Goal(None, Decimal(10), Decimal(15))


def test_a_relative_stretch_grows_each_groups_own_baseline() -> None:
    kr = _kr(baseline="previous_period", target="+15%", stretch="+30%", group_by="owner")
    goal = _group(kr, previous_total=Decimal(300_000), previous=Decimal(100_000))
    assert goal == Goal(Decimal(100_000), Decimal("115000.00"), Decimal("130000.0"))


def test_a_listed_rep_gets_their_number_times_stretch_over_target() -> None:
    kr = _kr(target=40, stretch=60, group_by="owner", owner_targets={"ana@example.com": 12})
    assert _group(kr, previous_total=None, previous=None) == Goal(None, Decimal(12), Decimal(18))


def test_an_absolute_stretch_belongs_to_the_total_only() -> None:
    kr = _kr(target=40, stretch=60, group_by="owner")
    assert _group(kr, previous_total=None, previous=None) == Goal(None, None, None)
