"""`okrsync run` shows what it is doing on a terminal: each step, and per stream the records pulled
so far; off a terminal (cron, CI) it draws nothing."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sandbox.demo import DemoOrg
from syncer.cli import main
from syncer.commands.crm import connector_factory
from syncer.cycle import CycleOptions, run_cycle
from syncer.records import StreamName
from syncer.store.database import open_store
from tests.integration.test_salesforce_cycle import DEMO, demo_settings
from tests.integration.test_salesforce_cycle import sandbox as sandbox  # the fixture

pytestmark = pytest.mark.integration


class Recorded:
    """A Progress that keeps what the cycle told it."""

    def __init__(self) -> None:
        self.steps: list[str] = []
        self.records: Counter[tuple[str, str]] = Counter()
        self.expected: dict[tuple[str, str], list[int | None]] = {}
        self.written: Counter[str] = Counter()
        self.write_totals: set[tuple[str, int]] = set()

    def step(self, text: str) -> None:
        self.steps.append(text)

    def page(self, source: str, stream: StreamName, records: int, *, expected: int | None = None) -> None:
        self.records[source, stream] += records
        self.expected.setdefault((source, stream), []).append(expected)

    def wrote(self, source: str, records: int, *, total: int) -> None:
        self.written[source] += records
        self.write_totals.add((source, total))


def test_the_cycle_reports_every_step_and_every_pulled_record(sandbox: DemoOrg, tmp_path: Path) -> None:
    settings = demo_settings(sandbox.env, f"sqlite:///{tmp_path / 'okr.db'}")
    progress = Recorded()
    store = open_store(settings.store)
    try:
        report = run_cycle(
            settings,
            store,
            connector_factory(settings),
            clock=lambda: datetime.now(UTC),
            options=CycleOptions(progress=progress),
        )
    finally:
        store.close()

    assert progress.steps == [
        "pulling from sfdc",
        "pulling from hub",
        "rolling up",
        "writing back to sfdc",
        "writing back to hub",
    ]
    received = {(p.source, s.stream): s.received for p in report.pulls for s in p.streams}
    assert dict(progress.records) == {key: n for key, n in received.items() if n}
    assert sum(received.values()) > 1000  # the sample org, so the counts above are not vacuous
    # Salesforce says the window's size up front (totalSize), on the first page only: the
    # display's total, which a first pull (no look-back to skip) then reads to the last row.
    read = {(p.source, s.stream): s.received + s.rejected for p in report.pulls for s in p.streams}
    for stream in ("deals", "calls", "renewals"):
        first, *rest = progress.expected["sfdc", stream]
        assert first == read["sfdc", stream] > 0, stream
        assert set(rest) <= {None}
    # HubSpot's list endpoints give no total: the display shows a count only.
    # Write-back: every record sent, batch by batch, against the number being sent.
    sent = {p.source: p.written_records + p.failed_records for p in report.pushes}
    assert dict(progress.written) == sent
    assert progress.write_totals == set(sent.items())
    assert all(n > 0 for n in sent.values())
    assert {e for (source, _), seen in progress.expected.items() if source == "hub" for e in seen} == {None}


def write_demo_config(tmp_path: Path) -> Path:
    config = tmp_path / "okr.yaml"
    config.write_text(
        DEMO.read_text().replace("sqlite:///okrsync-demo.db", f"sqlite:///{tmp_path / 'okr.db'}")
    )
    return config


def test_a_terminal_sees_the_steps_and_record_counts(
    sandbox: DemoOrg, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in sandbox.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich: treat stderr as a terminal

    assert main(["run", "-c", str(write_demo_config(tmp_path))]) == 0

    captured = capsys.readouterr()
    assert "pulling from sfdc" in captured.err
    assert "writing back to hub" in captured.err
    assert "hub write-back" in captured.err
    assert " records" in captured.err
    assert re.search(r"of [\d,]+ records", captured.err)  # a Salesforce stream's total
    assert "pulling from" not in captured.out  # the summary on stdout stays clean


def test_off_a_terminal_nothing_is_drawn(
    sandbox: DemoOrg, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in sandbox.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("FORCE_COLOR", raising=False)

    assert main(["run", "-c", str(write_demo_config(tmp_path))]) == 0

    assert "pulling from" not in capsys.readouterr().err
