"""Who can reach `okrsync serve`, as ops run it (a subprocess, real HTTP on 127.0.0.1): loopback
by default, the status page and /metrics behind `serve.auth_token`, /healthz open for probes; the
line that says where it listens, and one line instead of a traceback when it cannot."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.integration.test_serve import (
    DEADLINE_SECONDS,
    DEMO,
    free_port,
    run_rows,
    sandbox,  # noqa: F401 - the fixture
    wait_for,
)

pytestmark = pytest.mark.integration
TOKEN = "s3rve-t0ken-" + "9f" * 16  # what `openssl rand -hex 32` would give, with a recognisable prefix
MINIMAL = """\
version: 1
store: sqlite:///{store}
sources:
  sfdc:
    kind: salesforce
    instance_url: https://example.my.salesforce.com
    auth:
      method: access_token
      access_token: ${{SF_TOKEN}}
    schedule: {{every: 1h}}
    streams:
      deals: {{object: Opportunity}}
{serve}"""
MINIMAL_ENV = {"SF_TOKEN": "tok-abcdef"}


def okrsync(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "syncer", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=DEADLINE_SECONDS,
    )


def minimal_config(tmp_path: Path, serve: str) -> Path:
    config = tmp_path / "okr.yaml"
    config.write_text(MINIMAL.format(store=tmp_path / "okr.db", serve=serve))
    return config


def http_get(port: int, path: str, authorization: str | None = None) -> tuple[int, dict[str, str], str]:
    headers = {} if authorization is None else {"Authorization": authorization}
    try:
        with urllib.request.urlopen(
            urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers), timeout=10
        ) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def listening_addresses(port: int) -> set[str]:
    """The local addresses of the IPv4 sockets listening on `port`, from the kernel's own table."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        hex_address, hex_port = local.split(":")
        if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
            found.add(socket.inet_ntoa(bytes.fromhex(hex_address)[::-1]))
    return found


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads the kernel's socket table")
def test_serve_listens_on_loopback_by_default_and_asks_a_bearer_token_for_every_page_but_healthz(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    demo = request.getfixturevalue("sandbox")
    store_url = f"sqlite:///{tmp_path / 'serve.db'}"
    port = free_port()
    config = tmp_path / "okr.yaml"
    text = DEMO.read_text().replace("schedule: {every: 15m}", "schedule: {every: 2s}")
    text = text.replace("sqlite:///okrsync-demo.db", store_url)
    # No host: the default. The token comes from the environment, as deploy/ does it.
    config.write_text(text + f"\nserve:\n  port: {port}\n  auth_token: ${{OKRSYNC_SERVE_TOKEN}}\n")
    log_file = tmp_path / "serve.log"
    with log_file.open("w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "syncer",
                "--log-level",
                "DEBUG",
                "--log-json",
                "serve",
                "-c",
                str(config),
            ],
            env={**os.environ, **demo.env, "OKRSYNC_SERVE_TOKEN": TOKEN},
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(process.stdout or ()), daemon=True)
        reader.start()
        try:
            wait_for(lambda: len(lines) >= 3, "the address and both sources' schedules on stdout")
            wait_for(lambda: any(s == "ok" for _, s, _ in run_rows(store_url)), "a finished cycle")
            assert lines[0] == (
                f"serving the status page on http://127.0.0.1:{port}/ (metrics /metrics, health /healthz)\n"
            )
            assert lines[1].startswith("  sfdc: every 2s, next run now, then ")
            assert lines[2].startswith("  hub: every 10m, next run now, then ")
            assert listening_addresses(port) == {"127.0.0.1"}

            for path in ("/", "/metrics"):
                for authorization in (None, "Bearer wrong-token-of-some-length", f"Basic {TOKEN}", "Bearer"):
                    status, headers, _ = http_get(port, path, authorization)
                    assert (status, headers.get("WWW-Authenticate", "")[:6]) == (401, "Bearer"), (
                        path,
                        authorization,
                    )
            status, _, page = http_get(port, "/", f"Bearer {TOKEN}")
            assert status == 200
            assert "<html" in page.lower()
            status, _, metrics = http_get(port, "/metrics", f"Bearer {TOKEN}")
            assert status == 200
            assert any(
                line.startswith("okrsync_cycles_total{") and 'status="ok"' in line
                for line in metrics.splitlines()
            )
            status, _, health = http_get(port, "/healthz")  # what a probe sends: no credentials
            assert status == 200
            assert '"status": "ok"' in health
            # The token in a request line, which DEBUG logs: the log must show it masked.
            assert http_get(port, f"/metrics?leak={TOKEN}", f"Bearer {TOKEN}")[0] == 200
        finally:
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=DEADLINE_SECONDS)
            reader.join(timeout=10)
    logged = log_file.read_text()
    assert code == 0, logged[-3000:]
    assert "leak=***" in logged
    assert TOKEN not in logged
    assert TOKEN not in "".join(lines)
    assert "serving the status page on http://127.0.0.1:" in logged  # the INFO event says it too


def test_a_port_in_use_is_one_line_and_exit_1(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = minimal_config(tmp_path, f"serve: {{port: {port}}}\n")
        result = okrsync("serve", "-c", str(config), env=MINIMAL_ENV)
        other_port = free_port()
        with socket.socket() as second:
            second.bind(("127.0.0.1", other_port))
            second.listen()
            overridden = okrsync("serve", "-c", str(config), "--port", str(other_port), env=MINIMAL_ENV)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"okrsync: serve cannot listen on 127.0.0.1:{port}: address already in use — stop what listens "
        "there or set serve.port / --port"
    ]
    assert "Traceback" not in result.stdout + result.stderr
    assert overridden.returncode == 1
    assert overridden.stderr.startswith(f"okrsync: serve cannot listen on 127.0.0.1:{other_port}: ")


def test_an_open_host_without_a_token_is_refused_with_its_line_and_the_fix(tmp_path: Path) -> None:
    config = minimal_config(tmp_path, "serve:\n  port: 8080\n  host: 0.0.0.0\n")
    fix = (
        "serve.host `0.0.0.0` lets other machines read every rep's numbers without a password: "
        "set serve.auth_token: ${OKRSYNC_SERVE_TOKEN}, or host: 127.0.0.1"
    )
    for command in ("validate", "serve"):
        result = okrsync(command, "-c", str(config), env=MINIMAL_ENV)
        assert result.returncode == 2, result.stderr
        assert f"{config}:15: {fix}" in result.stderr + result.stdout
    assert not (tmp_path / "okr.db").exists()  # refused before the store was touched


@pytest.mark.parametrize("host", ["127.0.0.1", "127.3.2.1", "localhost", "::1"])
def test_a_loopback_host_needs_no_token(tmp_path: Path, host: str) -> None:
    config = minimal_config(tmp_path, f"serve:\n  host: '{host}'\n")
    result = okrsync("validate", "-c", str(config), env=MINIMAL_ENV)
    assert result.returncode == 0, result.stderr


def test_a_short_or_literal_token_is_refused_without_showing_it(tmp_path: Path) -> None:
    config = minimal_config(tmp_path, "serve:\n  host: 0.0.0.0\n  auth_token: ${OKRSYNC_SERVE_TOKEN}\n")
    short = okrsync(
        "validate", "-c", str(config), env={**MINIMAL_ENV, "OKRSYNC_SERVE_TOKEN": "hunter2hunter"}
    )
    assert short.returncode == 2
    assert (
        f"{config}:15: serve.auth_token has 13 characters: use at least 16 random characters "
        "(e.g. `openssl rand -hex 32`)"
    ) in short.stderr
    assert "hunter2" not in short.stderr + short.stdout
    literal = minimal_config(tmp_path, f"serve:\n  host: 0.0.0.0\n  auth_token: {TOKEN}\n")
    result = okrsync("validate", "-c", str(literal), env=MINIMAL_ENV)
    assert result.returncode == 2
    assert f"{literal}:15: `serve.auth_token` holds a literal secret" in result.stderr
    assert TOKEN not in result.stderr + result.stdout
