"""The `okrsync` command: parse arguments, build objects, map outcomes to exit codes.

Exit codes: 0 done (every write confirmed); 1 the cycle or command failed; 2 configuration
error (nothing touched); 3 cycle complete but the CRM rejected some records (they stay in
the ledger and are retried next cycle); 4 `okrsync plan` only: a run would change something;
130 Ctrl-C and 143 SIGTERM (`run` records the run `interrupted`).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from sqlalchemy.engine import make_url

from connectors import open_connector
from syncer import console as text
from syncer import identity_check, quarantine_view, staleness
from syncer.alerts import send_alerts
from syncer.config import load_settings
from syncer.config.models import HubSpotSource, OwnerTarget, Settings
from syncer.config.pitfalls import pitfall_problems
from syncer.contract import Connector, FieldSpec, Finding
from syncer.cycle import EXIT_CONFIG, EXIT_FAILED, EXIT_OK, PHASES, CycleOptions, run_cycle
from syncer.errors import ConfigError, CrmError, LeaseHeldError, OkrsyncError, OutputError, StoreError
from syncer.failures import describe_error
from syncer.fields import required_fields
from syncer.interruption import Interrupted, stop_on_sigterm
from syncer.logs import Redactor, configure_logging, secret_values
from syncer.report import check_output_path, write_report
from syncer.status_page import collect_status
from syncer.store.database import create_store_engine, open_store, upgrade
from syncer.store.snapshots import latest_values
from syncer.terminal import SafeConsole, print_error

if TYPE_CHECKING:
    from sandbox.demo import DemoOrg

PLAN_HELP = (
    "pull and roll up, then show what a run would write against the CRMs' current values; writes "
    "nothing to a CRM or the ledger (the pull is stored); exit 4 when something would change"
)
DEMO_CONFIG = Path(__file__).resolve().parent.parent / "config" / "demo.yaml"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="okrsync", description="Keep sales OKRs true inside the CRM.")
    parser.add_argument("--log-level", default="WARNING", help="DEBUG, INFO, WARNING (default), ERROR")
    parser.add_argument("--log-json", action="store_true", default=None, help="JSON logs even on a terminal")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    validate = commands.add_parser("validate", help="check the YAML offline")
    validate.add_argument("-c", "--config", required=True, type=Path)

    run = commands.add_parser("run", help="run one cycle now")
    run.add_argument("-c", "--config", required=True, type=Path)
    run.add_argument("--only", choices=PHASES, help="run a single phase")
    run.add_argument("--source", action="append", help="only this source (repeatable)")
    run.add_argument("--full", action="store_true", help="resync the streams from scratch")

    check = commands.add_parser("check", help="check the YAML against the live CRMs (changes nothing)")
    check.add_argument("-c", "--config", required=True, type=Path)

    fields = commands.add_parser("fields", help="the CRM fields write-back needs")
    fields_commands = fields.add_subparsers(dest="fields_command", required=True, metavar="ACTION")
    ensure = fields_commands.add_parser("ensure", help="plan (or --apply) the missing write-back fields")
    ensure.add_argument("-c", "--config", required=True, type=Path)
    ensure.add_argument("--apply", action="store_true", help="create the fields and grant edit access")

    demo = commands.add_parser("demo", help="run a full cycle against the local CRM sandbox")
    demo.add_argument("-c", "--config", type=Path, default=DEMO_CONFIG)
    demo.add_argument("--store", help="store URL (default: a fresh SQLite file in a temp directory)")

    status = commands.add_parser("status", help="key results, per rep, last runs, API usage, failed writes")
    status.add_argument("-c", "--config", required=True, type=Path)

    report = commands.add_parser("report", help="write a self-contained HTML report with the charts")
    report.add_argument("-c", "--config", required=True, type=Path)
    report.add_argument("-o", "--output", required=True, type=Path, help="the HTML file to write")

    serve = commands.add_parser("serve", help="run every source on its schedule until stopped")
    serve.add_argument("-c", "--config", required=True, type=Path)
    serve.add_argument("--port", type=int, help="port of /healthz, /metrics and the status page")

    push = commands.add_parser("push", help="write back now from the store, without pulling")
    push.add_argument("-c", "--config", required=True, type=Path)
    push.add_argument("--force", action="store_true", help="re-send every value, ignoring the ledger")
    plan = commands.add_parser("plan", help=PLAN_HELP, description=PLAN_HELP)
    plan.add_argument("-c", "--config", required=True, type=Path)
    plan.add_argument("--json", action="store_true", help="print the diff as JSON")

    db = commands.add_parser("db", help="store maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_upgrade = db_commands.add_parser("upgrade", help="apply store migrations")
    db_upgrade.add_argument("-c", "--config", type=Path, help="take the store URL from this YAML")
    db_upgrade.add_argument("--store", help="store URL (overrides the YAML)")
    db_reset = db_commands.add_parser("reset-source", help="forget one source's data (another org behind it)")
    db_reset.add_argument("source", metavar="NAME", help="the source's name in the YAML")
    db_reset.add_argument("-c", "--config", type=Path, help="take the store URL from this YAML")
    db_reset.add_argument("--store", help="store URL (overrides the YAML)")
    db_reset.add_argument("--yes", action="store_true", help="really delete (without it: only count)")
    return parser


@dataclass(frozen=True)
class Cli:
    """What every command gets: its arguments, the terminal, and the log redactor."""

    args: argparse.Namespace
    out: Console
    redactor: Redactor

    def load(self, path: Path, env: Mapping[str, str] | None = None) -> Settings:
        """Load the YAML; from then on every log line masks its secrets."""
        settings = load_settings(path, os.environ if env is None else env)
        store_password = make_url(settings.store).password  # a URL may carry the database password
        self.redactor.add(secret_values(settings) | ({str(store_password)} if store_password else set()))
        self.redactor.add_names(settings.masked_values)  # the store's host, when it came from a ${VAR}
        return settings


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    redactor = configure_logging(level=args.log_level.upper(), as_json=args.log_json)
    # Piped output (CI logs, cron mail) gets wide tables instead of 80 truncated columns.
    width = None if sys.stdout.isatty() else 200
    cli = Cli(args, SafeConsole(width=width), redactor)
    handlers: dict[str, Callable[[Cli], int]] = {
        "validate": _validate,
        "run": _run,
        "demo": _demo,
        "db": _db,
        "serve": _serve,
        "status": _status,
        "report": _report,
        "check": _check,
        "fields": _fields_ensure,
        "push": _push,
        "plan": _plan,
    }
    try:
        return handlers[args.command](cli)
    except ConfigError as exc:
        text.print_config_error(SafeConsole(stderr=True), exc)
        return EXIT_CONFIG
    except LeaseHeldError as exc:  # one line for cron mail and `kubectl logs`
        print_error(str(exc))
        return EXIT_FAILED
    except StoreError as exc:
        print_error(f"store: {cli.redactor.mask(str(exc))}")
        return EXIT_FAILED
    except OutputError as exc:  # `report -o` given a directory, a link, an unwritable place
        print_error(str(exc))
        return EXIT_CONFIG
    except KeyboardInterrupt:  # one line, no traceback; a running cycle recorded itself `interrupted`
        print_error("interrupted (Ctrl-C)")
        return 128 + signal.SIGINT
    except Interrupted as exc:
        print_error(str(exc))
        return exc.exit_code


def _validate(cli: Cli) -> int:
    args, out = cli.args, cli.out
    settings = cli.load(args.config)
    krs = sum(len(o.key_results) for o in settings.objectives)
    out.print(
        f"{args.config}: valid — {len(settings.sources)} sources, {len(settings.objectives)} objectives, "
        f"{krs} key results, {len(settings.writeback)} write-back targets"
    )
    for warning in pitfall_problems(settings, args.config):  # valid, but probably not what was meant
        out.print(f"warning: {warning}", markup=False)
    return EXIT_OK


def connector_factory(
    settings: Settings, *, sleep: Callable[[float], None] = time.sleep
) -> Callable[[str], Connector]:
    def open_named(name: str) -> Connector:
        targets = [t for t in settings.writeback if t.source == name]
        return open_connector(
            name, settings.sources[name], writeback=targets, zone=settings.zone, sleep=sleep
        )

    return open_named


def _cycle(settings: Settings, out: Console, options: CycleOptions) -> int:
    store = open_store(settings.store)
    try:
        with store.sessions() as session:
            previous = latest_values(session)  # what alerts compare the new statuses with
        # Retry waits end early on SIGTERM (`okrsync run`), so a stop is not held up by a long wait.
        opened = connector_factory(settings, sleep=options.stop.sleep if options.stop else time.sleep)
        report = run_cycle(settings, store, opened, clock=lambda: datetime.now(UTC), options=options)
    except OkrsyncError:
        raise
    except Exception as exc:  # the store failed before the run could start: still one line
        print_error(f"cycle failed: {describe_error(exc)}")
        return EXIT_FAILED
    finally:
        store.close()
    send_alerts(settings, report, previous)
    text.print_cycle(out, report)
    if report.errors:
        print_error(f"cycle failed: {report.errors[0]}")
    if report.stale:
        print_error(f"{staleness.summary(report.stale)}")
    return report.exit_code


def _run(cli: Cli) -> int:
    args, out = cli.args, cli.out
    settings = cli.load(args.config)
    unknown = [s for s in args.source or [] if s not in settings.sources]
    if unknown:
        print_error(f"no source named {', '.join(unknown)} in {args.config}")
        return EXIT_CONFIG
    with stop_on_sigterm() as stop:  # SIGTERM: the batch in flight commits, then the run stops
        options = CycleOptions(
            phases=[args.only] if args.only else PHASES,
            sources=args.source or None,
            full=args.full,
            stop=stop,
        )
        return _cycle(settings, out, options)


def _push(cli: Cli) -> int:
    """The push phase alone; with --force every value is sent again (syncer.drift)."""
    settings = cli.load(cli.args.config)
    with stop_on_sigterm() as stop:
        return _cycle(settings, cli.out, CycleOptions(phases=["push"], force=cli.args.force, stop=stop))


def _plan(cli: Cli) -> int:
    from syncer.plan import plan_command

    settings = cli.load(cli.args.config)
    return plan_command(settings, connector_factory(settings), out=cli.out, as_json=cli.args.json)


def _check(cli: Cli) -> int:
    """Every source's findings at once; exit 1 when any is an error."""
    settings = cli.load(cli.args.config)
    opened = connector_factory(settings)
    errors = 0
    for name in settings.sources:
        connector = opened(name)
        try:
            findings = identity_check.identity_findings(name, connector, settings.store) + connector.check()
        except CrmError as exc:
            findings = [Finding("error", name, str(exc), fix="check the source's URL and credentials")]
        finally:
            connector.close()
        errors += _print_findings(cli.out, name, findings)
    for line in quarantine_view.check_lines(settings.store):  # records the last cycles kept out
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


def _fields_ensure(cli: Cli) -> int:
    """The missing write-back fields per source; created (with edit access) only with --apply."""
    settings = cli.load(cli.args.config)
    problems = 0
    for name in settings.sources:
        try:
            missing, created = ensure_fields(settings, name, apply=cli.args.apply)
        except CrmError as exc:
            problems += _print_findings(cli.out, name, [Finding("error", name, str(exc))])
            continue
        for spec in missing:
            verb = "creating" if cli.args.apply else "would create or grant edit access to"
            cli.out.print(f"{name}: {verb} {spec.object}.{spec.field} ({spec.kind}, label {spec.label!r})")
        if missing and cli.args.apply:
            problems += _print_findings(cli.out, name, created)
        elif missing:
            problems += len(missing)
        else:
            cli.out.print(f"{name}: every write-back field exists and is editable")
    if problems and not cli.args.apply:
        cli.out.print("nothing changed; run again with --apply to create the fields")
    return EXIT_FAILED if problems else EXIT_OK


def _print_findings(out: Console, source: str, findings: Sequence[Finding]) -> int:
    """Print findings; the number of errors."""
    for finding in findings:
        fix = f" — fix: {finding.fix}" if finding.fix and finding.level != "ok" else ""
        out.print(
            f"{source}: {finding.level.upper():7} {finding.subject}: {finding.message}{fix}", markup=False
        )
    return sum(1 for f in findings if f.level == "error")


def _demo(cli: Cli) -> int:
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
        code = _cycle(settings, out, CycleOptions())
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
        if _print_findings(out, name, [f for f in findings if f.level == "error"]):
            return False
        created += [f"{name} {spec.object}.{spec.field}" for spec in missing]
    if created:
        fields = ", ".join(created)
        out.print(f"as `okrsync fields ensure --apply` does, created the missing write-back fields {fields}")
    else:
        out.print("every write-back field exists and is editable")
    return True


def _print_demo_records(out: Console, settings: Settings, demo: DemoOrg) -> None:
    """What the cycle wrote: the reps' Salesforce User fields, the HubSpot key-result records."""
    from sandbox.demo import KEY_RESULTS_OBJECT, read_key_results, read_user_fields

    for target in settings.writeback:
        source = settings.sources[target.source]
        if isinstance(target, OwnerTarget) and target.object == "User":
            rows = read_user_fields(demo.salesforce, list(target.fields))
            out.print(text.records_table(rows, title="Fields now on the reps' User records in the sandbox"))
        elif isinstance(source, HubSpotSource) and target.object == KEY_RESULTS_OBJECT:
            rows = read_key_results(demo.hubspot)
            out.print(text.records_table(rows, title="Key-result records now in the HubSpot sandbox"))


def _status(cli: Cli) -> int:
    settings = cli.load(cli.args.config)
    store = open_store(settings.store)
    try:
        with store.sessions() as session:
            status = collect_status(session, settings, now=datetime.now(UTC))
    finally:
        store.close()
    text.print_status(cli.out, status)
    return EXIT_OK


def _report(cli: Cli) -> int:
    settings = cli.load(cli.args.config)
    check_output_path(cli.args.output)  # before the store is opened: refused means nothing touched
    store = open_store(settings.store)
    try:
        with store.sessions() as session:
            path = write_report(session, settings, cli.args.output, now=datetime.now(UTC))
    finally:
        store.close()
    cli.out.print(f"report written to {path}")
    return EXIT_OK


def _serve(cli: Cli) -> int:
    from syncer.scheduler import Worker  # APScheduler and the web server only for this command

    settings = cli.load(cli.args.config)
    worker = Worker(
        settings,
        load=lambda: cli.load(cli.args.config),
        connectors=connector_factory,
        clock=lambda: datetime.now(UTC),
        port=cli.args.port,
    )
    return worker.serve_forever()


def _db(cli: Cli) -> int:
    args, out = cli.args, cli.out
    url = args.store or (cli.load(args.config).store if args.config else None)
    if url is not None and args.db_command == "reset-source":
        return identity_check.reset_source_command(out, url, args.source, confirmed=args.yes)
    if url is None:
        print_error("db upgrade: give -c FILE or --store URL")
        return EXIT_CONFIG
    engine = create_store_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    out.print("store schema is up to date")
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
