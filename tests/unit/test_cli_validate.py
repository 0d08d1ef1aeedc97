"""`okrsync validate`: exit 0 when valid, 2 with every problem as file:line when not."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from syncer.cli import main

DEMO = Path(__file__).resolve().parents[2] / "config" / "demo.yaml"
SANDBOX_ENV = {
    "OKRSYNC_SANDBOX_SF_URL": "https://127.0.0.1:8443",
    "OKRSYNC_SANDBOX_CA": "/tmp/ca.pem",
    "OKRSYNC_SANDBOX_SF_CLIENT_ID": "demo-client",
    "OKRSYNC_SANDBOX_SF_CLIENT_SECRET": "demo-secret-value",
    "OKRSYNC_SANDBOX_HS_URL": "http://127.0.0.1:8080",
    "OKRSYNC_SANDBOX_HS_TOKEN": "pat-na1-demo-token",
}


def test_demo_config_is_valid(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for name, value in SANDBOX_ENV.items():
        monkeypatch.setenv(name, value)
    assert main(["validate", "-c", str(DEMO)]) == 0
    assert "valid — 2 sources, 6 objectives, 13 key results, 5 write-back targets" in capsys.readouterr().out


def test_invalid_config_exits_2_and_names_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("NOPE_SECRET", raising=False)
    config = tmp_path / "okr.yaml"
    config.write_text(
        textwrap.dedent(
            """\
            version: 1
            sources:
              sfdc:
                kind: salesforce
                instance_url: https://acme.my.salesforce.com
                auth: {method: access_token, access_token: "${NOPE_SECRET}"}
                streams:
                  deals: {object: Opportunity}
            objectives:
              - key: q
                key_results:
                  - key: revenue
                    metric: {kind: sum, stream: deals, field: amount}
                    target: 100
                    grop_by: owner
            """
        )
    )
    assert main(["validate", "--strict-env", "-c", str(config)]) == 2
    err = capsys.readouterr().err
    assert f"{config}:6: environment variable NOPE_SECRET is not set" in err
    assert f"{config}:15: unknown key `grop_by`; did you mean `group_by`?" in err
    assert "2 problems found; nothing was touched." in err

    # Without --strict-env an unset variable is not a problem (validate runs where secrets are absent).
    assert main(["validate", "-c", str(config)]) == 2
    err = capsys.readouterr().err
    assert "NOPE_SECRET" not in err
    assert "1 problem found; nothing was touched." in err
