"""`okrsync sandbox`: both local CRM sandboxes, seeded like the demo, until SIGTERM or Ctrl-C, with
the environment and a ready YAML to try every other command against them.

The sandboxes live in this process, so other shells reach them through a file: `sandbox.env` in
the directory, written once both answer and deleted when they stop, holds `export` lines (the
sandbox's URLs, credentials and CA bundle, which change at every start) to source; `okrsync.yaml`
beside it is the demo YAML with its store in that directory and `okrsync serve` on a free port.
Imports `sandbox` only inside its functions, and only `sandbox.demo` (docs/architecture.md).
"""

from __future__ import annotations

import argparse
import errno
import os
import re
import shlex
import signal
import socket
import threading
from pathlib import Path
from types import FrameType

from rich.console import Console

from syncer.commands.invocation import Cli
from syncer.cycle import EXIT_CONFIG, EXIT_FAILED, EXIT_OK
from syncer.views.terminal import print_error

CONFIG_FILE = "okrsync.yaml"
ENV_FILE = "sandbox.env"
STORE_FILE = "okrsync.db"  # with its SQLite companions, replaced at every start
STORE_COMPANIONS = ("", "-wal", "-shm", "-journal")
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)  # HUP: the terminal went away
POLL_SECONDS = 0.2  # how often the main thread looks at its stop flag
PID_VARIABLE = "OKRSYNC_SANDBOX_PID"
SERVE_URL_VARIABLE = "OKRSYNC_SANDBOX_SERVE_URL"
_STORE_LINE = re.compile(r"^store:.*$", re.MULTILINE)
_SERVE_SECTION = re.compile(r"^serve:", re.MULTILINE)
_PID_LINE = re.compile(rf"^export {PID_VARIABLE}=(\d+)$", re.MULTILINE)


def port_number(text: str) -> int:
    """An argparse type: a TCP port, 0 for any free one."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (0 to 65535; 0: any free one)")
    return port


def sandbox_command(cli: Cli) -> int:
    # Flags only: the main thread stops the sandboxes and deletes their files on its way out.
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    main_thread = threading.current_thread() is threading.main_thread()
    previous = {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS if main_thread}
    try:
        return _serve_until_stopped(cli, stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _serve_until_stopped(cli: Cli, stop: threading.Event) -> int:
    from sandbox.demo import SandboxPortError, serve_demo_org

    args, out = cli.args, cli.out
    directory: Path = args.dir
    env_file = directory / ENV_FILE
    try:
        template = args.config.read_text(encoding="utf-8")
        directory.mkdir(parents=True, exist_ok=True)
        running = _running_sandbox(env_file)
        if running is not None:
            print_error(
                f"another `okrsync sandbox` (pid {running}) uses {directory}: stop it "
                f"(kill {running}) or give this one another --dir"
            )
            return EXIT_FAILED
        serve_port = _listenable("okrsync serve", args.serve_port, "--serve-port")
        if serve_port is None:
            return EXIT_FAILED
        if args.store is None:
            for suffix in STORE_COMPANIONS:  # a fresh org needs a fresh store: its ledger is the old org's
                (directory / f"{STORE_FILE}{suffix}").unlink(missing_ok=True)
    except OSError as exc:
        print_error(f"{exc.filename or directory}: {exc.strerror or exc}")
        return EXIT_CONFIG if exc.filename == str(args.config) else EXIT_FAILED
    store_url = args.store or f"sqlite:///{STORE_FILE}"  # relative to the YAML beside it
    yaml = sandbox_yaml(template, args.config, store_url, serve_port)
    if yaml is None:
        print_error(f"{args.config}: no top-level `store:` line to point at the sandbox's store")
        return EXIT_CONFIG
    try:
        with serve_demo_org(sf_port=args.sf_port, hs_port=args.hs_port) as org:
            config = directory / CONFIG_FILE
            config.write_text(yaml, encoding="utf-8")
            settings = cli.load(config, {**os.environ, **org.env})  # the written YAML must be valid
            env = {
                **org.env,
                SERVE_URL_VARIABLE: f"http://127.0.0.1:{settings.serve.port}",
                PID_VARIABLE: str(os.getpid()),
            }
            text = env_text(
                env, directory, org_urls=(env["OKRSYNC_SANDBOX_SF_URL"], org.env["OKRSYNC_SANDBOX_HS_URL"])
            )
            _write_private(env_file, text)
            try:
                for line in text.splitlines():
                    out.print(line)
                _print_hint(out, directory, store_url)
                while not stop.wait(POLL_SECONDS):
                    pass
            finally:
                env_file.unlink(missing_ok=True)  # its URLs and CA die with the sandboxes
    except SandboxPortError as exc:
        option = "--sf-port" if exc.crm == "Salesforce" else "--hs-port"
        print_error(_port_problem(f"the {exc.crm} sandbox", exc.port, str(exc), exc.in_use, option))
        return EXIT_FAILED
    out.print(f"# okrsync sandbox stopped; {directory} keeps {CONFIG_FILE} and the store")
    return EXIT_OK


def sandbox_yaml(template: str, template_path: Path, store_url: str, serve_port: int) -> str | None:
    """The template YAML with its store replaced and, unless it has one, a `serve:` section on
    127.0.0.1; None when it has no top-level `store:` line."""
    text, found = _STORE_LINE.subn(lambda _: f"store: {store_url}", template, count=1)
    if not found:
        return None
    header = (
        f"# Written by `okrsync sandbox` from {template_path} at its start (rewritten at the next).\n"
        f"# Source {ENV_FILE} beside this file first: it sets the ${{OKRSYNC_SANDBOX_*}} variables.\n"
    )
    serve = "" if _SERVE_SECTION.search(text) else f"\nserve: {{host: 127.0.0.1, port: {serve_port}}}\n"
    return header + text + serve


def env_text(env: dict[str, str], directory: Path, *, org_urls: tuple[str, str]) -> str:
    """What `sandbox.env` holds and the command prints: shell, so either can be sourced or eval'd."""
    salesforce, hubspot = org_urls
    lines = [
        f"# okrsync sandbox: Salesforce at {salesforce}, HubSpot at {hubspot} (the demo's sample org)",
        f"# the environment {directory / CONFIG_FILE} reads; valid while this sandbox runs",
        *(f"export {name}={shlex.quote(value)}" for name, value in env.items()),
    ]
    return "\n".join(lines) + "\n"


def _print_hint(out: Console, directory: Path, store_url: str) -> None:
    config = shlex.quote(str(directory / CONFIG_FILE))
    out.print(f"# store: {store_url} (beside the YAML)")
    out.print(f"# these lines are in {directory / ENV_FILE}; in another shell:")
    out.print(f"#   . {shlex.quote(str(directory / ENV_FILE))}")
    out.print(f"#   okrsync validate -c {config}")
    out.print(f"# now try: okrsync check, fields ensure, plan, run, status, report, serve with -c {config}")
    out.print('# (README.md, "Try every command locally"); Ctrl-C or SIGTERM stops the sandbox')


def _running_sandbox(env_file: Path) -> int | None:
    """The pid of a live `okrsync sandbox` that wrote `env_file`, if any (a stale file is ignored)."""
    try:
        match = _PID_LINE.search(env_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    pid = int(match[1]) if match else 0
    if pid <= 0 or pid == os.getpid():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:  # alive, another user's
        return pid
    return pid


def _listenable(what: str, port: int, option: str) -> int | None:
    """`port` (a free one for 0) if something could listen there on 127.0.0.1 now; else None,
    with the problem on stderr."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as http.server binds
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            reason = exc.strerror or str(exc)
            print_error(_port_problem(what, port, reason, exc.errno == errno.EADDRINUSE, option))
            return None
        return int(probe.getsockname()[1])


def _port_problem(what: str, port: int, reason: str, in_use: bool, option: str) -> str:
    if in_use:
        return (
            f"port {port} for {what} is in use (another `okrsync sandbox`?): stop what listens "
            f"there, or choose another port with {option} N (0: any free one)"
        )
    return f"{what} cannot listen on port {port} ({reason}): choose another with {option} N (0: any free one)"


def _write_private(path: Path, text: str) -> None:
    """Write `text` (credentials) readable by this user only, replacing `path` in one step."""
    partial = path.with_name(f".{path.name}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
    os.replace(partial, path)
