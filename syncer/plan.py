"""`okrsync plan`: pull and roll up, then show what a run would write, as a diff against the CRM.

Every written field is read back from the CRM (not the ledger) and compared with the value a
run would write now, by the rules of drift repair (syncer.drift). The plan is a cycle run with
`dry_run`: the pull lands in the store and the run is recorded, as `okrsync run --only pull`
would; nothing is written to a CRM or to the ledger, and no key-result snapshot is kept (alerts
and the status tables' values are untouched).

Exit codes: 0 nothing would change; 4 something would change; 1 a pull or a read-back failed;
2 configuration error.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from syncer import staleness
from syncer.config.models import Settings
from syncer.contract import Connector, FieldValue
from syncer.cycle import EXIT_FAILED, EXIT_OK, CycleOptions, run_cycle
from syncer.store.database import NewStore, Store, open_store
from syncer.views.terminal import plain

EXIT_CHANGES = 4  # `okrsync plan`: a run would change something in a CRM


@dataclass(frozen=True, slots=True)
class PlannedChange:
    """One field a run would write, with what the CRM holds there now."""

    source: str
    object: str
    record: str  # the record id, or `key_field=value` for a record found by its key
    field: str
    current: FieldValue  # None: empty, or no such record (see record_exists)
    new: FieldValue
    record_exists: bool


@dataclass
class PlanReport:
    run_id: int  # the pull-only run this plan pulled in
    changes: list[PlannedChange] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.errors:
            return EXIT_FAILED
        return EXIT_CHANGES if self.changes else EXIT_OK

    def to_json(self) -> str:
        body = {
            "run_id": self.run_id,
            "would_change": len(self.changes),
            "changes": [asdict(change) for change in self.changes],
            "errors": self.errors,
            "exit_code": self.exit_code,
        }
        return json.dumps(body, indent=2)


def plan_run(
    settings: Settings,
    store: Store,
    open_connector: Callable[[str], Connector],
    *,
    clock: Callable[[], datetime],
) -> PlanReport:
    """Pull, roll up and diff every write-back field against the CRM, as a recorded dry-run cycle.

    The values are the ones a run would push (stale and mixed-currency key results left out),
    computed by the same cycle code; no key-result snapshot is kept.
    """
    options = CycleOptions(phases=("pull", "push"), dry_run=True)
    cycle = run_cycle(settings, store, open_connector, clock=clock, options=options)
    report = PlanReport(cycle.run_id, errors=list(cycle.errors))
    report.errors += [f"{p.source} {s.stream}: {s.error}" for p in cycle.pulls for s in p.streams if s.error]
    if cycle.stale:  # a run would not write them either; the plan cannot vouch for them
        report.errors.append(staleness.summary(cycle.stale))
    report.changes = [
        PlannedChange(source, d.object, d.target, d.field, d.current, d.wanted, d.record_exists)
        for source, diffs in cycle.planned.items()
        for d in diffs
    ]
    return report


def plan_command(
    settings: Settings,
    open_connector: Callable[[str], Connector],
    *,
    out: Console,
    as_json: bool,
    on_new: NewStore | None = None,
) -> int:
    """`okrsync plan`: run the plan on the YAML's store, print it (a table, or JSON), its exit code."""
    store = open_store(settings.store, on_new=on_new)
    try:
        report = plan_run(settings, store, open_connector, clock=lambda: datetime.now(UTC))
    finally:
        store.close()
    if as_json:
        sys.stdout.write(report.to_json() + "\n")
    else:
        print_plan(out, report)
    return report.exit_code


def print_plan(console: Console, report: PlanReport) -> None:
    """The diff as a table; every CRM value printed as text, never as markup."""
    if report.changes:
        records = len({(c.source, c.object, c.record) for c in report.changes})
        title = f"A run would write {len(report.changes)} fields on {records} records"
        table = Table(title=title, title_justify="left")
        for column in ("source", "object", "record", "field", "in the CRM now", "new value"):
            table.add_column(column)
        for change in report.changes:
            now = _shown(change.current) if change.record_exists else "(no record: created)"
            cells = (change.source, change.object, change.record, change.field, now, _shown(change.new))
            table.add_row(*(plain(cell) for cell in cells))
        console.print(table)
    else:
        console.print("nothing would change: every written field holds its value in the CRM", markup=False)
    for error in report.errors:
        console.print(plain(f"error: {error}", "red"))
    console.print(
        "nothing was written (plan); a run rewrites a field changed in the CRM when its target's "
        "`verify` is due, `okrsync push --force` at once",
        markup=False,
        highlight=False,
    )


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 32300, not 32300.0
    return str(value)
