"""`okrsync serve` as ops run it: a subprocess on a 2-second schedule against the sandbox."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from sandbox.demo import DemoOrg, start_demo_org
from syncer.store.database import open_store
from syncer.store.tables import RunRow
from tests.integration.test_salesforce_cycle import (
    current_quarter,
    ensure_demo_fields,
    expected_per_rep,
    in_usd,
    written_user_fields,
)

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "config" / "demo.yaml"
DEADLINE_SECONDS = 120  # generous: two shared cores, other suites running


@pytest.fixture
def sandbox() -> Iterator[DemoOrg]:
    with start_demo_org() as started:
        ensure_demo_fields(started.env)
        time.sleep(1.05 - datetime.now(UTC).microsecond / 1e6)  # see test_salesforce_cycle.sandbox
        yield started


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve_config(tmp_path: Path, store_url: str, port: int, *, every: str = "2s") -> Path:
    config = tmp_path / "okr.yaml"
    text = DEMO.read_text().replace("schedule: {every: 15m}", f"schedule: {{every: {every}}}")
    text = text.replace("sqlite:///okrsync-demo.db", store_url)
    config.write_text(text + f"\nserve: {{host: 127.0.0.1, port: {port}, stale_after: 1h}}\n")
    return config


def wait_for(condition: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def run_rows(store_url: str) -> list[tuple[int, str, datetime | None]]:
    store = open_store(store_url)
    try:
        with store.sessions() as session:
            return [tuple(r) for r in session.execute(select(RunRow.id, RunRow.status, RunRow.finished_at))]  # type: ignore[misc]
    finally:
        store.close()


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_serve_runs_on_schedule_writes_changes_back_and_stops_cleanly(sandbox, tmp_path: Path) -> None:
    env, sf = sandbox.env, sandbox.salesforce
    store_url = f"sqlite:///{tmp_path / 'serve.db'}"
    port = free_port()
    log_file = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "syncer",
            "--log-level",
            "INFO",
            "--log-json",
            "serve",
            "-c",
            str(serve_config(tmp_path, store_url, port)),
        ],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=log_file,
    )
    try:
        wait_for(lambda: sum(s == "ok" for _, s, _ in run_rows(store_url)) >= 2, "two finished cycles")
        assert written_user_fields(sf) == expected_per_rep(sf)
        status, body = get(port, "/healthz")
        assert (status, json.loads(body)["status"]) == (200, "ok")
        status, metrics = get(port, "/metrics")
        assert status == 200
        assert 'okrsync_cycles_total{source="sfdc",status="ok"}' in metrics
        assert 'okrsync_key_result_value{group="total",key_result="revenue",objective="q-revenue"}' in metrics
        assert get(port, "/")[0] == 200

        start, end = current_quarter()
        reps = expected_per_rep(sf)
        deal = next(  # a won new-business deal of this quarter, owned by a rep: it counts in revenue
            o
            for o in sf.org.records("Opportunity")
            if o["IsWon"]
            and o["Type"] == "New Business"
            and start <= o["CloseDate"] <= end
            and o["OwnerId"] in reps
        )
        rep = deal["OwnerId"]
        before = written_user_fields(sf)[rep]["revenue"]
        sf.org.update("Opportunity", deal["Id"], {"Amount": (deal["Amount"] or 0) + 1000})
        wait_for(lambda: written_user_fields(sf)[rep]["revenue"] != before, "the change on the User record")
        assert written_user_fields(sf) == expected_per_rep(sf)
        assert in_usd(sf, sf.org.get("Opportunity", deal["Id"])) > in_usd(sf, deal)
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=DEADLINE_SECONDS)
        log_file.close()
    assert code == 0, (tmp_path / "serve.log").read_text()[-3000:]
    rows = run_rows(store_url)
    assert rows
    assert all(status != "running" and finished is not None for _, status, finished in rows)
