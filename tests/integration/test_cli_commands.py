"""The command line end to end: `okrsync demo`, `okrsync run` exit codes, `okrsync db upgrade`."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sandbox.demo import start_demo_org
from syncer.cli import main
from syncer.store import ledger
from syncer.store.database import open_store

pytestmark = pytest.mark.integration
DEMO = Path(__file__).resolve().parents[2] / "config" / "demo.yaml"


def test_demo_runs_a_cycle_and_shows_the_written_fields() -> None:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "syncer", "demo"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 60
    out = result.stdout
    assert "q-revenue.revenue" in out
    assert "Fields now on the reps' User records in the sandbox" in out
    assert "status: ok" in out
    assert "created the missing write-back fields " in out
    assert "hub p_key_results.okr_value" in out
    assert "sfdc OKR_Snapshot__c.Week_Start__c" in out  # the history object (README "History as CRM records")
    hubspot = out[out.index("Key-result records now in the HubSpot sandbox") :]
    [total] = [line for line in hubspot.splitlines() if line.startswith("│ hub-pipeline.revenue ")]
    okr_key, okr_value = (cell.strip() for cell in total.split("│")[1:3])
    assert okr_key == "hub-pipeline.revenue"
    assert float(okr_value.replace(",", "")) > 0


def test_run_exits_3_when_the_crm_rejects_a_record_and_retries_it_next_cycle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store_url = f"sqlite:///{tmp_path / 'okr.db'}"
    with start_demo_org() as demo:
        sf = demo.salesforce
        for name, value in demo.env.items():
            monkeypatch.setenv(name, value)
        config = tmp_path / "okr.yaml"
        config.write_text(DEMO.read_text().replace("sqlite:///okrsync-demo.db", store_url))
        assert main(["fields", "ensure", "--apply", "-c", str(config)]) == 0  # the HubSpot properties
        rep = next(u for u in sf.org.records("User") if u["IsActive"] and u["Department"])
        sf.reject_writes({rep["Id"]: "FIELD_CUSTOM_VALIDATION_EXCEPTION"}, times=1)
        time.sleep(1.05 - datetime.now(UTC).microsecond / 1e6)

        assert main(["run", "-c", str(config)]) == 3
        assert f"User {rep['Id']}: FIELD_CUSTOM_VALIDATION_EXCEPTION" in capsys.readouterr().out
        assert sf.org.get("User", rep["Id"])["Q_Revenue__c"] is None
        store = open_store(store_url)
        with store.sessions() as session:
            assert {f.target for f in ledger.failed_writes(session)} == {rep["Id"]}
        store.close()

        assert main(["run", "-c", str(config)]) == 0
        assert sf.org.get("User", rep["Id"])["Q_Revenue__c"] is not None
        store = open_store(store_url)
        with store.sessions() as session:
            assert ledger.failed_writes(session) == []
        store.close()


def test_run_with_a_broken_config_exits_2_and_touches_nothing(tmp_path: Path) -> None:
    config = tmp_path / "okr.yaml"
    config.write_text("version: 1\nsources: {}\n")
    assert main(["run", "-c", str(config)]) == 2
    assert not (tmp_path / "okrsync.db").exists()


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert main(["db", "upgrade", "--store", url]) == 0
    open_store(url).close()  # at head: opens without asking for an upgrade
