"""The command line as a new ops user meets it (issue 11): options anywhere, `OKRSYNC_CONFIG`,
`--version`, help on every option, commands that touch no CRM need no secret, a store is created
only on purpose and says so, and tables keep every number whole at 80 columns."""

from __future__ import annotations

import argparse
import io
import logging
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib import metadata
from pathlib import Path

import pytest

from sandbox.demo import start_demo_org
from syncer.cli import _parser, main
from syncer.values import KeyResultValue, Period
from syncer.views.console import key_result_table
from syncer.views.terminal import SafeConsole

pytestmark = pytest.mark.integration
DEMO = Path(__file__).resolve().parents[2] / "config" / "demo.yaml"
SANDBOX_VARIABLES = [
    "OKRSYNC_SANDBOX_SF_URL",
    "OKRSYNC_SANDBOX_CA",
    "OKRSYNC_SANDBOX_SF_CLIENT_ID",
    "OKRSYNC_SANDBOX_SF_CLIENT_SECRET",
    "OKRSYNC_SANDBOX_HS_URL",
    "OKRSYNC_SANDBOX_HS_TOKEN",
]


def _okrsync(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "syncer", *args], capture_output=True, text=True, timeout=60, env=env, cwd=cwd
    )


def _bare_env() -> dict[str, str]:
    """A shell with no okrsync variable: what CI has when it runs `okrsync validate`."""
    return {name: value for name, value in os.environ.items() if not name.startswith("OKRSYNC_")}


def _config(tmp_path: Path, store: Path) -> Path:
    config = tmp_path / "okr.yaml"
    config.write_text(DEMO.read_text().replace("sqlite:///okrsync-demo.db", f"sqlite:///{store}"))
    return config


# ---------------------------------------------------------------- options


def test_version_prints_the_installed_version() -> None:
    result = _okrsync("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"okrsync {metadata.version('okrsync')}"


def test_global_options_are_accepted_after_the_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    env = _bare_env()
    before = _okrsync("--log-level", "info", "--log-json", "validate", "-c", str(DEMO), env=env)
    after = _okrsync("validate", "-c", str(DEMO), "--log-level", "info", "--log-json", env=env)
    for result in (before, after):
        assert result.returncode == 0, result.stderr
        assert '"event": "configuration loaded"' in result.stderr  # INFO and JSON took effect
    # Given before and after: the one after the subcommand wins, none is reset to the default.
    assert main(["--log-level", "ERROR", "validate", "-c", str(DEMO), "--log-level", "DEBUG"]) == 0
    assert logging.getLogger().level == logging.DEBUG
    assert main(["--log-level", "ERROR", "validate", "-c", str(DEMO)]) == 0
    assert logging.getLogger().level == logging.ERROR


def test_an_unknown_log_level_is_one_usage_line_not_a_traceback() -> None:
    result = _okrsync("--log-level", "VERBOSE", "validate", "-c", str(DEMO))
    assert result.returncode == 2
    assert "argument --log-level: invalid choice: 'VERBOSE' (choose from" in result.stderr
    assert "Traceback" not in result.stderr


def test_config_comes_from_okrsync_config_when_c_is_not_given(tmp_path: Path) -> None:
    env = {**_bare_env(), "OKRSYNC_CONFIG": str(DEMO)}
    result = _okrsync("validate", env=env)
    assert result.returncode == 0, result.stderr
    assert f"{DEMO}: valid" in result.stdout
    missing = _okrsync("validate", env=_bare_env())
    assert missing.returncode == 2
    assert "the following arguments are required: -c/--config" in missing.stderr


def _actions(parser: argparse.ArgumentParser, name: str) -> list[tuple[str, argparse.Action]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command, sub in action.choices.items():
                found += _actions(sub, f"{name} {command}")
        elif not isinstance(action, argparse._HelpAction):
            found.append((name, action))
    return found


def test_every_option_and_command_has_help_text() -> None:
    missing = [
        f"{command} {'/'.join(action.option_strings) or action.dest}"
        for command, action in _actions(_parser(), "okrsync")
        if not action.help or action.help == argparse.SUPPRESS
    ]
    assert missing == []
    commands = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert all(choice.help for choice in commands._choices_actions)


def test_fields_ensure_help_says_it_exits_1_when_fields_are_missing() -> None:
    result = _okrsync("fields", "ensure", "--help")
    assert "exit 1 when some are missing" in result.stdout


# ---------------------------------------------------------------- no secrets where no CRM is reached


def test_validate_passes_in_a_bare_shell_and_warns_of_each_unset_variable() -> None:
    result = _okrsync("validate", "-c", str(DEMO), env=_bare_env())
    assert result.returncode == 0, result.stderr
    assert f"{DEMO}: valid — 2 sources" in result.stdout
    for variable in SANDBOX_VARIABLES:
        assert f"environment variable {variable} is not set" in result.stdout
    assert f"warning: {DEMO}:12: environment variable OKRSYNC_SANDBOX_SF_URL is not set" in result.stdout


def test_validate_strict_env_makes_an_unset_variable_an_error() -> None:
    result = _okrsync("validate", "--strict-env", "-c", str(DEMO), env=_bare_env())
    assert result.returncode == 2
    assert f"{DEMO}:12: environment variable OKRSYNC_SANDBOX_SF_URL is not set" in result.stderr
    assert "6 problems found; nothing was touched." in result.stderr


def test_validate_still_refuses_real_mistakes_offline(tmp_path: Path) -> None:
    config = tmp_path / "okr.yaml"
    config.write_text(DEMO.read_text().replace("timezone: ", "timezone: Mars/Olympus_Mons  # ", 1))
    assert "Mars/Olympus_Mons" in config.read_text()
    result = _okrsync("validate", "-c", str(config), env=_bare_env())
    assert result.returncode == 2
    assert "Mars/Olympus_Mons" in result.stderr
    assert "OKRSYNC_SANDBOX_SF_URL" not in result.stderr


def test_a_run_creates_its_store_and_says_so_then_status_and_report_need_no_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "data" / "okr.db"
    config = _config(tmp_path, store)
    with start_demo_org() as demo:
        for name, value in demo.env.items():
            monkeypatch.setenv(name, value)
        assert main(["fields", "ensure", "--apply", "-c", str(config)]) == 0
        assert main(["run", "-c", str(config)]) == 0
    out = capsys.readouterr().out
    assert f"creating a new store at sqlite:///{store}" in out
    for name in demo.env:
        monkeypatch.delenv(name)

    result = _okrsync("status", "-c", str(config), env=_bare_env())
    assert result.returncode == 0, result.stderr
    assert "q-revenue.revenue" in result.stdout
    report = tmp_path / "report.html"
    result = _okrsync("report", "-c", str(config), "-o", str(report), env=_bare_env())
    assert result.returncode == 0, result.stderr
    assert "q-revenue.revenue" in report.read_text() or "Revenue" in report.read_text()

    # --store points status at another copy of the store, whatever the YAML says.
    copy = tmp_path / "copy.db"
    copy.write_bytes(store.read_bytes())
    store.unlink()
    result = _okrsync("status", "-c", str(config), "--store", f"sqlite:///{copy}", env=_bare_env())
    assert result.returncode == 0, result.stderr
    assert "q-revenue.revenue" in result.stdout


def test_status_on_a_store_that_does_not_exist_says_so_and_creates_nothing(tmp_path: Path) -> None:
    store = tmp_path / "typo" / "okr.db"
    config = _config(tmp_path, store)
    for command in (["status"], ["report", "-o", str(tmp_path / "r.html")]):
        result = _okrsync(*command, "-c", str(config), env=_bare_env())
        assert result.returncode == 1
        assert f"no okrsync store at sqlite:///{store} yet: the first `okrsync run -c FILE` creates it" in (
            result.stderr
        )
        assert "Traceback" not in result.stderr
    assert not store.exists()
    assert not store.parent.exists()
    assert not (tmp_path / "r.html").exists()


def test_status_names_the_unset_store_variable(tmp_path: Path) -> None:
    config = tmp_path / "okr.yaml"
    config.write_text(DEMO.read_text().replace("sqlite:///okrsync-demo.db", "${OKRSYNC_TEST_STORE_URL}"))
    result = _okrsync("status", "-c", str(config), env=_bare_env())
    assert result.returncode == 2
    assert (
        f"{config}:5: environment variable OKRSYNC_TEST_STORE_URL is not set (used by store): set it, or give --store URL"
        in (result.stderr)
    )


def test_db_upgrade_says_when_it_creates_a_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    first = _okrsync("db", "upgrade", "--store", url)
    assert first.returncode == 0, first.stderr
    assert f"creating a new store at {url}" in first.stdout
    again = _okrsync("db", "upgrade", "--store", url)
    assert "creating a new store" not in again.stdout
    assert "store schema is up to date" in again.stdout


# ---------------------------------------------------------------- 80 columns


def _value(key_result: str, group: str | None, value: str, target: str, status: str) -> KeyResultValue:
    return KeyResultValue(
        objective="q-revenue",
        key_result=key_result,
        group_kind="total" if group is None else "owner",
        group_key=group or "",
        period=Period(date(2026, 10, 1), date(2026, 12, 31)),
        value=Decimal(value),
        baseline=None,
        target=Decimal(target),
        direction="increase",
        progress=float(Decimal(value) / Decimal(target)),
        score=None,
        expected=0.7,
        status=status,  # type: ignore[arg-type]
        projected=None,
        updated_at=datetime(2026, 12, 4, tzinfo=UTC),
        currency="USD",
    )


def test_tables_keep_every_number_whole_at_80_columns() -> None:
    values = [
        _value("new-revenue-from-enterprise-accounts", None, "1579274.55", "1854297.16", "on_track"),
        _value(
            "new-revenue-from-enterprise-accounts",
            "yara.kowalski10@example.com",
            "652909.05",
            "407015.54",
            "done",
        ),
        _value("renewal-revenue", "grace.quist11@example.com", "1234567890.12", "23456789.01", "off_track"),
    ]
    out = io.StringIO()
    SafeConsole(file=out, width=80).print(key_result_table(values, title="Per rep", groups=True))
    shown = out.getvalue()
    assert max(len(line) for line in shown.splitlines()) <= 80
    for number in (
        "USD 652,909.05",
        "USD 407,015.54",
        "USD 1,234,567,890.12",
        "USD 23,456,789.01",
        "off_track",
    ):
        assert number in shown
    assert "…" not in shown
    assert "expected: 70 %" in shown  # the same on every row: said once, its column gives way
