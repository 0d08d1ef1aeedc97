"""The commands that read or maintain the store: `status`, `report` and `db`."""

from __future__ import annotations

from datetime import UTC, datetime

from syncer import identity_check
from syncer.commands.invocation import Cli
from syncer.cycle import EXIT_CONFIG, EXIT_OK
from syncer.store.database import create_store_engine, open_store, upgrade
from syncer.views import console as text
from syncer.views.report import check_output_path, write_report
from syncer.views.status_data import collect_status
from syncer.views.terminal import print_error


def status_command(cli: Cli) -> int:
    settings = cli.load(cli.args.config)
    store = open_store(settings.store)
    try:
        with store.sessions() as session:
            status = collect_status(session, settings, now=datetime.now(UTC))
    finally:
        store.close()
    text.print_status(cli.out, status)
    return EXIT_OK


def report_command(cli: Cli) -> int:
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


def db_command(cli: Cli) -> int:
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
