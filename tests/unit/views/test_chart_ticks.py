"""A chart's value axis: nice ticks (1, 2, 2.5 or 5 × 10^n apart) and their labels in the unit."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

import pytest

from syncer.views import units
from syncer.views.charts import ProgressChart, nice_ticks, progress_chart
from syncer.views.units import Unit

NICE = {Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5)}


@pytest.mark.parametrize(
    "high",
    [
        "0.0123",
        "0.85",
        "1",
        "1.05",
        "7",
        "9.99",
        "10",
        "40",
        "75",
        "101",
        "151",
        "999",
        "91000",
        "1852774.36",
        "3e9",
    ],
)
def test_four_to_six_nice_ticks_cover_the_range_from_zero(high: str) -> None:
    ticks = nice_ticks(Decimal(0), Decimal(high))
    assert 4 <= len(ticks) <= 6
    assert ticks[0] == 0
    assert ticks[-1] >= Decimal(high)
    steps = {b - a for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1
    [step] = steps
    assert step.scaleb(-step.adjusted()).normalize() in NICE  # its leading digits: 1, 2, 2.5 or 5


def test_ticks_reach_below_zero_and_an_empty_range_still_has_an_axis() -> None:
    assert nice_ticks(Decimal(-3), Decimal(7)) == [-5, Decimal("-2.5"), 0, Decimal("2.5"), 5, Decimal("7.5")]
    assert nice_ticks(Decimal(0), Decimal(0))[-1] == 1


def test_money_ticks_shorten_to_the_largest_suffix_the_step_allows() -> None:
    usd = Unit("money", "USD")
    assert units.axis_labels(nice_ticks(Decimal(0), Decimal("1852774.36")), usd) == [
        "0",
        "0.5M",
        "1.0M",
        "1.5M",
        "2.0M",
    ]
    assert units.axis_labels([Decimal(n * 250_000) for n in range(5)], usd) == [
        "0",
        "250k",
        "500k",
        "750k",
        "1,000k",
    ]
    assert usd.caption == "USD"


def test_every_tick_has_the_decimals_of_the_step() -> None:
    ticks = [Decimal(n) / 4 for n in range(5)]
    assert units.axis_labels(ticks, units.PLAIN) == ["0", "0.25", "0.50", "0.75", "1.00"]
    assert units.axis_labels(nice_ticks(Decimal(0), Decimal("0.85")), Unit("percent")) == [
        "0 %",
        "20 %",
        "40 %",
        "60 %",
        "80 %",
        "100 %",
    ]
    assert Unit("days").caption == "days"


def test_a_rate_with_no_value_target_or_point_yet_draws_empty_axes_from_0_to_1() -> None:
    """The first days of a period: no records, and a relative target whose baseline is missing."""
    chart = ProgressChart(
        title="Renewal rate",
        period_start=date(2026, 10, 1),
        period_end=date(2026, 12, 31),
        target=None,
        value=None,
        points=[],
        unit=Unit("percent"),
        today=date(2026, 10, 1),
    )
    svg = progress_chart(chart)
    assert "<polyline" not in svg
    assert [t for t in ("0 %", "100 %") if t in svg] == ["0 %", "100 %"]
