"""SVG charts drawn in Python for the status page and the e-mailed report.

Every function returns a self-contained `<svg>` string: no script, no external reference, so the
same markup works in a browser and in a mail client. All text passes through `html.escape`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from html import escape

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


def status_colour(status: str | None) -> str:
    return STATUS_COLOURS.get(status or "", NO_STATUS_COLOUR)


@dataclass(frozen=True, slots=True)
class ProgressChart:
    """What a weekly-progress chart shows: the weeks' values against the pace line and target."""

    title: str
    period_start: date
    period_end: date
    start_value: Decimal  # where the pace line starts (the value progress counts from)
    target: Decimal | None
    weeks: Sequence[tuple[date, Decimal | None]]
    today: date | None = None


@dataclass(frozen=True, slots=True)
class Frame:
    """The plot area inside the SVG and the value range it maps onto it."""

    width: int = 560
    height: int = 200
    left: int = 64
    right: int = 16
    top: int = 16
    bottom: int = 28

    def x(self, share: float) -> float:
        return round(self.left + share * (self.width - self.left - self.right), 1)

    def y(self, share: float) -> float:
        return round(self.height - self.bottom - share * (self.height - self.top - self.bottom), 1)


def progress_chart(chart: ProgressChart, frame: Frame = Frame()) -> str:
    """A line chart: weekly values (blue), the pace line (grey dashes) and the target (purple)."""
    numbers = [chart.start_value, *(v for _, v in chart.weeks if v is not None)]
    if chart.target is not None:
        numbers.append(chart.target)
    low, high = min(Decimal(0), *numbers), max(numbers)
    span = float(high - low) or 1.0
    days = (chart.period_end - chart.period_start).days or 1

    def point(when: date, value: Decimal) -> tuple[float, float]:
        return frame.x((when - chart.period_start).days / days), frame.y(float(value - low) / span * 0.92)

    parts = [_axes(frame, low, high, chart)]
    if chart.target is not None:
        (x1, y1), (x2, y2) = (
            point(chart.period_start, chart.start_value),
            point(chart.period_end, chart.target),
        )
        parts.append(
            f'<line class="pace" x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{PACE_COLOUR}" '
            f'stroke-width="1.5" stroke-dasharray="6 4"/>'
        )
        _, ty = point(chart.period_start, chart.target)
        parts.append(
            f'<line class="target" x1="{frame.x(0)}" y1="{ty}" x2="{frame.x(1)}" y2="{ty}" '
            f'stroke="{TARGET_COLOUR}" stroke-width="1"/>'
        )
    points = [point(when, value) for when, value in chart.weeks if value is not None]
    if points:
        path = " ".join(f"{x},{y}" for x, y in points)
        parts.append(
            f'<polyline class="value" points="{path}" fill="none" stroke="{VALUE_COLOUR}" stroke-width="2.5"/>'
        )
        parts.extend(f'<circle cx="{x}" cy="{y}" r="3.5" fill="{VALUE_COLOUR}"/>' for x, y in points)
    if chart.today is not None and chart.period_start <= chart.today <= chart.period_end:
        tx = frame.x((chart.today - chart.period_start).days / days)
        parts.append(
            f'<line class="today" x1="{tx}" y1="{frame.y(0)}" x2="{tx}" y2="{frame.y(1)}" '
            f'stroke="#d0d7de" stroke-width="1"/>'
        )
    return _svg(frame, chart.title, "progress-chart", "".join(parts))


def _axes(frame: Frame, low: Decimal, high: Decimal, chart: ProgressChart) -> str:
    base = frame.y(0)
    labels = [
        _text(frame.left - 6, frame.y(0) + 4, short_number(low), anchor="end"),
        _text(frame.left - 6, frame.y(0.92) + 4, short_number(high), anchor="end"),
        _text(frame.x(0), frame.height - 8, chart.period_start.isoformat(), anchor="start"),
        _text(frame.x(1), frame.height - 8, chart.period_end.isoformat(), anchor="end"),
    ]
    return (
        f'<line x1="{frame.x(0)}" y1="{base}" x2="{frame.x(1)}" y2="{base}" stroke="#57606a"/>'
        f'<line x1="{frame.x(0)}" y1="{base}" x2="{frame.x(0)}" y2="{frame.y(1)}" stroke="#57606a"/>'
        + "".join(labels)
    )


def bar_chart(title: str, bars: Sequence[tuple[str, float]], frame: Frame = Frame(height=160)) -> str:
    """Vertical bars, one per (label, number), e.g. API calls per run, oldest on the left."""
    high = max((n for _, n in bars), default=0.0) or 1.0
    slot = 1 / max(len(bars), 1)
    parts = [
        f'<line x1="{frame.x(0)}" y1="{frame.y(0)}" x2="{frame.x(1)}" y2="{frame.y(0)}" stroke="#57606a"/>'
    ]
    parts.append(_text(frame.left - 6, frame.y(0.92) + 4, short_number(Decimal(str(high))), anchor="end"))
    for index, (label, number) in enumerate(bars):
        x, width = frame.x(index * slot + slot * 0.15), frame.x(slot * 0.7) - frame.x(0)
        top = frame.y(number / high * 0.92)
        parts.append(
            f'<rect class="bar" x="{x}" y="{top}" width="{round(width, 1)}" height="{round(frame.y(0) - top, 1)}" '
            f'fill="{VALUE_COLOUR}"><title>{escape(label)}: {short_number(Decimal(str(number)))}</title></rect>'
        )
        parts.append(_text(x + width / 2, frame.height - 8, label, anchor="middle"))
    return _svg(frame, title, "bar-chart", "".join(parts))


def progress_bar(progress: float | None, status: str | None, *, width: int = 160) -> str:
    """A horizontal bar filled to the progress (capped at 100 %), in the status colour."""
    share = min(max(progress or 0.0, 0.0), 1.0)
    label = "no progress yet" if progress is None else f"{progress * 100:.0f} %"
    return (
        f'<svg class="progress-bar" xmlns="http://www.w3.org/2000/svg" width="{width}" height="12" '
        f'viewBox="0 0 {width} 12" role="img" aria-label="{escape(label)}">'
        f'<rect width="{width}" height="12" rx="3" fill="#eaeef2"/>'
        f'<rect width="{round(share * width, 1)}" height="12" rx="3" fill="{status_colour(status)}"/></svg>'
    )


def short_number(number: Decimal | float | None) -> str:
    """1234567 → 1.2M, 412000 → 412k, 0.85 → 0.85: axis labels stay short."""
    if number is None:
        return "—"
    value = float(number)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


def _text(x: float, y: float, text: str, *, anchor: str) -> str:
    return (
        f'<text x="{round(x, 1)}" y="{round(y, 1)}" font-size="11" fill="#57606a" '
        f'text-anchor="{anchor}">{escape(text)}</text>'
    )


def _svg(frame: Frame, title: str, css_class: str, body: str) -> str:
    return (
        f'<svg class="{css_class}" xmlns="http://www.w3.org/2000/svg" width="{frame.width}" '
        f'height="{frame.height}" viewBox="0 0 {frame.width} {frame.height}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f'<rect width="{frame.width}" height="{frame.height}" fill="#ffffff"/>{body}</svg>'
    )
