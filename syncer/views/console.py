"""What okrsync prints on a terminal: cycle summaries, key-result tables, config problems.

Every value here may come from a CRM or the YAML: it is printed as plain text (`syncer.views.terminal`),
and okrsync's own colours are `Text` styles, never markup.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

from syncer import currencies
from syncer.cycle import CycleResult
from syncer.errors import ConfigError
from syncer.values import KeyResultValue
from syncer.views import quarantined_records, stale_key_results
from syncer.views.status_data import Status
from syncer.views.terminal import joined, plain

STATUS_STYLE = {"done": "bold green", "on_track": "green", "at_risk": "yellow", "off_track": "red"}


def format_number(value: Decimal | float | None) -> str:
    if value is None:
        return "—"
    number = float(value)
    if number.is_integer():
        return f"{number:,.0f}"
    return f"{number:,.2f}" if abs(number) >= 1 else f"{number:.3f}"


def print_config_error(console: Console, error: ConfigError) -> None:
    for problem in error.problems:
        console.print(plain(problem, "red"), highlight=False, soft_wrap=True)
    count = len(error.problems)
    console.print(f"{count} problem{'s' if count != 1 else ''} found; nothing was touched.", highlight=False)


def key_result_table(
    values: Sequence[KeyResultValue], *, title: str, groups: bool, stale: Collection[str] = ()
) -> Table:
    """One row per value; the key results named in `stale` ("objective.key_result") show their
    last good value with the status `stale`."""
    table = Table(title=title, title_justify="left")
    for column in ("key result", "group", "value", "target", "progress", "expected", "status"):
        table.add_column(
            column, justify="right" if column in ("value", "target", "progress", "expected") else "left"
        )
    for value in values:
        if (value.group_kind != "total") != groups:
            continue
        status = "stale" if f"{value.objective}.{value.key_result}" in stale else value.status or "—"
        table.add_row(
            f"{value.objective}.{value.key_result}",
            value.group_key or "total",
            currencies.format_amount(value.value, value.currency) or format_number(value.value),
            currencies.format_amount(value.target, value.currency) or format_number(value.target),
            "—" if value.progress is None else f"{value.progress_pct:.1f} %",
            f"{value.expected * 100:.0f} %",
            plain(status, STATUS_STYLE.get(status, "magenta" if status == "stale" else "")),
        )
    return table


def records_table(rows: Sequence[Mapping[str, Any]], *, title: str) -> Table:
    """CRM records as a table, one column per field (numbers right-aligned)."""
    table = Table(title=title, title_justify="left")
    columns = list(rows[0]) if rows else []
    for column in columns:
        numeric = any(isinstance(row.get(column), int | float | Decimal) for row in rows)
        table.add_column(column, justify="right" if numeric else "left")
    for row in rows:
        table.add_row(*(_cell(row.get(column)) for column in columns))
    return table


def _cell(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "—" if value is None else str(value)
    if isinstance(value, int | float | Decimal):
        return format_number(value)
    return str(value)


def print_cycle(console: Console, report: CycleResult) -> None:
    """The summary `okrsync run` prints: pulled per stream, key results, writes, errors."""
    pulled = Table(title=f"Run {report.run_id}: pulled", title_justify="left")
    for column in ("source", "stream", "read", "new or changed", "deleted", "skipped (bad)"):
        pulled.add_column(column, justify="left" if column in ("source", "stream") else "right")
    for source in report.pulls:
        pulled.add_row(source.source, "owners", str(source.owners), "", "", "")
        for stream in source.streams:
            pulled.add_row(
                source.source,
                joined([stream.stream, (" (failed)" if stream.error else "", "red")]),
                str(stream.received),
                str(stream.changed),
                str(stream.deleted),
                str(stream.rejected),
            )
    if report.pulls:
        console.print(pulled)
    if report.values:
        console.print(key_result_table(report.values, title="Key results", groups=False))
    if report.stale:
        console.print(stale_key_results.console_table(report.stale))
    for push in report.pushes:
        rejected = f", {push.failed_records} rejected" if push.failed_records else ""
        wrote = f"{push.source}: wrote {push.written_fields} fields on {push.written_records} records"
        if push.repaired_fields:  # drift repair: fields the CRM had lost (syncer.drift)
            wrote += f", {push.repaired_fields} of them repaired (changed in the CRM since written)"
        console.print(joined([wrote, (rejected, "red")]), highlight=False)
        for error in push.errors[:20]:
            console.print(joined(["  ", (error, "red")]), highlight=False)
    if not report.pushes and report.values:
        console.print("nothing to write: every field already holds its value", highlight=False)
    for error in report.errors:
        console.print(plain(f"error: {error}", "red"), highlight=False)
    console.print(
        f"API calls: {report.api_calls} (retries: {report.retries}); status: {report.status}", highlight=False
    )


def print_status(console: Console, status: Status) -> None:
    """What `okrsync status` prints: scores, key results, per rep, last runs, failed writes."""
    for objective in status.objectives:
        score = "—" if objective.score is None else f"{objective.score:.2f}"
        console.print(joined([(objective.title, "bold"), f"  score {score}"]), highlight=False)
    totals = [kr.total for o in status.objectives for kr in o.key_results]
    groups = [g for o in status.objectives for kr in o.key_results for g in kr.groups]
    stale = {s.key for s in status.stale}
    console.print(key_result_table(totals, title="Key results", groups=False, stale=stale))
    if groups:
        console.print(key_result_table(groups, title="Per rep", groups=True, stale=stale))
    if status.stale:
        console.print(stale_key_results.console_table(status.stale))
    console.print(_runs_table(status))
    if status.quarantine is not None:
        for shown in quarantined_records.console_tables(status.quarantine):
            console.print(shown, highlight=False)
    if status.failed_writes:
        console.print(_failed_writes_table(status))
    else:
        console.print("failed writes: none", highlight=False)


def _runs_table(status: Status) -> Table:
    table = Table(title="Last runs (API usage per run)", title_justify="left")
    numeric = ("pulled", "written", "repaired", "rejected", "API calls", "retries")
    for column in ("run", "started", "status", *numeric, "error"):
        table.add_column(column, justify="right" if column in numeric else "left")
    for run in status.runs:
        c = run.counts
        repaired = (c.details or {}).get("repaired_fields", 0)
        counts = (c.pulled, c.written, repaired, c.write_errors, c.api_calls, c.retries)
        started = f"{run.started_at:%Y-%m-%d %H:%M}"
        table.add_row(str(run.id), started, run.status, *map(str, counts), plain(c.error or ""))
    return table


def _failed_writes_table(status: Status) -> Table:
    table = Table(title="Failed writes", title_justify="left")
    for column in ("source", "object", "record", "field", "code", "error", "attempts"):
        table.add_column(column)
    for w in status.failed_writes:
        cells = (w.source, w.object, w.target, w.field, w.error_code or "")
        table.add_row(*(plain(cell) for cell in cells), plain(w.error or ""), str(w.attempts))
    return table
