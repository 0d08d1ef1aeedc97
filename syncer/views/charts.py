"""SVG charts drawn in Python for the status page and the e-mailed report.

Every chart function returns a self-contained `<svg>` string: no script, no external reference,
so the same markup works in a browser and in a mail client. All text passes through `html.escape`.
Charts scale to their container (`width="100%"` with a viewBox and a max-width), so the report
reads at 600 px, an e-mail client's width, without scrolling sideways.

A progress chart's time axis is in whole days: a value "at" day d is the value by the end of d,
drawn where d ends. So today's value sits on the today line, and a burn-up that starts at 0 where
the period starts is already a line on its first day.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from html import escape

from syncer.rollup.periods import add_months
from syncer.views import units
from syncer.views.units import SUFFIXES, Unit

# Colours per status (GitHub's Primer palette: readable on white, distinct for colour-blind readers).
STATUS_COLOURS = {
    "done": "#1a7f37",
    "on_track": "#2da44e",
    "at_risk": "#bf8700",
    "off_track": "#cf222e",
}
NO_STATUS_COLOUR = "#8c959f"
VALUE_COLOUR = "#0969da"
PACE_COLOUR = "#8c959f"
TARGET_COLOUR = "#8250df"
TODAY_COLOUR = "#57606a"
GRID_COLOUR = "#eaeef2"
AXIS_COLOUR = "#57606a"
PACE_DASHES = "6 4"
TODAY_DASHES = "2 3"
NICE_STEPS = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5))  # × 10^n
MOST_TICKS = 6
WIDEST_BAR = 48
MONTH_LABELS_AT_MOST = 6  # more month starts than this (a year) label every third month


def status_colour(status: str | None) -> str:
    return STATUS_COLOURS.get(status or "", NO_STATUS_COLOUR)


@dataclass(frozen=True, slots=True)
class ProgressChart:
    """What a progress chart shows: a key result's values over its period, its target and pace.

    `points` are (day, value by the end of that day): a burn-up's running totals, or weekly
    snapshots. Points from today on are replaced by `value` at today, the value the page shows
    now. `origin` is the value where the period starts (0 for a burn-up), drawn at its left edge.
    `pace_from` starts the pace line (from there to the target at the period's end); None draws
    none, as for a rate or an average, where a straight line from a start value means nothing.
    """

    title: str
    period_start: date
    period_end: date
    target: Decimal | None
    value: Decimal | None
    points: Sequence[tuple[date, Decimal | None]]
    unit: Unit = units.PLAIN
    pace_from: Decimal | None = None
    origin: Decimal | None = None
    today: date | None = None
    daily: bool = False  # one point per day: a line without a dot per point

    @property
    def days(self) -> int:
        return (self.period_end - self.period_start).days + 1

    @property
    def last_day(self) -> date:
        """The day the value now is drawn at: today, within the period."""
        if self.today is None:
            return self.period_end
        return min(max(self.today, self.period_start), self.period_end)

    def share(self, day: date) -> float:
        """Where the end of `day` falls on the time axis, 0 to 1."""
        return min(max(((day - self.period_start).days + 1) / self.days, 0.0), 1.0)

    @property
    def shows_today(self) -> bool:
        return self.today is not None and self.period_start <= self.today <= self.period_end

    def plotted(self) -> list[tuple[float, Decimal]]:
        """(share of the period, value) of every point drawn, the value now last, at today."""
        last = self.last_day
        drawn = [] if self.origin is None else [(0.0, self.origin)]
        drawn += [(self.share(day), v) for day, v in self.points if v is not None and day < last]
        if self.value is not None:
            drawn.append((self.share(last), self.value))
        elif self.points and self.points[-1][1] is not None and self.points[-1][0] >= last:
            drawn.append((self.share(last), self.points[-1][1]))  # no value now: the latest known
        return drawn

    def expected_now(self) -> Decimal | None:
        """Where the pace line is at the end of today; None without a pace line."""
        if self.pace_from is None or self.target is None:
            return None
        share = Decimal(repr(self.share(self.last_day)))
        return self.pace_from + (self.target - self.pace_from) * share


@dataclass(frozen=True, slots=True)
class Frame:
    """The plot area inside the SVG: its size and margins, in viewBox units."""

    width: int = 560
    height: int = 220
    left: int = 58
    right: int = 16
    top: int = 28
    bottom: int = 28

    def x(self, share: float) -> float:
        return round(self.left + share * (self.width - self.left - self.right), 1)

    def y(self, share: float) -> float:
        return round(self.height - self.bottom - share * (self.height - self.top - self.bottom), 1)


def nice_ticks(low: Decimal, high: Decimal, *, most: int = MOST_TICKS) -> list[Decimal]:
    """Ticks from at or below `low` to at or above `high`, a step of 1, 2, 2.5 or 5 × 10^n apart.

    The smallest such step that needs at most `most` ticks: 0–1.85M gives 0, 500k … 2M; 0–0.85
    gives 0, 0.2 … 1. An empty range (both 0) spans 0 to 1.
    """
    if high <= low:
        high = low + (abs(low) or Decimal(1))
    magnitude = Decimal(10) ** ((high - low).adjusted() - 1)
    for power in range(4):
        for base in NICE_STEPS:
            step = base * magnitude * Decimal(10) ** power
            first, last = _floor(low / step), -_floor(-high / step)
            if last - first + 1 <= most:
                return [(first + n) * step for n in range(last - first + 1)]
    raise AssertionError("unreachable: a step of 10^(n+2) covers any range of order 10^n")


def _floor(number: Decimal) -> int:
    return int(number.to_integral_value(rounding="ROUND_FLOOR"))


def progress_chart(chart: ProgressChart, frame: Frame = Frame()) -> str:
    """A line chart: values (blue), the pace line (grey dashes), the target (purple), today (dots)."""
    drawn = chart.plotted()
    numbers = [value for _, value in drawn]
    numbers += [n for n in (chart.target, chart.pace_from) if n is not None]
    ticks = nice_ticks(min([Decimal(0), *numbers]), max([Decimal(0), *numbers]))
    low, span = ticks[0], float(ticks[-1] - ticks[0])

    def y(value: Decimal) -> float:
        return frame.y(float(value - low) / span)

    parts = [_value_axis(frame, ticks, chart.unit, y), _time_axis(frame, chart)]
    if chart.target is not None:
        parts.append(_target_line(frame, y(chart.target)))
    if chart.pace_from is not None and chart.target is not None:
        parts.append(
            f'<line class="pace" x1="{frame.x(0)}" y1="{y(chart.pace_from)}" x2="{frame.x(1)}" '
            f'y2="{y(chart.target)}" stroke="{PACE_COLOUR}" stroke-width="1.5" stroke-dasharray="{PACE_DASHES}"/>'
        )
    if chart.shows_today:
        parts.append(_today_line(frame, frame.x(chart.share(chart.last_day))))
    parts.append(_values(chart, [(frame.x(share), y(value)) for share, value in drawn], drawn[-1:]))
    return _svg(frame, chart.title, "progress-chart", "".join(parts))


def _values(chart: ProgressChart, points: list[tuple[float, float]], now: list[tuple[float, Decimal]]) -> str:
    """The value line, a dot per week (a daily burn-up has too many), and the value now, larger."""
    if not points:
        return ""
    [(_, value)] = now
    path = " ".join(f"{x},{y}" for x, y in points)
    dots = [] if chart.daily else points[1 if chart.origin is not None else 0 : -1]
    now_x, now_y = points[-1]
    return (
        f'<polyline class="value" points="{path}" fill="none" stroke="{VALUE_COLOUR}" '
        f'stroke-width="2.5" stroke-linejoin="round"/>'
        + "".join(f'<circle cx="{x}" cy="{y}" r="3" fill="{VALUE_COLOUR}"/>' for x, y in dots)
        + f'<circle class="now" cx="{now_x}" cy="{now_y}" r="5" fill="{VALUE_COLOUR}" stroke="#ffffff" '
        f'stroke-width="1.5"><title>{escape(units.full(value, chart.unit))}</title></circle>'
    )


def _target_line(frame: Frame, y: float) -> str:
    return (
        f'<line class="target" x1="{frame.x(0)}" y1="{y}" x2="{frame.x(1)}" y2="{y}" '
        f'stroke="{TARGET_COLOUR}" stroke-width="1.5"/>'
    )


def _today_line(frame: Frame, x: float) -> str:
    return (
        f'<line class="today" x1="{x}" y1="{frame.y(0)}" x2="{x}" y2="{frame.y(1)}" stroke="{TODAY_COLOUR}" '
        f'stroke-width="1" stroke-dasharray="{TODAY_DASHES}"/>'
        + _text(x, frame.top - 6, "today", anchor="middle")
    )


def _value_axis(frame: Frame, ticks: Sequence[Decimal], unit: Unit, place: Callable[[Decimal], float]) -> str:
    """Gridlines and labels at each tick, and the unit's caption (USD, days) above them."""
    labels = units.axis_labels(ticks, unit)
    parts = []
    for tick, label in zip(ticks, labels, strict=True):
        at = place(tick)
        parts.append(
            f'<line class="grid" x1="{frame.x(0)}" y1="{at}" x2="{frame.x(1)}" y2="{at}" stroke="{GRID_COLOUR}"/>'
        )
        parts.append(_text(frame.left - 6, at + 4, label, anchor="end", css_class="tick"))
    if unit.caption:
        parts.append(_text(frame.left - 6, frame.top - 12, unit.caption, anchor="end", css_class="unit"))
    base = frame.y(0)
    parts.append(
        f'<line x1="{frame.x(0)}" y1="{base}" x2="{frame.x(1)}" y2="{base}" stroke="{AXIS_COLOUR}"/>'
        f'<line x1="{frame.x(0)}" y1="{base}" x2="{frame.x(0)}" y2="{frame.y(1)}" stroke="{AXIS_COLOUR}"/>'
    )
    return "".join(parts)


def _time_axis(frame: Frame, chart: ProgressChart) -> str:
    """The period's first day, the first of each month in it, and its last day, as "Oct 1"."""
    months = _month_starts(chart.period_start, chart.period_end)
    if len(months) > MONTH_LABELS_AT_MOST:
        months = months[2::3]
    at_start = _text(frame.x(0), frame.height - 8, _day(chart.period_start), anchor="start")
    at_end = _text(frame.x(1), frame.height - 8, _day(chart.period_end), anchor="end")
    inside = [
        _text(frame.x(chart.share(month - timedelta(days=1))), frame.height - 8, _day(month), anchor="middle")
        for month in months
        if 0.12 < chart.share(month - timedelta(days=1)) < 0.88  # clear of the labels at both ends
    ]
    return at_start + "".join(inside) + at_end


def _month_starts(start: date, end: date) -> list[date]:
    found, month = [], date(start.year, start.month, 1)
    while month <= end:
        if month > start:
            found.append(month)
        month = add_months(month, 1)
    return found


def _day(day: date) -> str:
    return f"{day:%b} {day.day}"


def legend(chart: ProgressChart) -> str:
    """The chart's key, in HTML under it (it wraps at any width): each line named, with its value."""
    items = [
        _legend_item(
            "value", f"3px solid {VALUE_COLOUR}", f"Value now: {units.short(chart.value, chart.unit)}"
        )
    ]
    if chart.target is not None:
        items.append(
            _legend_item(
                "target", f"2px solid {TARGET_COLOUR}", f"Target: {units.short(chart.target, chart.unit)}"
            )
        )
    expected = chart.expected_now()
    if expected is not None:
        items.append(
            _legend_item(
                "pace",
                f"2px dashed {PACE_COLOUR}",
                f"Pace: {units.short(expected, chart.unit)} expected by today",
            )
        )
    if chart.shows_today and chart.today is not None:
        items.append(_legend_item("today", f"2px dotted {TODAY_COLOUR}", f"Today: {_day(chart.today)}"))
    return f'<ul class="legend" style="list-style:none;margin:4px 0 0;padding:0">{"".join(items)}</ul>'


def _legend_item(css_class: str, line: str, text: str) -> str:
    # Inline styles: a mail client may drop the page's <style>, and the key must still show.
    return (
        f'<li class="legend-{css_class}" style="display:inline-block;margin:0 14px 2px 0;white-space:nowrap">'
        f'<span style="display:inline-block;width:20px;vertical-align:middle;margin-right:5px;border-top:{line}">'
        f"</span>{escape(text)}</li>"
    )


def progress_figure(chart: ProgressChart, frame: Frame = Frame()) -> str:
    """The chart and its legend, as the status page and the report show them."""
    return f'<figure class="chart">{progress_chart(chart, frame)}{legend(chart)}</figure>'


def bar_chart(title: str, bars: Sequence[tuple[str, float]], frame: Frame = Frame(height=180)) -> str:
    """Vertical bars, one per (label, number), e.g. API calls per run, oldest on the left."""
    ticks = nice_ticks(Decimal(0), Decimal(str(max((n for _, n in bars), default=0.0))))
    high = float(ticks[-1])
    parts = [_value_axis(frame, ticks, units.COUNT, lambda tick: frame.y(float(tick) / high))]
    slot = 1 / max(len(bars), 1)
    for index, (label, number) in enumerate(bars):
        width = min(frame.x(slot * 0.7) - frame.x(0), WIDEST_BAR)  # one run is a bar, not a wall
        x = round((frame.x(index * slot) + frame.x((index + 1) * slot)) / 2 - width / 2, 1)
        top = frame.y(number / high)
        parts.append(
            f'<rect class="bar" x="{x}" y="{top}" width="{round(width, 1)}" height="{round(frame.y(0) - top, 1)}" '
            f'fill="{VALUE_COLOUR}"><title>{escape(label)}: {short_number(Decimal(str(number)))}</title></rect>'
        )
        parts.append(_text(x + width / 2, frame.height - 8, label, anchor="middle"))
    return _svg(frame, title, "bar-chart", "".join(parts))


def progress_bar(progress: float | None, status: str | None, *, width: int = 160) -> str:
    """A horizontal bar filled to the progress (capped at 100 %), in the status colour.

    It stretches to any CSS width (a narrow page draws it shorter) and keeps its height."""
    share = min(max(progress or 0.0, 0.0), 1.0)
    label = "no progress yet" if progress is None else f"{progress * 100:.0f} %"
    return (
        f'<svg class="progress-bar" xmlns="http://www.w3.org/2000/svg" width="{width}" height="12" '
        f'viewBox="0 0 {width} 12" preserveAspectRatio="none" role="img" aria-label="{escape(label)}">'
        f'<rect width="{width}" height="12" rx="3" fill="#eaeef2"/>'
        f'<rect width="{round(share * width, 1)}" height="12" rx="3" fill="{status_colour(status)}"/></svg>'
    )


def short_number(number: Decimal | float | None) -> str:
    """1234567 → 1.2M, 412000 → 412k, 0.85 → 0.85: a bar's tooltip stays short."""
    if number is None:
        return "—"
    value = float(number)
    for limit, suffix in SUFFIXES:
        if abs(value) >= limit:
            return f"{value / float(limit):.3g}{suffix}"
    return f"{value:.3g}"


def _text(x: float, y: float, text: str, *, anchor: str, css_class: str | None = None) -> str:
    attribute = f' class="{css_class}"' if css_class else ""
    return (
        f'<text{attribute} x="{round(x, 1)}" y="{round(y, 1)}" font-size="11" fill="#57606a" '
        f'font-family="system-ui,sans-serif" text-anchor="{anchor}">{escape(text)}</text>'
    )


def _svg(frame: Frame, title: str, css_class: str, body: str) -> str:
    # width 100 % of the container up to the drawn size, height from the viewBox's ratio: the
    # chart shrinks with a narrow window or mail client instead of pushing the page wider.
    return (
        f'<svg class="{css_class}" xmlns="http://www.w3.org/2000/svg" width="100%" '
        f'viewBox="0 0 {frame.width} {frame.height}" preserveAspectRatio="xMidYMid meet" '
        f'style="display:block;width:100%;max-width:{frame.width}px;height:auto" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f'<rect width="{frame.width}" height="{frame.height}" fill="#ffffff"/>{body}</svg>'
    )
