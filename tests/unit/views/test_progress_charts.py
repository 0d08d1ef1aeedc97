"""The progress charts of `okrsync report` (the status page draws the same): legend, value axis,
the value now at today, the pace line, and running totals per day. Through the CLI, from a store
whose records and snapshots agree (tests/unit/views/conftest.py)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from xml.etree import ElementTree

from tests.unit.views.conftest import Report, elements, quarter_start

MONEY_SUM = "sales.revenue"  # 7 deals, USD 91,000 of USD 100,000
COUNT = "sales.deals"  # 7 of 40
AVERAGE = "sales.cycle"  # days from creation to close, 75 → 60
RATE = "sales.renewal-rate"  # 3 renewed of 4: 75 %, target 85 %
FIRST_DAY = "launch.calls"  # a period that starts today: 5 calls of 300
EVERY_CHART = (MONEY_SUM, COUNT, AVERAGE, RATE, FIRST_DAY)


def day_label(day: date) -> str:
    return f"{day:%b} {day.day}"


class Plot:
    """A progress chart's drawn geometry, read back from its SVG."""

    def __init__(self, svg: ElementTree.Element) -> None:
        self.svg = svg
        axis = [
            e
            for e in elements(svg, "line")
            if e.get("class") is None and e.get("y1") == e.get("y2") and e.get("stroke") == "#57606a"
        ]
        self.left, self.right = float(axis[0].get("x1", 0)), float(axis[0].get("x2", 0))
        self.base = float(axis[0].get("y1", 0))

    def x_at_end_of(self, day: date, start: date, days: int) -> float:
        return self.left + ((day - start).days + 1) / days * (self.right - self.left)

    def points(self) -> list[tuple[float, float]]:
        [line] = elements(self.svg, "polyline", "value")
        return [(float(x), float(y)) for x, y in (p.split(",") for p in line.get("points", "").split())]

    def last_dot(self) -> tuple[float, float]:
        dot = elements(self.svg, "circle")[-1]
        return float(dot.get("cx", 0)), float(dot.get("cy", 0))

    def today_x(self) -> float:
        [line] = elements(self.svg, "line", "today")
        return float(line.get("x1", 0))

    def ticks(self) -> list[str]:
        return [t.text or "" for t in elements(self.svg, "text", "tick")]

    def caption(self) -> str | None:
        found = elements(self.svg, "text", "unit")
        return found[0].text if found else None


def test_each_chart_has_a_legend_naming_its_lines_with_their_values(report: Report) -> None:
    today = day_label(report.today)
    legend = report.legend(MONEY_SUM)
    assert "Value now: USD 91k" in legend
    assert "Target: USD 100k" in legend
    assert "Pace: USD" in legend
    assert "expected by today" in legend
    assert f"Today: {today}" in legend
    assert "Value now: 7 " in report.legend(COUNT) + " "
    assert "Target: 40 " in report.legend(COUNT) + " "
    rate = report.legend(RATE)
    assert "Value now: 75 %" in rate
    assert "Target: 85 %" in rate
    assert f"Today: {today}" in rate
    assert "Target: 60 days" in report.legend(AVERAGE)


def test_pace_in_the_legend_is_where_the_pace_line_crosses_today(report: Report) -> None:
    start = quarter_start(report.today)
    end = date(start.year + start.month // 10, (start.month + 2) % 12 + 1, 1) - timedelta(days=1)
    days = (end - start).days + 1
    expected = 100000 * ((report.today - start).days + 1) / days  # from 0 to the target at the end
    shown = report.legend(MONEY_SUM).split("Pace: USD ")[1].split()[0]
    number = float(shown.rstrip("k")) * (1000 if shown.endswith("k") else 1)
    assert abs(number - expected) <= max(expected * 0.005, 0.01)


def test_value_axis_has_four_to_six_nice_ticks_labelled_in_the_unit(report: Report) -> None:
    money, count = Plot(report.chart(MONEY_SUM)), Plot(report.chart(COUNT))
    assert money.ticks() == ["0", "20k", "40k", "60k", "80k", "100k"]
    assert money.caption() == "USD"
    assert count.ticks() == ["0", "10", "20", "30", "40"]
    assert count.caption() is None  # a count needs no unit
    assert Plot(report.chart(RATE)).ticks() == ["0 %", "20 %", "40 %", "60 %", "80 %", "100 %"]
    average = Plot(report.chart(AVERAGE))
    assert average.ticks() == ["0", "20", "40", "60", "80"]
    assert average.caption() == "days"
    for key in EVERY_CHART:
        grid = [float(line.get("y1", 0)) for line in elements(report.chart(key), "line", "grid")]
        assert 4 <= len(grid) <= 6, key
        gaps = [a - b for a, b in itertools.pairwise(grid)]
        assert max(gaps) - min(gaps) <= 0.2, f"{key}: ticks unevenly spaced {grid}"


def test_the_value_now_is_drawn_on_the_today_line_where_today_ends(report: Report) -> None:
    start = quarter_start(report.today)
    end = date(start.year + start.month // 10, (start.month + 2) % 12 + 1, 1) - timedelta(days=1)
    for key in (MONEY_SUM, COUNT, AVERAGE, RATE):
        plot = Plot(report.chart(key))
        x, _ = plot.last_dot()
        expected = plot.x_at_end_of(report.today, start, (end - start).days + 1)
        assert abs(x - expected) <= 0.15, key
        assert abs(plot.today_x() - expected) <= 0.15, key
        assert plot.points()[-1][0] == x, f"{key}: the line ends at the value now"


def test_weekly_snapshots_of_a_rate_end_at_the_value_now(report: Report) -> None:
    """Two snapshots, a week apart: two points, the last at today and at 75 %."""
    plot = Plot(report.chart(RATE))
    points = plot.points()
    assert len(points) == 2
    assert points[0][0] < points[1][0] == plot.today_x()
    top = float(elements(report.chart(RATE), "line", "grid")[-1].get("y1", 0))  # 100 %
    assert abs(points[1][1] - (plot.base + 0.75 * (top - plot.base))) <= 0.15


def test_rates_and_averages_have_a_target_line_and_no_pace_line(report: Report) -> None:
    for key in (RATE, AVERAGE):
        chart = report.chart(key)
        assert elements(chart, "line", "target"), key
        assert not elements(chart, "line", "pace"), key
        assert "Pace" not in report.legend(key)
    for key in (MONEY_SUM, COUNT):
        plot = Plot(report.chart(key))
        [pace] = elements(plot.svg, "line", "pace")
        [target] = elements(plot.svg, "line", "target")
        assert float(pace.get("y1", 0)) == plot.base  # from 0 where the period starts
        assert pace.get("y2") == target.get("y1")  # to the target where it ends
        assert float(pace.get("x2", 0)) == plot.right


def test_a_count_or_sum_is_a_running_total_per_day_from_the_records_dates(report: Report) -> None:
    start = quarter_start(report.today)
    for key in (MONEY_SUM, COUNT):
        plot = Plot(report.chart(key))
        points = plot.points()
        assert len(points) == (report.today - start).days + 2, key  # 0 at the start, then each day
        assert points[0] == (plot.left, plot.base)
        xs, ys = [x for x, _ in points], [y for _, y in points]
        assert xs == sorted(xs)
        assert len(set(xs)) == len(xs)
        assert ys == sorted(ys, reverse=True), f"{key}: a running total never falls"
    money = Plot(report.chart(MONEY_SUM))
    top = float(elements(money.svg, "line", "grid")[-1].get("y1", 0))  # 100k
    assert abs(money.points()[-1][1] - (money.base + 0.91 * (top - money.base))) <= 0.15


def test_the_first_day_of_a_period_already_draws_a_line(report: Report) -> None:
    plot = Plot(report.chart(FIRST_DAY))
    (x0, y0), (x1, y1) = plot.points()
    assert (x0, y0) == (plot.left, plot.base)
    assert x1 == plot.today_x() == plot.x_at_end_of(report.today, report.today, 90)
    assert y1 < y0  # 5 calls today
    assert "Value now: 5 " in report.legend(FIRST_DAY) + " "
