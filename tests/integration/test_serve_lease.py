"""Two workers on one store: while one `okrsync run` is mid-cycle, a second one refuses to start."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.test_salesforce_cycle import DEMO, expected_per_rep, written_user_fields
from tests.integration.test_serve import sandbox  # noqa: F401 - the fixture

pytestmark = pytest.mark.integration
DEADLINE_SECONDS = 120


def run_config(tmp_path: Path, store_url: str) -> Path:
    config = tmp_path / "okr.yaml"
    text = DEMO.read_text().replace(
        "    schedule: {every: 15m}", "    schedule: {every: 15m}\n    page_size: 200"
    )
    config.write_text(text.replace("sqlite:///okrsync-demo.db", store_url))
    return config


def test_a_second_run_exits_1_while_the_first_holds_the_lease(
    request: pytest.FixtureRequest, store_url: str, tmp_path: Path
) -> None:
    demo = request.getfixturevalue("sandbox")
    env, sf = demo.env, demo.salesforce
    config = run_config(tmp_path, store_url)
    command = [sys.executable, "-m", "syncer", "run", "-c", str(config)]
    # The third deals page answers 503 with Retry-After: 3: the first worker sleeps mid-cycle.
    sf.fail_next(1, status=503, path_contains="-400", retry_after=3)
    first = subprocess.Popen(
        command, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not any(r.status == 503 for r in sf.requests) and time.monotonic() < deadline:
        time.sleep(0.05)
    second = subprocess.run(
        command, env={**os.environ, **env}, capture_output=True, text=True, timeout=DEADLINE_SECONDS
    )
    _, first_err = first.communicate(timeout=DEADLINE_SECONDS)
    assert first.returncode == 0, first_err
    assert second.returncode == 1
    [line] = second.stderr.strip().splitlines()
    assert line.startswith("okrsync: another worker is running a cycle on this store")
    assert written_user_fields(sf) == expected_per_rep(sf)
