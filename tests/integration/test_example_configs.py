"""config/example-*.yaml: the documented real-world examples are valid once their variables are set,
and `validate` names each variable that is not."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncer.cli import main

CONFIG = Path(__file__).resolve().parents[2] / "config"
EXAMPLES = {
    "example-hubspot.yaml": (
        {"OKRSYNC_STORE_URL": "sqlite:///okrsync.db", "HUBSPOT_TOKEN": "pat-na1-example-token"},
        "valid — 1 source, 3 objectives, 5 key results, 1 write-back target",
    ),
    "example-salesforce.yaml": (
        {
            "OKRSYNC_STORE_URL": "sqlite:///okrsync.db",
            "SF_CLIENT_ID": "3MVG9example",
            "SF_USERNAME": "okr@acme.com",
        },
        "valid — 1 source, 3 objectives, 6 key results, 2 write-back targets",
    ),
}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_an_example_config_is_valid_with_its_variables_set(
    name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env, summary = EXAMPLES[name]
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    assert main(["validate", "--strict-env", "-c", str(CONFIG / name)]) == 0
    assert summary in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_an_example_config_names_each_missing_variable(
    name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env, _ = EXAMPLES[name]
    for variable in env:
        monkeypatch.delenv(variable, raising=False)

    assert main(["validate", "-c", str(CONFIG / name)]) == 0  # offline: a warning per variable
    out = capsys.readouterr().out
    assert all(f"environment variable {variable} is not set" in out for variable in env)

    assert main(["validate", "--strict-env", "-c", str(CONFIG / name)]) == 2
    err = capsys.readouterr().err
    assert all(f"environment variable {variable} is not set" in err for variable in env)
