"""What okrsync prints on a terminal: cycle summaries, key-result tables, config problems.

Every value here may come from a CRM or the YAML: it is printed as plain text (`syncer.views.terminal`),
and okrsync's own colours are `Text` styles, never markup.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC
from decimal import Decimal
from typing import Any

from rich.console import Console, Group

from syncer import currencies
from syncer.cycle import CycleResult
from syncer.errors import ConfigError
from syncer.values import KeyResultValue
from syncer.views import (
    checkins,
    closed_periods,
    grading,
    objective_tree,
    quarantined_records,
    stale_key_results,
)
from syncer.views.status_data import Status
from syncer.views.tables import Cell, Column, fitted_table
from syncer.views.terminal import joined, plain

PULL_COLUMNS = (
    Column("source"),
    Column("stream", constant_folds=False),
    *(Column(name, numeric=True) for name in ("read", "new or changed", "deleted", "skipped (bad)")),
)
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


KEY_RESULT_COLUMNS = (
    Column("key result"),
    Column("group"),
    Column("value", numeric=True),
    Column("target", numeric=True),
    Column("progress", numeric=True),
    Column("expected", numeric=True),
    Column("status", whole=True),
)


def key_result_table(
    values: Sequence[KeyResultValue], *, title: str, groups: bool, stale: Collection[str] = ()
) -> Group:
    """One row per value; the key results named in `stale` ("objective.key_result") show their
    last good value with the status `stale`."""
    rows = []
    for value in values:
        if (value.group_kind != "total") != groups:
            continue
        status = "stale" if f"{value.objective}.{value.key_result}" in stale else value.status or "—"
        rows.append(
            (
                f"{value.objective}.{value.key_result}",
                value.group_key or "total",
                currencies.format_amount(value.value, value.currency) or format_number(value.value),
                currencies.format_amount(value.target, value.currency) or format_number(value.target),
                "—" if value.progress is None else f"{value.progress_pct:.1f} %",
                f"{value.expected * 100:.0f} %",
                plain(status, STATUS_STYLE.get(status, "magenta" if status == "stale" else "")),
            )
        )
    return fitted_table(title, KEY_RESULT_COLUMNS, rows)


def records_table(rows: Sequence[Mapping[str, Any]], *, title: str) -> Group:
    """CRM records as a table, one column per field (numbers right-aligned)."""
    names = list(rows[0]) if rows else []
    columns = [
        Column(name, numeric=any(isinstance(row.get(name), int | float | Decimal) for row in rows))
        for name in names
    ]
    return fitted_table(title, columns, [[_cell(row.get(name)) for name in names] for row in rows])


def _cell(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "—" if value is None else str(value)
    if isinstance(value, int | float | Decimal):
        return format_number(value)
    return str(value)


def print_cycle(console: Console, report: CycleResult) -> None:
    """The summary `okrsync run` prints: pulled per stream, key results, writes, errors."""
    rows: list[tuple[Cell, ...]] = []
    for source in report.pulls:
        rows.append((source.source, "owners", str(source.owners), "", "", ""))
        for stream in source.streams:
            name = joined([stream.stream, (" (failed)" if stream.error else "", "red")])
            counts = (stream.received, stream.changed, stream.deleted, stream.rejected)
            rows.append((source.source, name, *map(str, counts)))
    pulled = fitted_table(f"Run {report.run_id}: pulled", PULL_COLUMNS, rows)
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
    closed_periods.print_cycle_lines(console, report.closed)
    for error in report.errors:
        console.print(plain(f"error: {error}", "red"), highlight=False)
    console.print(
        f"API calls: {report.api_calls} (retries: {report.retries}); status: {report.status}", highlight=False
    )


def print_status(console: Console, status: Status) -> None:
    """What `okrsync status` prints: scores, key results, per rep, last runs, failed writes."""
    for objective in status.objectives:  # in tree order, children indented (README "Objective tree")
        score = "—" if objective.score is None else f"{objective.score:.2f}"
        how = objective_tree.how_scored(objective)
        heading = [objective_tree.console_prefix(objective), (objective.title, "bold"), f"  score {score}"]
        console.print(joined([*heading, (f"  ({how})" if how else "", "dim")]), highlight=False)
    totals = [kr.total for o in status.objectives for kr in o.key_results]
    groups = [g for o in status.objectives for kr in o.key_results for g in kr.groups]
    stale = {s.key for s in status.stale}
    console.print(key_result_table(totals, title="Key results", groups=False, stale=stale))
    if groups:
        console.print(key_result_table(groups, title="Per rep", groups=True, stale=stale))
    awaiting = [w.key for o in status.objectives for w in o.awaiting]
    if awaiting:
        line = f"no value yet this period (a check-in counts from the next cycle): {', '.join(awaiting)}"
        console.print(plain(line, "magenta"), highlight=False)
    checked = [
        c
        for o in status.objectives
        for listed in (*(kr.checkins for kr in o.key_results), *(w.checkins for w in o.awaiting))
        for c in listed
    ]
    if checked:
        console.print(checkins.console_table(checked, zone=status.zone or UTC))
    graded = grading.console_table(
        [kr.grading for o in status.objectives for kr in o.key_results if kr.grading]
    )
    if graded is not None:
        console.print(graded)
    if status.stale:
        console.print(stale_key_results.console_table(status.stale))
    if status.closed_periods:
        console.print(closed_periods.console_table(status.closed_periods, zone=status.zone or UTC))
    console.print(_runs_table(status))
    if status.quarantine is not None:
        for shown in quarantined_records.console_tables(status.quarantine):
            console.print(shown, highlight=False)
    if status.failed_writes:
        console.print(_failed_writes_table(status))
    else:
        console.print("failed writes: none", highlight=False)


RUN_COLUMNS = (
    Column("run", numeric=True, constant_folds=False),
    Column("started"),
    Column("status", whole=True, constant_folds=False),
    *(
        Column(name, numeric=True)
        for name in ("pulled", "written", "repaired", "rejected", "API calls", "retries")
    ),
    Column("error"),
)
FAILED_WRITE_COLUMNS = tuple(
    Column(name, numeric=name == "attempts")
    for name in ("source", "object", "record", "field", "code", "error", "attempts")
)


def _runs_table(status: Status) -> Group:
    rows = []
    for run in status.runs:
        c = run.counts
        repaired = (c.details or {}).get("repaired_fields", 0)
        counts = (c.pulled, c.written, repaired, c.write_errors, c.api_calls, c.retries)
        started = f"{run.started_at:%Y-%m-%d %H:%M}"
        rows.append((str(run.id), started, run.status, *map(str, counts), c.error or ""))
    return fitted_table("Last runs (API usage per run)", RUN_COLUMNS, rows)


def _failed_writes_table(status: Status) -> Group:
    rows = [
        (w.source, w.object, w.target, w.field, w.error_code or "", w.error or "", str(w.attempts))
        for w in status.failed_writes
    ]
    return fitted_table("Failed writes", FAILED_WRITE_COLUMNS, rows)
