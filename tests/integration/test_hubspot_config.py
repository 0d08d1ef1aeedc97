"""config/example-hubspot.yaml: the documented real-world example is valid once its variables are set."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncer.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "example-hubspot.yaml"
EXAMPLE_ENV = {"OKRSYNC_STORE_URL": "sqlite:///okrsync.db", "HUBSPOT_TOKEN": "pat-na1-example-token"}


def test_example_hubspot_config_is_valid(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in EXAMPLE_ENV.items():
        monkeypatch.setenv(name, value)
    assert main(["validate", "-c", str(EXAMPLE)]) == 0
    assert "valid — 1 sources, 3 objectives, 4 key results, 1 write-back targets" in capsys.readouterr().out


def test_example_hubspot_config_names_a_missing_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OKRSYNC_STORE_URL", "sqlite:///okrsync.db")
    monkeypatch.delenv("HUBSPOT_TOKEN", raising=False)
    assert main(["validate", "-c", str(EXAMPLE)]) == 2
    assert "environment variable HUBSPOT_TOKEN is not set" in capsys.readouterr().err
