"""`okrsync demo`: a full cycle against the local CRM sandboxes, in a temporary store.

The only module of `syncer/` that imports `sandbox`, and only inside its functions (and for
type checking).
"""

from __future__ import annotations

import os
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from syncer.commands.checkin_command import CheckinRefusedError, new_checkin, store_checkin
from syncer.commands.crm import ensure_fields, print_findings
from syncer.commands.cycles import cycle_and_print
from syncer.commands.invocation import Cli
from syncer.config.models import HubSpotSource, KeyedTarget, OwnerTarget, Settings
from syncer.contract import Finding
from syncer.cycle import EXIT_FAILED, CycleOptions
from syncer.errors import CrmError
from syncer.store.database import open_store
from syncer.views import console as text

if TYPE_CHECKING:
    from sandbox.demo import DemoOrg


def demo_command(cli: Cli) -> int:
    args, out = cli.args, cli.out
    from sandbox.demo import start_demo_org

    with start_demo_org() as demo, tempfile.TemporaryDirectory() as workdir:
        settings = cli.load(args.config, {**os.environ, **demo.env})
        store_url = args.store or f"sqlite:///{Path(workdir) / 'okrsync-demo.db'}"
        settings = settings.model_copy(update={"store": store_url})
        out.print(
            f"sandbox CRMs running: Salesforce at {demo.env['OKRSYNC_SANDBOX_SF_URL']}, "
            f"HubSpot at {demo.env['OKRSYNC_SANDBOX_HS_URL']}; store: {store_url}"
        )
        if not _demo_fields(out, settings):
            return EXIT_FAILED
        _demo_checkins(out, settings)
        code = cycle_and_print(settings, out, CycleOptions())
        store = open_store(store_url)
        try:
            with store.sessions() as session:
                from syncer.store.snapshots import latest_values

                values = latest_values(session)
        finally:
            store.close()
        out.print(text.key_result_table(values, title="Per rep", groups=True))
        _print_demo_records(out, settings, demo)
    return code


def _demo_fields(out: Console, settings: Settings) -> bool:
    """`okrsync fields ensure --apply` for every source, in one line; False when a field failed."""
    created: list[str] = []
    for name in settings.sources:
        try:
            missing, findings = ensure_fields(settings, name, apply=True)
        except CrmError as exc:
            findings, missing = [Finding("error", name, str(exc))], []
        if print_findings(out, name, [f for f in findings if f.level == "error"]):
            return False
        created += [f"{name} {spec.object}.{spec.field}" for spec in missing]
    if created:
        fields = ", ".join(created)
        out.print(f"as `okrsync fields ensure --apply` does, created the missing write-back fields {fields}")
    else:
        out.print("every write-back field exists and is editable")
    return True


# What a sales manager types in the weekly review (README "Check-ins and manual key results"):
# the manual key result's value, and a note on a CRM-computed one, whose value it leaves alone.
DEMO_CHECKINS = (
    ("team.hires", Decimal(1), "first AE signed, starts Monday", "demo-manager"),
    ("q-revenue.revenue", None, "two enterprise deals slipped to next month", "demo-manager"),
)


def _demo_checkins(out: Console, settings: Settings) -> None:
    """`okrsync checkin` for each of DEMO_CHECKINS the YAML has a key result for, before the cycle."""
    store = open_store(settings.store)
    try:
        for path, value, note, author in DEMO_CHECKINS:
            try:
                checkin = new_checkin(settings, path, value=value, group=None, note=note, author=author)
            except CheckinRefusedError:  # a demo YAML without that key result (`okrsync demo -c FILE`)
                continue
            out.print(f"$ okrsync checkin {path} … : {store_checkin(store, settings, checkin)}", markup=False)
    finally:
        store.close()


def _print_demo_records(out: Console, settings: Settings, demo: DemoOrg) -> None:
    """What the cycle wrote: the reps' Salesforce User fields, the HubSpot key-result records."""
    from sandbox.demo import KEY_RESULTS_OBJECT, read_key_results, read_user_fields

    for target in settings.writeback:
        source = settings.sources[target.source]
        if isinstance(target, OwnerTarget) and target.object == "User":
            rows = read_user_fields(demo.salesforce, list(target.fields))
            out.print(text.records_table(rows, title="Fields now on the reps' User records in the sandbox"))
        elif (
            isinstance(source, HubSpotSource)
            and isinstance(target, KeyedTarget)
            and target.object == KEY_RESULTS_OBJECT
        ):
            rows = read_key_results(demo.hubspot)
            out.print(text.records_table(rows, title="Key-result records now in the HubSpot sandbox"))
