"""`okrsync period reopen -c FILE PERIOD`: recompute a closed period on purpose.

README "Closing a period". PERIOD is named as `okrsync status` and the status page name it
(`syncer.closing.period_label`: 2026-Q3, FY2027-Q1, 2026-09, 2026) or `start..end`. Reopening
unfreezes the period for every objective that closed it; the next cycle recomputes it and freezes
it again at once (its close_after has passed), taking in the late data counted since.
"""

from __future__ import annotations

from datetime import UTC, datetime

from syncer import closing
from syncer.commands.invocation import Cli
from syncer.commands.store_commands import _read_only
from syncer.cycle import EXIT_CONFIG, EXIT_OK
from syncer.store import closed_periods
from syncer.store.database import open_store, refuse_new_store
from syncer.store.transaction import transaction
from syncer.views.terminal import print_error


def period_command(cli: Cli) -> int:
    """Only `reopen` for now: argparse requires the action."""
    settings, url = _read_only(cli)
    store = open_store(url, on_new=refuse_new_store)
    try:
        with store.sessions() as session:
            known = closing.states(session, settings)
        period = closing.find_period(cli.args.period, known)
        if period is None:
            print_error(unknown_period(cli.args.period, known))
            return EXIT_CONFIG
        now = datetime.now(UTC)
        reopened = transaction(store, lambda session: closed_periods.reopen(session, period, now=now))
    finally:
        store.close()
    label = closing.period_label(period, settings.fiscal_year_start_month)
    cli.out.print(
        f"reopened {label} ({', '.join(reopened)}): the next cycle recomputes it and freezes it again",
        markup=False,
        highlight=False,
    )
    return EXIT_OK


def unknown_period(text: str, known: list[closing.PeriodState]) -> str:
    """One line: what was asked, and the closed periods there are."""
    if not known:
        return f"period reopen: no closed period `{text}`: no period has closed yet"
    names = dict.fromkeys(
        f"{s.label} ({'frozen' if s.frozen_at else 'closing'})" for s in known
    )  # one per period, newest first
    return f"period reopen: no closed period `{text}`; closed periods: {', '.join(names)}"
