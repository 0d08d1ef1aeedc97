"""`okrsync fleet`: many orgs on Celery workers (syncer/fleet/, README "Deployment").

- `fleet validate -f FLEET`: the fleet file and every org's YAML, problems as `file:line`.
- `fleet beat -f FLEET`: the one scheduler: queues each org's sources on their own schedules.
- `fleet worker -f FLEET [--concurrency N]`: runs queued cycles (any number, on any hosts), and
  serves /healthz and /metrics (labelled by org).
- `fleet send -f FLEET [--org NAME]`: queue one cycle of each org (or of those named) now.
"""

from __future__ import annotations

import argparse
import html
import os
import socket
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from syncer.commands.crm import connector_factory
from syncer.commands.invocation import Cli
from syncer.commands.sandbox_command import port_number
from syncer.cycle import EXIT_CONFIG, EXIT_FAILED, EXIT_OK
from syncer.fleet.fleet_file import Fleet, load_fleet
from syncer.serve.scheduler import serving_line
from syncer.views.terminal import print_error

FLEET_VARIABLE = "OKRSYNC_FLEET"
DEFAULT_CONCURRENCY = 2


def add_fleet_parser(commands: Any, common: list[argparse.ArgumentParser]) -> None:
    """`okrsync fleet ACTION`, added to the CLI's subcommands."""
    help_text = "run many orgs (one YAML each) on Celery workers: beat schedules, workers run cycles"
    fleet = commands.add_parser("fleet", help=help_text, description=help_text, parents=common)
    actions = fleet.add_subparsers(dest="fleet_command", required=True, metavar="ACTION")

    def action(name: str, text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = actions.add_parser(
            name, help=text, description=text, parents=common
        )
        from_env = os.environ.get(FLEET_VARIABLE) or None
        parser.add_argument(
            "-f",
            "--fleet",
            type=Path,
            default=from_env,
            required=from_env is None,
            metavar="FLEET",
            help=f"the fleet file (default: ${FLEET_VARIABLE})",
        )
        return parser

    action("validate", "check the fleet file and every org's YAML (the environment must be set)")
    action("beat", "queue each org's cycles on its sources' schedules (run exactly one)")
    worker = action("worker", "run queued cycles until stopped; serves /healthz and /metrics")
    worker.add_argument(
        "--concurrency",
        type=_positive,
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"cycles this worker runs at once, on threads (default: {DEFAULT_CONCURRENCY})",
    )
    worker.add_argument(
        "--port", type=port_number, metavar="N", help="port of /healthz and /metrics (overrides metrics.port)"
    )
    send = action("send", "queue one cycle of every org (or of --org) now")
    send.add_argument("--org", action="append", metavar="NAME", help="only this org (repeatable)")


def fleet_command(cli: Cli) -> int:
    handlers: dict[str, Callable[[Cli, Fleet], int]] = {
        "validate": _validate,
        "beat": _beat,
        "worker": _worker,
        "send": _send,
    }
    return handlers[cli.args.fleet_command](cli, load(cli))


def load(cli: Cli) -> Fleet:
    """The fleet file and every org's YAML; from then on log lines mask all their secrets."""
    fleet = load_fleet(cli.args.fleet, os.environ, lambda path: cli.load(path))
    token = fleet.metrics.auth_token
    password = _broker_password(fleet.broker)
    cli.redactor.add({s for s in (password, token.get_secret_value() if token else None) if s})
    return fleet


def _broker_password(url: str) -> str | None:
    return urlsplit(url).password


def _validate(cli: Cli, fleet: Fleet) -> int:
    sources = sum(len(org.settings.sources) for org in fleet.orgs.values())
    cli.out.print(
        f"{cli.args.fleet}: valid — {len(fleet.orgs)} orgs, {sources} sources, queue {fleet.queue}",
        markup=False,
        highlight=False,
    )
    return EXIT_OK


def _announce(cli: Cli, line: str) -> None:
    cli.out.print(line, markup=False, highlight=False)
    sys.stdout.flush()  # piped to a log collector: shown now, not at exit


def _beat(cli: Cli, fleet: Fleet) -> int:
    from syncer.fleet.app import build_app
    from syncer.fleet.schedules import beat_schedule, schedule_lines

    app = build_app(fleet)
    app.conf.beat_schedule = beat_schedule(fleet, app=app)
    _announce(cli, f"fleet beat: {len(fleet.orgs)} orgs on queue {fleet.queue}; every source runs now, then:")
    for line in schedule_lines(fleet):
        _announce(cli, line)
    app.Beat(loglevel=cli.args.log_level, quiet=True).run()
    return EXIT_OK


def _worker(cli: Cli, fleet: Fleet) -> int:
    from celery import bootsteps

    from syncer.fleet.app import build_app
    from syncer.fleet.org_cycles import OrgCycles
    from syncer.fleet.telemetry import FleetTelemetry
    from syncer.serve.web import ListenError, Pages, open_web_server

    telemetry = FleetTelemetry(list(fleet.orgs), started_at=datetime.now(UTC))
    cycles = OrgCycles(
        fleet, connectors=connector_factory, telemetry=telemetry, clock=lambda: datetime.now(UTC)
    )
    app = build_app(fleet, cycles)
    worker = app.Worker(
        pool="threads",
        concurrency=cli.args.concurrency,
        queues=[fleet.queue],
        hostname=f"okrsync@{socket.gethostname()}.{os.getpid()}",
        without_gossip=True,  # workers share nothing but the queue: no chatter between them
        without_mingle=True,
        without_heartbeat=True,
        loglevel=cli.args.log_level,
        quiet=True,
    )

    def consuming() -> bool:
        return worker.blueprint is not None and worker.blueprint.state == bootsteps.RUN

    token = fleet.metrics.auth_token
    pages = Pages(
        health=lambda: telemetry.health(consuming()),
        metrics=telemetry.exposition,
        status=lambda: _status_page(fleet, telemetry.last_success),
        token=lambda: None if token is None else token.get_secret_value(),
    )
    port = fleet.metrics.port if cli.args.port is None else cli.args.port
    try:
        server = open_web_server(fleet.metrics.host, port, pages)
    except ListenError as exc:
        print_error(str(exc))
        return EXIT_FAILED
    _announce(cli, serving_line(fleet.metrics.host, int(server.server_address[1])))
    _announce(
        cli,
        f"fleet worker {os.getpid()}: {len(fleet.orgs)} orgs, {cli.args.concurrency} at once, queue {fleet.queue}",
    )
    try:
        worker.start()
    finally:
        server.shutdown()
        server.server_close()
        cycles.close()
    return int(worker.exitcode or 0)


def _status_page(fleet: Fleet, last_success: dict[str, datetime | None]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(org)}</td><td>{html.escape(at.isoformat() if at else 'not on this worker yet')}</td></tr>"
        for org, at in sorted(last_success.items())
    )
    return (
        "<!doctype html><title>okrsync fleet worker</title>"
        f"<h1>okrsync fleet worker: {len(fleet.orgs)} orgs</h1>"
        "<p>Each org's numbers: <code>okrsync status -c ORG.yaml</code> or its report.</p>"
        f"<table><tr><th>org</th><th>last successful cycle on this worker</th></tr>{rows}</table>"
    )


def _send(cli: Cli, fleet: Fleet) -> int:
    from syncer.fleet.app import build_app, send_cycles

    wanted = cli.args.org or list(fleet.orgs)
    unknown = [name for name in wanted if name not in fleet.orgs]
    if unknown:
        print_error(f"no org named {', '.join(unknown)} in {cli.args.fleet}")
        return EXIT_CONFIG
    app = build_app(fleet)
    for org, task_id in send_cycles(app, fleet, wanted):
        _announce(cli, f"queued a cycle of {org} ({task_id})")
    return EXIT_OK


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value
