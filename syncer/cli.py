"""The `okrsync` command: parse arguments, dispatch to a command, map outcomes to exit codes.

The bodies of the commands are in `syncer.commands` (by what they work on); `validate` and
`serve` are short enough to stay here.

Exit codes: 0 done (every write confirmed); 1 the cycle or command failed; 2 configuration
error (nothing touched); 3 cycle complete but the CRM rejected some records (they stay in
the ledger and are retried next cycle); 4 `okrsync plan` only: a run would change something;
130 Ctrl-C and 143 SIGTERM (`run` records the run `interrupted`).
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from syncer.commands import crm, cycles, store_commands
from syncer.commands.crm import connector_factory
from syncer.commands.demo import demo_command
from syncer.commands.invocation import Cli
from syncer.config.pitfalls import pitfall_problems
from syncer.cycle import EXIT_CONFIG, EXIT_FAILED, EXIT_OK, PHASES
from syncer.errors import ConfigError, LeaseHeldError, OutputError, StoreError
from syncer.interruption import Interrupted
from syncer.logs import configure_logging
from syncer.views import console as text
from syncer.views.terminal import SafeConsole, print_error

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


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    redactor = configure_logging(level=args.log_level.upper(), as_json=args.log_json)
    # Piped output (CI logs, cron mail) gets wide tables instead of 80 truncated columns.
    width = None if sys.stdout.isatty() else 200
    cli = Cli(args, SafeConsole(width=width), redactor)
    handlers: dict[str, Callable[[Cli], int]] = {
        "validate": _validate,
        "run": cycles.run_command,
        "demo": demo_command,
        "db": store_commands.db_command,
        "serve": _serve,
        "status": store_commands.status_command,
        "report": store_commands.report_command,
        "check": crm.check_command,
        "fields": crm.fields_ensure_command,
        "push": cycles.push_command,
        "plan": cycles.plan_command,
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


def _serve(cli: Cli) -> int:
    from syncer.serve.scheduler import Worker  # APScheduler and the web server only for this command

    settings = cli.load(cli.args.config)
    worker = Worker(
        settings,
        load=lambda: cli.load(cli.args.config),
        connectors=connector_factory,
        clock=lambda: datetime.now(UTC),
        port=cli.args.port,
    )
    return worker.serve_forever()


if __name__ == "__main__":
    raise SystemExit(main())
