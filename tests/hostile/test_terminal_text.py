"""Text from a CRM or a config reaches the terminal and the logs as text (issue 15, Found 5, Deliver 5).

A team name (a Salesforce Department), a CRM error message or a YAML value may hold rich markup
(`[/]` crashed `run` and `status`; `[link=…]`, `[blink]` were interpreted) or escape sequences
(`\\x1b[2J` cleared the screen). Each is printed as written, with control characters escaped.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from syncer.cli import main
from syncer.config import load_settings
from syncer.config.models import Settings
from syncer.contract import Cursor, Page
from syncer.cycle import run_cycle
from syncer.errors import RejectedRequestError
from syncer.logs import ConsoleFormatter
from syncer.records import StreamName
from syncer.store.database import Store, open_store
from syncer.views import console as text
from syncer.views.terminal import SafeConsole, escape_controls
from tests.fakes import T0, FakeConnector, deal, owner

HOSTILE = (
    "[/] [link=http://evil.example]click[/link] [blink]b[/blink] :skull: \x1b[2J\x1b]8;;http://e\x07x\u202e"
)
ENV = {"HS_TOKEN": "pat-na1-0123456789"}
CONFIG = """\
version: 1
store: {store}
timezone: UTC
sources:
  crm:
    kind: hubspot
    auth: {{method: private_app, access_token: "${{HS_TOKEN}}"}}
    streams:
      deals: {{}}
objectives:
  - key: q
    title: "{title}"
    period: {{start: 2026-10-01, end: 2026-12-31}}
    key_results:
      - key: revenue
        metric: {{kind: sum, stream: deals, field: amount, date: close_date}}
        target: 10000
        group_by: team
"""
NOW = T0 + timedelta(days=1)


def assert_shown_as_text(output: str) -> None:
    """The hostile value is there as written, and nothing reached the terminal as a control."""
    assert "\x1b" not in output
    assert "\x07" not in output
    assert "\u202e" not in output
    assert "[link=http://evil.example]click[/link]" in output
    assert "[blink]b[/blink]" in output
    assert ":skull:" in output
    assert "[/]" in output
    assert "\\x1b[2J" in output
    assert "\\x07" in output
    assert "\\u202e" in output


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "okr.yaml"
    title = "Revenue [bold red]now[/] [/]"
    path.write_text(CONFIG.format(store=f"sqlite:///{tmp_path / 'okr.db'}", title=title))
    return path


@pytest.fixture
def settings(config: Path) -> Settings:
    return load_settings(config, ENV)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    opened = open_store(settings.store)
    yield opened
    opened.close()


def hostile_team_crm() -> FakeConnector:
    rep = owner("u1", "ana@example.com")
    rep = type(rep)(**{**{f: getattr(rep, f) for f in rep.__dataclass_fields__}, "team": HOSTILE})
    return FakeConnector(records={"deals": [deal("d1"), deal("d2", minutes=1)]}, owners=[rep])


class FailingCrm(FakeConnector):
    """A CRM whose error message carries markup and escape sequences."""

    def pull(self, stream: StreamName, *, since: Cursor | None, until: object) -> Iterator[Page]:
        raise RejectedRequestError(f"query refused: {HOSTILE}", source=self.source)


def test_status_prints_a_team_name_with_markup_and_escapes_as_text(
    config: Path,
    settings: Settings,
    store: Store,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run_cycle(settings, store, lambda name: hostile_team_crm(), clock=lambda: NOW)
    monkeypatch.setenv("HS_TOKEN", ENV["HS_TOKEN"])
    capsys.readouterr()

    assert main(["status", "-c", str(config)]) == 0

    out = capsys.readouterr().out
    assert_shown_as_text(out)
    assert "Revenue [bold red]now[/] [/]" in out  # the objective's title from the YAML, as written


def test_run_summary_prints_a_crm_error_with_markup_as_text(settings: Settings, store: Store) -> None:
    report = run_cycle(settings, store, lambda name: FailingCrm(), clock=lambda: NOW)
    assert report.errors or any(p.failed for p in report.pulls), "the stream failed"
    buffer = io.StringIO()

    text.print_cycle(SafeConsole(file=buffer, width=400), report)  # what `okrsync run` prints

    out = buffer.getvalue()
    assert "query refused" in out
    assert_shown_as_text(out)


def test_status_runs_table_prints_a_stored_error_with_markup_as_text(
    config: Path,
    settings: Settings,
    store: Store,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run_cycle(settings, store, lambda name: FailingCrm(), clock=lambda: NOW)
    monkeypatch.setenv("HS_TOKEN", ENV["HS_TOKEN"])
    capsys.readouterr()

    assert main(["status", "-c", str(config)]) == 0

    out = capsys.readouterr().out
    assert "query refused" in out
    assert "\x1b" not in out
    assert "[/]" in out


def test_a_string_printed_on_the_safe_console_is_never_markup() -> None:
    buffer = io.StringIO()
    console = SafeConsole(file=buffer, width=400, force_terminal=True, color_system="truecolor")

    console.print(HOSTILE)
    console.print(HOSTILE, markup=True)  # asking for markup does not bring it back

    out = buffer.getvalue()
    assert out.count("[link=http://evil.example]click[/link]") == 2
    assert "\x1b]8;" not in out  # no hyperlink escape was generated
    assert "\\x1b[2J" in out
    assert "\x1b[2J" not in out


def test_console_log_lines_escape_control_characters() -> None:
    record = logging.LogRecord(
        "okrsync", logging.WARNING, __file__, 1, "owner %s", ("a\nerror fake line\x1b[2J",), None
    )
    record.team = HOSTILE

    line = ConsoleFormatter().format(record)

    assert "\n" not in line
    assert "\x1b" not in line
    assert "owner a\\nerror fake line\\x1b[2J" in line
    assert escape_controls(HOSTILE) in line


def test_escape_controls_leaves_ordinary_text_alone() -> None:
    ordinary = "Zoë's team — Q4 [EMEA] 100 % ✓"
    assert escape_controls(ordinary) == ordinary
    assert escape_controls("a\tb\r\n\x00\x7f\x9b") == "a\\tb\\r\\n\\x00\\x7f\\x9b"
