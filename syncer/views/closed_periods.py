"""What people see of closed periods (README "Closing a period"): `okrsync run`'s summary,
`okrsync status`, the status page and the report.

A period is named as `okrsync period reopen` takes it (`syncer.closing.period_label`). Late data
(records of a frozen period changed since the freeze) is shown with the command that takes it in,
never absorbed silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from html import escape

from rich.console import Console, Group

from syncer.closing import ClosingReport, PeriodState
from syncer.views.tables import Column, fitted_table
from syncer.views.terminal import joined, plain

COLUMNS = tuple(Column(name) for name in ("objective", "period", "state", "score", "late data"))
REOPEN = "okrsync period reopen -c FILE {label}"


def _state(state: PeriodState, zone: tzinfo) -> str:
    if state.frozen_at is not None:
        return f"frozen {state.frozen_at.astimezone(zone):%Y-%m-%d}"
    return f"closing until {state.closes_at.astimezone(zone):%Y-%m-%d %H:%M}"


def _late(state: PeriodState) -> str:
    if not state.late_records:
        return ""
    noun = "record" if state.late_records == 1 else "records"
    return f"{state.late_records} {noun} changed since frozen: {REOPEN.format(label=state.label)}"


def _score(state: PeriodState) -> str:
    return "—" if state.score is None else f"{state.score:.2f}"


def console_table(states: Sequence[PeriodState], *, zone: tzinfo) -> Group:
    """`okrsync status`: each closed period, closing or frozen, its score and late data."""
    rows = [(s.objective, s.label, _state(s, zone), _score(s), plain(_late(s), "yellow")) for s in states]
    return fitted_table("Closed periods", COLUMNS, rows)


def print_cycle_lines(console: Console, report: ClosingReport) -> None:
    """`okrsync run`: what closed or froze in this cycle, and late data after close."""
    for state in report.frozen:
        line = f"froze {state.objective} {state.label}: final score {_score(state)}"
        console.print(line, highlight=False, markup=False)
    for state in report.late:
        line = f"late data after close: {state.objective} {state.label}: {_late(state)}"
        console.print(joined([(line, "yellow")]), highlight=False)


def html_section(states: Sequence[PeriodState], *, zone: tzinfo) -> str:
    """The page's list of closed periods (nothing before the first period ends)."""
    if not states:
        return ""
    rows = "".join(
        f"<tr><td>{escape(s.objective)}</td><td>{escape(s.label)}</td>"
        f"<td>{escape(s.period.start.isoformat())} – {escape(s.period.end.isoformat())}</td>"
        f"<td>{escape(_state(s, zone))}</td><td>{escape(_score(s))}</td>"
        f'<td class="{"error" if s.late_records else ""}">{escape(_late(s))}</td></tr>'
        for s in states
    )
    return (
        '<section id="closed-periods"><h2>Closed periods</h2><p class="muted">An ended period is '
        "recomputed until its close_after has passed, then its final values are frozen. Records of "
        "a frozen period changed later are counted as late data, not taken in.</p>"
        "<table><thead><tr><th>objective</th><th>period</th><th>days</th><th>state</th><th>score</th>"
        f"<th>late data</th></tr></thead><tbody>{rows}</tbody></table></section>"
    )
