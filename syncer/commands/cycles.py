"""The commands that run a cycle or part of it: `run`, `push` and `plan`."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime

from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from syncer import staleness
from syncer.commands.crm import connector_factory
from syncer.commands.invocation import Cli
from syncer.config.models import Settings
from syncer.cycle import EXIT_CONFIG, EXIT_FAILED, PHASES, CycleOptions, run_cycle
from syncer.errors import OkrsyncError
from syncer.failures import describe_error
from syncer.interruption import stop_on_sigterm
from syncer.serve.alerts import send_alerts
from syncer.store.database import NewStore, open_store
from syncer.store.snapshots import latest_values
from syncer.views import console as text
from syncer.views.progress import live_progress
from syncer.views.terminal import SafeConsole, print_error


def cycle_and_print(
    settings: Settings,
    out: Console,
    options: CycleOptions,
    *,
    on_new: NewStore | None = None,
) -> int:
    """Run a cycle and print its summary. While it runs, a progress display on stderr if that is
    a terminal (gone before the summary prints; stdout may be redirected)."""
    store = open_store(settings.store, on_new=on_new)
    try:
        with store.sessions() as session:
            previous = latest_values(session)  # what alerts compare the new statuses with
        # Retry waits end early on SIGTERM (`okrsync run`), so a stop is not held up by a long wait.
        opened = connector_factory(
            settings, sleep=options.stop.sleep if options.stop else time.sleep, store=store
        )
        with live_progress(SafeConsole(stderr=True)) as progress:
            options = replace(options, progress=progress)
            report = run_cycle(settings, store, opened, clock=lambda: datetime.now(UTC), options=options)
    except OkrsyncError:  # StoreError included: main prints it in one line
        raise
    except SQLAlchemyError as exc:  # one the store boundary did not translate: still one line
        print_error(f"cycle failed: {describe_error(exc)}")
        return EXIT_FAILED
    finally:
        store.close()
    send_alerts(settings, report, previous)
    text.print_cycle(out, report)
    if report.errors:  # one line per failed source or phase: the second one matters as much
        print_error(f"cycle failed: {report.errors[0]}")
        for error in report.errors[1:]:
            print_error(f"also failed: {error}")
    if report.stale:
        print_error(f"{staleness.summary(report.stale)}")
    return report.exit_code


def run_command(cli: Cli) -> int:
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
        return cycle_and_print(settings, out, options, on_new=cli.announce_new_store)


def push_command(cli: Cli) -> int:
    """The push phase alone; with --force every value is sent again (syncer.drift)."""
    settings = cli.load(cli.args.config)
    with stop_on_sigterm() as stop:
        options = CycleOptions(phases=["push"], force=cli.args.force, stop=stop)
        return cycle_and_print(settings, cli.out, options, on_new=cli.announce_new_store)


def plan_command(cli: Cli) -> int:
    from syncer import plan

    settings = cli.load(cli.args.config)
    return plan.plan_command(
        settings,
        connector_factory(settings),
        out=cli.out,
        as_json=cli.args.json,
        on_new=cli.announce_new_store,
    )
