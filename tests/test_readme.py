"""The README's quick start is what CI runs."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    command = ci.strip().splitlines()[-1]
    assert command in readme, f"README quick start must show the test command CI runs: {command}"
    assert "okrsync demo" in readme.split("## Quick start", 1)[1].split("##", 1)[0]
