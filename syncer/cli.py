"""The `okrsync` command: parse arguments, build objects, map outcomes to exit codes.

Exit codes: 0 done (every write confirmed); 1 the cycle or command failed; 2 configuration
error (nothing touched); 3 cycle complete but the CRM rejected some records (they stay in
the ledger and are retried next cycle).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from sqlalchemy.engine import make_url

from connectors import open_connector
from syncer import console as text
from syncer.config import load_settings
from syncer.config.models import OwnerTarget, Settings
from syncer.contract import Connector
from syncer.cycle import EXIT_CONFIG, EXIT_FAILED, EXIT_OK, PHASES, CycleOptions, run_cycle
from syncer.errors import ConfigError, StoreError
from syncer.logs import Redactor, configure_logging, secret_values
from syncer.store.database import create_store_engine, open_store, upgrade

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

    demo = commands.add_parser("demo", help="run a full cycle against the local CRM sandbox")
    demo.add_argument("-c", "--config", type=Path, default=DEMO_CONFIG)
    demo.add_argument("--store", help="store URL (default: a fresh SQLite file in a temp directory)")

    db = commands.add_parser("db", help="store maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_upgrade = db_commands.add_parser("upgrade", help="apply store migrations")
    db_upgrade.add_argument("-c", "--config", type=Path, help="take the store URL from this YAML")
    db_upgrade.add_argument("--store", help="store URL (overrides the YAML)")
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
        return settings


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    redactor = configure_logging(level=args.log_level.upper(), as_json=args.log_json)
    # Piped output (CI logs, cron mail) gets wide tables instead of 80 truncated columns.
    width = None if sys.stdout.isatty() else 200
    cli = Cli(args, Console(highlight=False, soft_wrap=True, width=width), redactor)
    handlers: dict[str, Callable[[Cli], int]] = {
        "validate": _validate,
        "run": _run,
        "demo": _demo,
        "db": _db,
    }
    try:
        return handlers[args.command](cli)
    except ConfigError as exc:
        text.print_config_error(Console(stderr=True, highlight=False), exc)
        return EXIT_CONFIG
    except StoreError as exc:
        Console(stderr=True, highlight=False).print(f"[red]store: {exc}[/red]")
        return EXIT_FAILED


def _validate(cli: Cli) -> int:
    args, out = cli.args, cli.out
    settings = cli.load(args.config)
    krs = sum(len(o.key_results) for o in settings.objectives)
    out.print(
        f"{args.config}: valid — {len(settings.sources)} sources, {len(settings.objectives)} objectives, "
        f"{krs} key results, {len(settings.writeback)} write-back targets"
    )
    return EXIT_OK


def connector_factory(settings: Settings) -> Callable[[str], Connector]:
    def open_named(name: str) -> Connector:
        targets = [t for t in settings.writeback if t.source == name]
        return open_connector(name, settings.sources[name], writeback=targets)

    return open_named


def _cycle(settings: Settings, out: Console, options: CycleOptions) -> int:
    store = open_store(settings.store)
    try:
        report = run_cycle(
            settings, store, connector_factory(settings), clock=lambda: datetime.now(UTC), options=options
        )
    finally:
        store.close()
    text.print_cycle(out, report)
    if report.errors:
        print(f"okrsync: cycle failed: {report.errors[0]}", file=sys.stderr)
    return report.exit_code


def _run(cli: Cli) -> int:
    args, out = cli.args, cli.out
    settings = cli.load(args.config)
    unknown = [s for s in args.source or [] if s not in settings.sources]
    if unknown:
        print(f"okrsync: no source named {', '.join(unknown)} in {args.config}", file=sys.stderr)
        return EXIT_CONFIG
    options = CycleOptions(
        phases=[args.only] if args.only else PHASES, sources=args.source or None, full=args.full
    )
    return _cycle(settings, out, options)


def _demo(cli: Cli) -> int:
    args, out = cli.args, cli.out
    from connectors.sandbox.demo import read_user_fields, start_demo_org

    with start_demo_org() as (sandbox_env, sandbox), tempfile.TemporaryDirectory() as workdir:
        settings = cli.load(args.config, {**os.environ, **sandbox_env})
        store_url = args.store or f"sqlite:///{Path(workdir) / 'okrsync-demo.db'}"
        settings = settings.model_copy(update={"store": store_url})
        out.print(f"sandbox CRM running at {sandbox_env['OKRSYNC_SANDBOX_SF_URL']}; store: {store_url}")
        code = _cycle(settings, out, CycleOptions())
        store = open_store(store_url)
        try:
            with store.sessions() as session:
                from syncer.store.snapshots import latest_values

                values = latest_values(session)
        finally:
            store.close()
        out.print(text.key_result_table(values, title="Per rep", groups=True))
        for target in settings.writeback:
            if isinstance(target, OwnerTarget) and target.object == "User":
                rows = read_user_fields(sandbox, list(target.fields))
                out.print(
                    text.records_table(rows, title="Fields now on the reps' User records in the sandbox")
                )
    return code


def _db(cli: Cli) -> int:
    args, out = cli.args, cli.out
    url = args.store or (cli.load(args.config).store if args.config else None)
    if url is None:
        print("okrsync db upgrade: give -c FILE or --store URL", file=sys.stderr)
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
