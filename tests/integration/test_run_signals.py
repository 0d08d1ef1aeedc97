"""Signals to a real `okrsync run` mid-pull: Ctrl-C and SIGTERM are recorded `interrupted`, kill -9
leaves a run that the next start closes as `abandoned`.

The third deals page of the Salesforce sandbox answers 503 with Retry-After: 30, so the worker is
waiting between two committed pages when the signal arrives.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sandbox.demo import DemoOrg
from syncer.store import cursors, stream_status
from syncer.store.database import open_store
from syncer.store.runs import RunInfo, recent
from tests.integration.test_salesforce_cycle import DEMO
from tests.integration.test_salesforce_cycle import sandbox as sandbox  # the fixture

pytestmark = pytest.mark.integration
DEADLINE_SECONDS = 60


def start_run(demo: DemoOrg, tmp_path: Path, store_url: str) -> tuple[subprocess.Popen[str], Path]:
    """`okrsync run` on the demo YAML (200-row pages), stopped in its retry wait on the third page."""
    config = tmp_path / "okr.yaml"
    text = DEMO.read_text().replace(
        "    schedule: {every: 15m}", "    schedule: {every: 15m}\n    page_size: 200"
    )
    config.write_text(text.replace("sqlite:///okrsync-demo.db", store_url))
    sf = demo.salesforce
    sf.fail_next(1, status=503, path_contains="-400", retry_after=30)
    process = subprocess.Popen(
        [sys.executable, "-m", "syncer", "run", "-c", str(config)],
        env={**os.environ, **demo.env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not any(r.status == 503 for r in sf.requests) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert any(r.status == 503 for r in sf.requests), "the run never reached the third page"
    time.sleep(0.3)  # into the retry wait
    return process, config


def runs_of(store_url: str) -> list[RunInfo]:
    store = open_store(store_url)
    try:
        with store.sessions() as session:
            return list(reversed(recent(session)))
    finally:
        store.close()


def stop(process: subprocess.Popen[str], signum: int) -> tuple[int, list[str], float]:
    """Send `signum`; the exit code, stderr lines and how long the process took to end."""
    sent = time.monotonic()
    process.send_signal(signum)
    _, err = process.communicate(timeout=DEADLINE_SECONDS)
    return process.returncode, err.strip().splitlines(), time.monotonic() - sent


@pytest.mark.parametrize(
    ("signum", "exit_code", "line"),
    [
        (signal.SIGINT, 130, "okrsync: interrupted (Ctrl-C)"),
        (signal.SIGTERM, 143, "okrsync: stopped by SIGTERM"),
    ],
)
def test_a_signal_mid_pull_marks_the_run_interrupted_with_one_line(
    sandbox: DemoOrg, tmp_path: Path, store_url: str, signum: int, exit_code: int, line: str
) -> None:
    process, _ = start_run(sandbox, tmp_path, store_url)

    code, err, took = stop(process, signum)

    assert code == exit_code
    assert err[-1] == line
    assert not [text for text in err if "Traceback" in text or "KeyboardInterrupt" in text]
    assert took < 10  # the 30-second retry wait did not hold it up
    [run] = runs_of(store_url)
    assert (run.status, run.finished_at is not None) == ("interrupted", True)
    store = open_store(store_url)
    try:
        with store.sessions() as session:
            assert cursors.load(session, "sfdc", "deals") is not None  # the committed pages stay
            state = stream_status.load_states(session)[("sfdc", "deals")]
    finally:
        store.close()
    assert state.completed_at is None
    assert state.error is not None
    assert state.error.startswith("interrupted")


def test_a_killed_run_is_abandoned_at_the_next_start(
    sandbox: DemoOrg, tmp_path: Path, store_url: str
) -> None:
    process, config = start_run(sandbox, tmp_path, store_url)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=DEADLINE_SECONDS)
    [killed] = runs_of(store_url)
    assert killed.status == "running"

    started = time.monotonic()
    rerun = subprocess.run(
        [sys.executable, "-m", "syncer", "run", "-c", str(config)],
        env={**os.environ, **sandbox.env},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert rerun.returncode == 0, rerun.stderr
    assert time.monotonic() - started < 30  # the dead process's lease was taken over at once
    assert [(r.status, r.counts.error is not None) for r in runs_of(store_url)] == [
        ("abandoned", True),
        ("ok", False),
    ]
    status = subprocess.run(
        [sys.executable, "-m", "syncer", "status", "-c", str(config)],
        env={**os.environ, **sandbox.env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert status.returncode == 0, status.stderr
    assert "abandoned" in status.stdout
