"""What people see of check-ins: the weekly review's table of values and notes, who and when.

Under each key result on the status page and in the report, and in `okrsync status`: every
check-in of the period, newest first; the one that holds a group's value now is marked, the
ones it superseded stay listed (check-ins are audited: see `syncer.store.checkins`). Notes and
names were typed by people: the page escapes them, the terminal prints them as plain text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from html import escape

from rich.console import Group

from syncer.store.checkins import Checkin
from syncer.views import units
from syncer.views.tables import Column, fitted_table

CONSOLE_COLUMNS = (
    Column("key result"),
    Column("group"),
    Column("value", numeric=True),
    Column("note"),
    Column("who"),
    Column("when", whole=True),
)


def current_ids(checkins: Sequence[Checkin]) -> set[int | None]:
    """The check-ins that hold a value now (`checkins` newest first): the newest with a value,
    per key result and group."""
    seen: set[tuple[str, str]] = set()
    holding: set[int | None] = set()
    for checkin in checkins:
        if checkin.value is not None and (checkin.key, checkin.group_key) not in seen:
            seen.add((checkin.key, checkin.group_key))
            holding.add(checkin.id)
    return holding


def html_table(checkins: Sequence[Checkin], unit: units.Unit, *, zone: tzinfo) -> str:
    """The key result's check-ins as a table; "" when it has none."""
    if not checkins:
        return ""
    holding = current_ids(checkins)
    rows = "".join(
        f'<tr class="{"current" if c.id in holding else "superseded" if c.value is not None else "note"}">'
        f"<td>{escape(_when(c, zone))}</td><td>{escape(c.group_key or 'total')}</td>"
        f"<td class=num>{escape(_value(c, unit))}</td><td>{escape(c.note or '')}</td>"
        f"<td>{escape(c.author)}</td></tr>"
        for c in checkins
    )
    return (
        '<table class="checkins"><caption>Check-ins (newest first; a struck value was superseded)</caption>'
        "<thead><tr><th>when</th><th>group</th><th>value</th><th>note</th><th>who</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def console_table(checkins: Sequence[Checkin], *, zone: tzinfo) -> Group:
    """`okrsync status`: every check-in of the period, newest first."""
    holding = current_ids(checkins)
    rows = [
        (
            c.key,
            c.group_key or "total",
            _value(c, units.PLAIN) + ("" if c.id in holding or c.value is None else " (superseded)"),
            c.note or "",
            c.author,
            _when(c, zone),
        )
        for c in checkins
    ]
    return fitted_table("Check-ins (newest first)", CONSOLE_COLUMNS, rows)


def _value(checkin: Checkin, unit: units.Unit) -> str:
    return "note" if checkin.value is None else units.full(checkin.value, unit)


def _when(checkin: Checkin, zone: tzinfo) -> str:
    return f"{checkin.checked_in_at.astimezone(zone):%Y-%m-%d %H:%M}"
