"""The commands that talk to the CRMs without running a cycle: `check` and `fields ensure`.

`connector_factory` is where the engine gets its connectors: this is the only module of
`syncer/` that imports `connectors`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from rich.console import Console

from connectors import open_connector
from syncer import identity_check, targets_from_crm
from syncer.commands.invocation import Cli
from syncer.config.models import Settings
from syncer.contract import Connector, FieldSpec, Finding
from syncer.cycle import EXIT_FAILED, EXIT_OK
from syncer.errors import CrmError
from syncer.fields import required_fields
from syncer.store.database import Store
from syncer.store.metadata_cache import StoreMetadataCache
from syncer.views import quarantined_records


def connector_factory(
    settings: Settings, *, sleep: Callable[[float], None] = time.sleep, store: Store | None = None
) -> Callable[[str], Connector]:
    """`store`: where connectors keep CRM metadata between runs (a cycle's store, whose lease it
    holds); None: connectors describe afresh every run."""

    def open_named(name: str) -> Connector:
        targets = [t for t in settings.writeback if t.source == name]
        metadata = StoreMetadataCache(store, name) if store is not None else None
        return open_connector(
            name,
            settings.sources[name],
            writeback=targets,
            zone=settings.zone,
            sleep=sleep,
            metadata=metadata,
        )

    return open_named


def check_command(cli: Cli) -> int:
    """Every source's findings at once; exit 1 when any is an error."""
    settings = cli.load(cli.args.config)
    opened = connector_factory(settings)
    errors = 0
    for name in settings.sources:
        connector = opened(name)
        try:
            findings = identity_check.identity_findings(name, connector, settings.store) + connector.check()
            # Reps without a quota get no target: listed per key result (README "Targets from the CRM").
            findings += targets_from_crm.check_findings(settings, name, connector, now=datetime.now(UTC))
        except CrmError as exc:
            findings = [Finding("error", name, str(exc), fix="check the source's URL and credentials")]
        finally:
            connector.close()
        errors += print_findings(cli.out, name, findings)
    for line in quarantined_records.check_lines(settings.store):  # records the last cycles kept out
        cli.out.print(line, markup=False, highlight=False)
    return EXIT_FAILED if errors else EXIT_OK


def ensure_fields(settings: Settings, name: str, *, apply: bool) -> tuple[list[FieldSpec], list[Finding]]:
    """Source `name`'s missing write-back fields and, with `apply`, the findings of creating them
    (with edit access): `okrsync fields ensure` for one source. Raises CrmError."""
    connector = connector_factory(settings)(name)
    try:
        missing = connector.missing_fields(required_fields(settings, name))
        return missing, (connector.create_fields(missing) if missing and apply else [])
    finally:
        connector.close()


def fields_ensure_command(cli: Cli) -> int:
    """The missing write-back fields per source; created (with edit access) only with --apply."""
    settings = cli.load(cli.args.config)
    problems = 0
    for name in settings.sources:
        try:
            missing, created = ensure_fields(settings, name, apply=cli.args.apply)
        except CrmError as exc:
            problems += print_findings(cli.out, name, [Finding("error", name, str(exc))])
            continue
        for spec in missing:
            verb = "creating" if cli.args.apply else "would create or grant edit access to"
            cli.out.print(f"{name}: {verb} {spec.object}.{spec.field} ({spec.kind}, label {spec.label!r})")
        if missing and cli.args.apply:
            problems += print_findings(cli.out, name, created)
        elif missing:
            problems += len(missing)
        else:
            cli.out.print(f"{name}: every write-back field exists and is editable")
    if problems and not cli.args.apply:
        cli.out.print("nothing changed; run again with --apply to create the fields")
    return EXIT_FAILED if problems else EXIT_OK


def print_findings(out: Console, source: str, findings: Sequence[Finding]) -> int:
    """Print findings; the number of errors."""
    for finding in findings:
        fix = f" — fix: {finding.fix}" if finding.fix and finding.level != "ok" else ""
        out.print(
            f"{source}: {finding.level.upper():7} {finding.subject}: {finding.message}{fix}", markup=False
        )
    return sum(1 for f in findings if f.level == "error")
