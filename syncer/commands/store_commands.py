"""The commands that read or maintain the store: `status`, `report` and `db`."""

from __future__ import annotations

from datetime import UTC, datetime

from syncer import identity_check
from syncer.commands.invocation import Cli
from syncer.config.loading import OfflineSettings
from syncer.config.models import Settings
from syncer.cycle import EXIT_CONFIG, EXIT_OK
from syncer.errors import ConfigError, ConfigProblem
from syncer.store.database import create_store_engine, is_empty, open_store, refuse_new_store, upgrade
from syncer.store.faults import shown_url
from syncer.views import console as text
from syncer.views.report import check_output_path, write_report
from syncer.views.status_data import collect_status
from syncer.views.terminal import print_error


def status_command(cli: Cli) -> int:
    settings, url = _read_only(cli)
    store = open_store(url, on_new=refuse_new_store)
    try:
        with store.sessions() as session:
            status = collect_status(session, settings, now=datetime.now(UTC), series=False)
    finally:
        store.close()
    text.print_status(cli.out, status)
    return EXIT_OK


def report_command(cli: Cli) -> int:
    settings, url = _read_only(cli)
    check_output_path(cli.args.output)  # before the store is opened: refused means nothing touched
    store = open_store(url, on_new=refuse_new_store)
    try:
        with store.sessions() as session:
            path = write_report(session, settings, cli.args.output, now=datetime.now(UTC))
    finally:
        store.close()
    cli.out.print(f"report written to {path}")
    return EXIT_OK


def _read_only(cli: Cli) -> tuple[Settings, str]:
    """The settings and store URL of a command that reads only the store: no CRM secret needed.

    The YAML still says what the key results are (titles, periods, time zone); `--store`
    overrides where the store is.
    """
    loaded = cli.load_offline(cli.args.config)
    return loaded.settings, cli.args.store or _store_url(loaded)


def _store_url(loaded: OfflineSettings) -> str:
    if loaded.store_is_set:
        return loaded.settings.store
    unset = next(p for p in loaded.unset if p.message.endswith("(used by store)"))
    raise ConfigError(
        [ConfigProblem(unset.file, unset.line, f"{unset.message}: set it, or give --store URL")]
    )


def db_command(cli: Cli) -> int:
    args, out = cli.args, cli.out
    url = args.store or (_store_url(cli.load_offline(args.config)) if args.config else None)
    if url is not None and args.db_command == "reset-source":
        return identity_check.reset_source_command(out, url, args.source, confirmed=args.yes)
    if url is None:
        print_error(f"db {args.db_command}: give -c FILE or --store URL")
        return EXIT_CONFIG
    engine = create_store_engine(url)
    try:
        new = is_empty(engine)
        if new:
            cli.announce_new_store(shown_url(url))
        upgrade(engine)
    finally:
        engine.dispose()
    out.print("store schema is up to date")
    return EXIT_OK
