"""The README is what a new user follows: its quick start is what CI runs, its command table is the
CLI's, the files it names exist, and its "Try every command locally" script runs green."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from syncer.cli import _parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
WALKTHROUGH_SECONDS = 240


def section(title: str) -> str:
    """The README's text under `## title` (or `### title`), up to the next heading of any level."""
    match = re.search(rf"^#+ {re.escape(title)}\n(.*?)(?=^#+ )", README, re.MULTILINE | re.DOTALL)
    assert match, f"README has no section {title!r}"
    return match[1]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    command = ci.strip().splitlines()[-1]
    assert command in README, f"README quick start must show the test command CI runs: {command}"
    assert "okrsync demo" in section("Quick start")


def cli_commands() -> set[str]:
    """Every command the CLI takes, with its action for `fields`, `db` and `fleet` ("db upgrade")."""
    subparsers = _parser()._subparsers
    assert subparsers is not None
    (commands,) = (a for a in subparsers._group_actions if a.choices)
    names = set()
    for name, parser in commands.choices.items():  # type: ignore[union-attr]
        actions = [a for a in parser._actions if a.dest.endswith("_command") and a.choices]
        names |= {f"{name} {action}" for a in actions for action in a.choices} or {name}  # type: ignore[union-attr]
    return names


def test_the_command_table_lists_every_command_and_only_those() -> None:
    rows = re.findall(r"^\| `okrsync ([a-z-]+(?: [a-z-]+)?)", section("Commands"), re.MULTILINE)
    with_actions = {"fields", "db", "fleet", "period"}
    documented = {row if row.split()[0] in with_actions else row.split()[0] for row in rows}
    assert documented == cli_commands()


# Files the README tells the user to make, or that a command writes: not in a clone.
MADE_BY_THE_USER = {
    "deploy/okrsync.env": "copied from deploy/okrsync.env.example, with the secrets",
    "deploy/fleet/fleet.env": "copied from deploy/fleet/fleet.env.example, with the secrets",
    "tests/benchmarks/results/fleet.json": "written by the fleet benchmark (git-ignored)",
    "tests/benchmarks/results/hubspot.json": "written by the HubSpot benchmark (git-ignored)",
    "tests/benchmarks/results/rollup.json": "written by the rollup benchmark (git-ignored)",
    "tests/benchmarks/results/salesforce.json": "written by the Salesforce benchmark (git-ignored)",
}


def in_a_clone() -> set[str]:
    """Every file and folder a fresh clone holds: a git-ignored file that exists here is not one."""
    if not (ROOT / ".git").exists():  # an unpacked source tree: what is here is what ships
        return {str(p.relative_to(ROOT)) for p in ROOT.rglob("*")}
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    files = listed.stdout.splitlines()
    return set(files) | {str(parent) for f in files for parent in Path(f).parents}


def test_every_repository_file_the_readme_names_exists() -> None:
    named = set(
        re.findall(r"(?<![\w/.-])((?:config|deploy|docs|tests|syncer|connectors|sandbox)/[\w./-]*\w)", README)
    ) - set(MADE_BY_THE_USER)
    assert named, "the pattern should find the README's file references"
    missing = sorted(named - in_a_clone())
    assert not missing, f"README names files that are not in the repository: {missing}"


def walkthrough_script() -> str:
    (script,) = re.findall(r"```sh\n(.*?)```", section("Try every command locally"), re.DOTALL)
    return script


@pytest.mark.skipif(not Path("/usr/bin/curl").exists(), reason="the walkthrough asks /healthz with curl")
def test_the_try_every_command_walkthrough_runs_as_written(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OKRSYNC_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"  # this venv's okrsync
    process = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", walkthrough_script()],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # one process group: the sandbox and serve die with it on failure
    )
    try:
        output, _ = process.communicate(timeout=WALKTHROUGH_SECONDS)
    finally:
        if process.poll() is None or (tmp_path / "okrsync-sandbox" / "sandbox.env").exists():
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
    assert process.returncode == 0, output
    assert "valid — 2 sources" in output
    assert "property created" in output  # fields ensure --apply did its work
    assert re.search(r"wrote \d+ fields on \d+ records", output)
    assert "nothing to write: every field already holds its value" in output
    assert '"status": "ok"' in output  # serve's /healthz after the runs
    assert "Traceback" not in output
    report = (tmp_path / "okrsync-sandbox" / "report.html").read_text(encoding="utf-8")
    assert "<svg" in report
    assert not (tmp_path / "okrsync-sandbox" / "sandbox.env").exists()  # the sandbox stopped cleanly
