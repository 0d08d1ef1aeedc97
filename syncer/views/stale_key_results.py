"""What ops see of stale key results (their data did not arrive): `status`, the report and page.

A stale key result is not snapshotted and not written, so what is shown for it is its last good
value (if it ever had one), marked stale with the source, the stream and the reason. Every text
here may come from a CRM (an error message): the console gets rich `Text`, the page escapes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from rich.console import Group

from syncer.staleness import StaleKeyResult
from syncer.views.tables import Column, fitted_table
from syncer.views.terminal import plain

STALE_COLOUR = "#8250df"  # neither a progress colour nor an error red: the number is unknown


def stale_of(stale: Sequence[StaleKeyResult], objective: str, key_result: str) -> list[StaleKeyResult]:
    return [s for s in stale if (s.objective, s.key_result) == (objective, key_result)]


def console_table(stale: Sequence[StaleKeyResult]) -> Group:
    """`okrsync status`: each stale key result with the stream that holds it back and why."""
    title = "Stale key results: not written, their CRM fields keep the last good values"
    rows = [
        (
            s.key,
            s.source,
            s.stream,
            plain("never completed a pull" if s.error is None else s.error, "magenta"),
            f"{s.last_good_at:%Y-%m-%d %H:%M}" if s.last_good_at else "never",
        )
        for s in stale
    ]
    columns = [Column(name) for name in ("key result", "source", "stream", "reason", "last good pull")]
    return fitted_table(title, columns, rows)


def html_badge() -> str:
    return f'<span class="badge" style="background:{STALE_COLOUR}">stale</span>'


def html_note(stale: Sequence[StaleKeyResult]) -> str:
    """Under a key result: why its number is not current."""
    if not stale:
        return ""
    reasons = "; ".join(escape(s.explanation) for s in stale)
    return (
        f'<p class="stale">{html_badge()} not updated: {reasons}. '
        "The number shown is the last good one; nothing was written to the CRM.</p>"
    )


def html_section(stale: Sequence[StaleKeyResult]) -> str:
    """The page's list of stale key results (also those that never had a good value)."""
    if not stale:
        return ""
    rows = "".join(
        f"<tr><td>{escape(s.key)}</td><td>{escape(s.source)}</td><td>{escape(s.stream)}</td>"
        f"<td>{escape(s.reason.replace('_', ' '))}</td><td class=error>{escape(s.error or '')}</td>"
        f"<td>{escape(f'{s.last_good_at:%Y-%m-%d %H:%M} UTC' if s.last_good_at else 'never')}</td></tr>"
        for s in stale
    )
    return (
        '<section id="stale"><h2>Stale key results</h2><p class="muted">Not written: a stream they read '
        "failed or never completed a pull. Their CRM fields keep the last good values.</p>"
        "<table><thead><tr><th>key result</th><th>source</th><th>stream</th><th>reason</th>"
        f"<th>error</th><th>last good pull</th></tr></thead><tbody>{rows}</tbody></table></section>"
    )
