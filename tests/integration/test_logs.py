"""Logs of a full cycle: one JSON event per line, with run id, counts and duration; no secrets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from syncer.config import load_settings
from syncer.config.object_streams import declared_names
from tests.integration.test_salesforce_cycle import DEMO
from tests.integration.test_serve import sandbox  # noqa: F401 - the fixture

pytestmark = pytest.mark.integration


def test_a_cycle_logs_structured_events_and_never_a_secret(sandbox, tmp_path: Path) -> None:  # noqa: F811
    env, sf, hs = sandbox.env, sandbox.salesforce, sandbox.hubspot
    config = tmp_path / "okr.yaml"
    config.write_text(
        DEMO.read_text().replace("sqlite:///okrsync-demo.db", f"sqlite:///{tmp_path / 'okr.db'}")
    )
    done = subprocess.run(
        [sys.executable, "-m", "syncer", "--log-level", "INFO", "--log-json", "run", "-c", str(config)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    events = [json.loads(line) for line in done.stderr.splitlines()]  # every line is one JSON event
    by_name = {e["event"]: e for e in events}
    finished = by_name["cycle finished"]
    assert finished["status"] == "ok"
    assert finished["duration_seconds"] > 0
    assert finished["written"] > 0
    pulled = [e for e in events if e["event"] == "stream pulled"]
    # Each source's built-in streams and the object streams it declares (README "Any object as a stream").
    settings = load_settings(config, env)
    assert {(e["source"], e["stream"]) for e in pulled} == {
        (name, stream)
        for name, source in settings.sources.items()
        for stream in [*source.streams, *declared_names(source)]
    }
    assert {e["run_id"] for e in pulled} == {finished["run_id"]} == {by_name["cycle started"]["run_id"]}
    assert all(e["received"] > 0 for e in pulled)
    token_prefix = f"{sf.org.org_id[:15]}!AQ"
    assert sf.client_secret not in done.stderr
    assert token_prefix not in done.stderr
    assert sf.client_secret not in done.stdout
    assert token_prefix not in done.stdout
    assert hs.access_token not in done.stderr
    assert hs.access_token not in done.stdout
