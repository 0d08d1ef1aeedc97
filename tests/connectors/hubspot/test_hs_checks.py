"""`okrsync check` and `okrsync fields ensure` for a HubSpot source, against the HubSpot sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.hubspot import HubSpotSandbox
from syncer.cli import main
from tests.integration.test_hubspot_cycle import WRITEBACK, sandbox_env, write_config

pytestmark = pytest.mark.integration
CREATED = ("okr_value", "okr_target", "okr_progress", "okr_status")


def configure(hs: HubSpotSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writeback: str) -> Path:
    for name, value in sandbox_env(hs).items():
        monkeypatch.setenv(name, value)
    return write_config(tmp_path / "hub.yaml", writeback=writeback)


def properties(hs: HubSpotSandbox, obj: str = "p_key_results") -> dict[str, bool]:
    """Property name → hasUniqueValue."""
    return {p.name: p.has_unique_value for p in hs.portal.object_type(obj).properties.values()}


def test_missing_properties_are_reported_and_created_only_with_apply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with HubSpotSandbox(key_results_schema=True) as hs:
        # A new upsert key too: it must be created unique, or HubSpot refuses it as idProperty.
        config = configure(
            hs, tmp_path, monkeypatch, WRITEBACK.replace("upsert_on: okr_key", "upsert_on: okr_uid")
        )
        args = ["-c", str(config)]

        assert main(["check", *args]) == 1
        out = capsys.readouterr().out
        assert "p_key_results.okr_value: property missing" in out
        assert "okrsync fields ensure --apply" in out
        assert main(["fields", "ensure", *args]) == 1
        out = capsys.readouterr().out
        assert "would create or grant edit access to p_key_results.okr_uid (key" in out
        assert "nothing changed" in out
        assert hs.requests.count(writes=True) == 0

        assert main(["fields", "ensure", "--apply", *args]) == 0
        created = properties(hs)
        assert created["okr_uid"] is True
        assert all(created[name] is False for name in CREATED)
        assert hs.requests.count(kind="property_create") == 5
        assert main(["check", *args]) == 0
        assert main(["fields", "ensure", *args]) == 0  # nothing left to do


def test_missing_key_result_object_is_created_with_its_unique_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with HubSpotSandbox(key_results_schema=False) as hs:
        config = configure(hs, tmp_path, monkeypatch, WRITEBACK)
        args = ["-c", str(config)]

        assert main(["check", *args]) == 1
        out = capsys.readouterr().out
        assert "p_key_results: object not found" in out
        assert "Enterprise" in out
        assert "records the rep owns" in out
        assert main(["fields", "ensure", *args]) == 1
        assert hs.requests.count(writes=True) == 0
        assert not hs.portal.schemas

        assert main(["fields", "ensure", "--apply", *args]) == 0
        out = capsys.readouterr().out
        assert "created with custom object p_key_results" in out
        assert "Enterprise" in out
        assert "records the rep owns" in out
        created = properties(hs)
        assert created["okr_key"] is True
        assert all(created[name] is False for name in (*CREATED, "okr_name"))
        assert hs.requests.count(kind="schema_create") == 1
        assert main(["check", *args]) == 0
