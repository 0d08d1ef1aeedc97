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
import os
import signal
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from syncer.commands import crm, cycles, store_commands
from syncer.commands.checkin_command import checkin_command, value_text
from syncer.commands.crm import connector_factory
from syncer.commands.demo import demo_command
from syncer.commands.fleet_command import add_fleet_parser, fleet_command
from syncer.commands.invocation import Cli
from syncer.commands.period_command import period_command
from syncer.commands.sandbox_command import port_number, sandbox_command
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


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
CONFIG_HELP = "the YAML file (default: $OKRSYNC_CONFIG)"
STORE_HELP = "store URL (overrides the YAML's `store:`)"


def _global_options(*, defaults: bool) -> argparse.ArgumentParser:
    """The options every command takes, before or after its name (`okrsync run --log-level INFO`).

    The top-level parser holds the defaults; each command's copy defaults to SUPPRESS, so it sets
    the option only when given after the command and never resets one given before it.
    """
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--log-level",
        type=str.upper,
        choices=LOG_LEVELS,
        default="WARNING" if defaults else argparse.SUPPRESS,
        help="log level: DEBUG, INFO, WARNING (default) or ERROR",
    )
    options.add_argument(
        "--log-json",
        action="store_true",
        default=None if defaults else argparse.SUPPRESS,
        help="JSON log lines even on a terminal (they are JSON whenever stderr is not a terminal)",
    )
    return options


def _config_option(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    """`-c FILE`, from $OKRSYNC_CONFIG when not given (required only when that is unset too)."""
    from_env = os.environ.get("OKRSYNC_CONFIG") or None
    parser.add_argument(
        "-c",
        "--config",
        type=Path,
        default=from_env,
        required=required and from_env is None,
        metavar="FILE",
        help=CONFIG_HELP,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="okrsync",
        description="Keep sales OKRs true inside the CRM.",
        parents=[_global_options(defaults=True)],
    )
    parser.add_argument("--version", action="version", version=f"okrsync {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = [_global_options(defaults=False)]

    def command(name: str, help: str, **options: object) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help, description=help, parents=common, **options)  # type: ignore[arg-type]

    validate = command("validate", "check the YAML offline: no CRM, no store, no secret needed")
    _config_option(validate)
    validate.add_argument(
        "--strict-env", action="store_true", help="an unset ${VARIABLE} is an error, not a warning"
    )

    run = command("run", "run one cycle now: pull, roll up, write back")
    _config_option(run)
    run.add_argument("--only", choices=PHASES, help="run a single phase")
    run.add_argument("--source", action="append", metavar="NAME", help="only this source (repeatable)")
    run.add_argument("--full", action="store_true", help="resync the streams from scratch")

    check = command("check", "check the YAML against the live CRMs (changes nothing)")
    _config_option(check)

    fields = command("fields", "the CRM fields write-back needs")
    fields_commands = fields.add_subparsers(dest="fields_command", required=True, metavar="ACTION")
    ensure_help = "list the missing write-back fields (exit 1 when some are missing), or create them"
    ensure = fields_commands.add_parser("ensure", help=ensure_help, description=ensure_help, parents=common)
    _config_option(ensure)
    ensure.add_argument("--apply", action="store_true", help="create the fields and grant edit access")

    demo = command("demo", "run a full cycle against the local CRM sandboxes, in a temporary store")
    demo.add_argument("-c", "--config", type=Path, default=DEMO_CONFIG, metavar="FILE", help="the YAML file")
    demo.add_argument("--store", help="store URL (default: a fresh SQLite file in a temp directory)")

    sandbox = command(
        "sandbox",
        "run both local CRM sandboxes until Ctrl-C, with a YAML and the environment to try every command",
    )
    sandbox.add_argument(
        "--dir",
        type=Path,
        default=Path("okrsync-sandbox"),
        metavar="DIR",
        help="where okrsync.yaml, sandbox.env and the store go (default: ./okrsync-sandbox)",
    )
    sandbox.add_argument(
        "-c",
        "--config",
        type=Path,
        default=DEMO_CONFIG,
        metavar="FILE",
        help="the YAML to start from (default: the demo's)",
    )
    sandbox.add_argument("--store", help="store URL (default: okrsync.db in --dir, fresh at every start)")
    for option, what in (("--sf-port", "Salesforce sandbox"), ("--hs-port", "HubSpot sandbox")):
        sandbox.add_argument(
            option,
            type=port_number,
            default=0,
            metavar="N",
            help=f"port of the {what} (default: any free one)",
        )
    sandbox.add_argument(
        "--serve-port",
        type=port_number,
        default=0,
        metavar="N",
        help="port the YAML gives `okrsync serve` (default: a free one)",
    )

    status = command("status", "key results, per rep, last runs, API usage, failed writes (reads the store)")
    _config_option(status)
    status.add_argument("--store", help=STORE_HELP)

    report = command("report", "write a self-contained HTML report with the charts (reads the store)")
    _config_option(report)
    report.add_argument("--store", help=STORE_HELP)
    report.add_argument(
        "-o", "--output", required=True, type=Path, metavar="FILE", help="the HTML file to write"
    )

    serve = command("serve", "run every source on its schedule until stopped, with the status page")
    _config_option(serve)
    serve.add_argument(
        "--port",
        type=port_number,
        help="port of /healthz, /metrics and the status page (overrides serve.port)",
    )

    checkin = command(
        "checkin",
        "check in a manual key result's value, or a note on any key result (the next cycle writes it back)",
    )
    _config_option(checkin)
    checkin.add_argument(
        "key_result", metavar="KR_PATH", help="objective.key_result, as `okrsync status` shows"
    )
    checkin.add_argument(
        "--value", type=value_text, metavar="N", help="the value now (manual key results only)"
    )
    checkin.add_argument("--group", metavar="EMAIL", help="a rep's value (group_by: owner), not the total")
    checkin.add_argument("--note", metavar="TEXT", help="what changed, for the weekly review")
    checkin.add_argument(
        "--by", metavar="NAME", help="who checks in (default: $OKRSYNC_USER, else the OS user)"
    )
    checkin.add_argument("--store", help=STORE_HELP)

    period = command("period", "reopen a closed period (README: Closing a period)")
    period_actions = period.add_subparsers(dest="period_command", required=True, metavar="ACTION")
    reopen_help = "recompute a frozen period: the next cycle takes in its late data and freezes it again"
    reopen = period_actions.add_parser("reopen", help=reopen_help, description=reopen_help, parents=common)
    _config_option(reopen)
    reopen.add_argument(
        "period", metavar="PERIOD", help="as `okrsync status` names it: 2026-Q3, or start..end"
    )
    reopen.add_argument("--store", help=STORE_HELP)

    push = command("push", "write back now from the store, without pulling")
    _config_option(push)
    push.add_argument("--force", action="store_true", help="re-send every value, ignoring the ledger")

    plan = command("plan", PLAN_HELP)
    _config_option(plan)
    plan.add_argument("--json", action="store_true", help="print the diff as JSON")

    add_fleet_parser(commands, common)

    db = command("db", "store maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade_help = "create the store or apply its pending migrations"
    db_upgrade = db_commands.add_parser(
        "upgrade", help=upgrade_help, description=upgrade_help, parents=common
    )
    _config_option(db_upgrade, required=False)
    db_upgrade.add_argument("--store", help=STORE_HELP)
    reset_help = "forget one source's data (another org behind it)"
    db_reset = db_commands.add_parser("reset-source", help=reset_help, description=reset_help, parents=common)
    db_reset.add_argument("source", metavar="NAME", help="the source's name in the YAML")
    _config_option(db_reset, required=False)
    db_reset.add_argument("--store", help=STORE_HELP)
    db_reset.add_argument("--yes", action="store_true", help="really delete (without it: only count)")
    return parser


def _version() -> str:
    try:
        return metadata.version("okrsync")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    redactor = configure_logging(level=args.log_level, as_json=args.log_json)
    # Piped output (CI logs, cron mail) gets wide tables instead of 80 truncated columns.
    width = None if sys.stdout.isatty() else 200
    cli = Cli(args, SafeConsole(width=width), redactor)
    handlers: dict[str, Callable[[Cli], int]] = {
        "validate": _validate,
        "run": cycles.run_command,
        "demo": demo_command,
        "sandbox": sandbox_command,
        "db": store_commands.db_command,
        "serve": _serve,
        "status": store_commands.status_command,
        "report": store_commands.report_command,
        "check": crm.check_command,
        "fields": crm.fields_ensure_command,
        "push": cycles.push_command,
        "checkin": checkin_command,
        "period": period_command,
        "plan": cycles.plan_command,
        "fleet": fleet_command,
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
    """Offline: the CI check ops run where the CRM secrets are absent. An unset `${NAME}` is a
    warning (the commands that reach a CRM refuse it), an error with --strict-env."""
    args, out = cli.args, cli.out
    if args.strict_env:
        settings, unset = cli.load(args.config), []
    else:
        loaded = cli.load_offline(args.config)
        settings, unset = loaded.settings, loaded.unset
    krs = sum(len(o.key_results) for o in settings.objectives)
    counts = (
        (len(settings.sources), "source"),
        (len(settings.objectives), "objective"),
        (krs, "key result"),
        (len(settings.writeback), "write-back target"),
    )
    out.print(f"{args.config}: valid — " + ", ".join(_counted(n, noun) for n, noun in counts))
    for problem in unset:
        out.print(f"warning: {problem}: set it where okrsync reaches the CRMs", markup=False)
    for warning in pitfall_problems(settings, args.config):  # valid, but probably not what was meant
        out.print(f"warning: {warning}", markup=False)
    return EXIT_OK


def _counted(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _serve(cli: Cli) -> int:
    from syncer.serve.scheduler import Worker  # APScheduler and the web server only for this command
    from syncer.serve.web import ListenError

    settings = cli.load(cli.args.config)
    worker = Worker(
        settings,
        load=lambda: cli.load(cli.args.config),
        connectors=connector_factory,
        clock=lambda: datetime.now(UTC),
        port=cli.args.port,
    )

    def announce(line: str) -> None:
        cli.out.print(line, markup=False, highlight=False)
        sys.stdout.flush()  # piped to a log collector: the address shows now, not at exit

    try:
        return worker.serve_forever(announce)
    except ListenError as exc:  # port in use, …: one line, no traceback
        print_error(str(exc))
        return EXIT_FAILED


if __name__ == "__main__":
    raise SystemExit(main())
