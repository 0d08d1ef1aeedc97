"""`okrsync validate` warns (exit 0) about target and group combinations that are probably mistakes."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from syncer.cli import main
from syncer.config import load_settings
from syncer.config.pitfalls import find_pitfalls

HEAD = """\
version: 1
sources:
  sfdc:
    kind: salesforce
    instance_url: https://example.my.salesforce.com
    auth: {method: access_token, access_token: "${SF_TOKEN}"}
    streams:
      deals: {object: Opportunity}
objectives:
  - key: q
    period: current_quarter
    key_results:
"""
ENV = {"SF_TOKEN": "token-value"}


def _write(tmp_path: Path, key_results: str, extra: str = "") -> Path:
    path = tmp_path / "okr.yaml"
    path.write_text(HEAD + textwrap.indent(textwrap.dedent(key_results), " " * 6) + extra)
    return path


def _messages(path: Path) -> list[str]:
    return [p.message for p in find_pitfalls(load_settings(path, ENV))]


REVENUE = "metric: {kind: sum, stream: deals, field: amount, where: {is_won: true}}\n"
WIN_RATE = "metric: {kind: ratio, stream: deals, numerator: {is_won: true}, denominator: {is_closed: true}}\n"


@pytest.mark.parametrize(
    ("key_result", "warning"),
    [
        (  # the brief's example: an absolute target split evenly next to each rep's own last quarter
            "- key: kr\n  " + REVENUE + "  baseline: previous_period\n  target: 575000\n"
            "  group_by: owner\n  owner_targets: even\n",
            "each rep's target is an even share of 575000, but their baseline is their own last period",
        ),
        (  # a rate split evenly: every rep gets the total's rate, counted from their own last rate
            "- key: kr\n  " + WIN_RATE + "  baseline: previous_period\n  target: '+5pp'\n"
            "  group_by: owner\n  owner_targets: even\n",
            "every rep gets the total's target, but progress counts from their own last period",
        ),
        (
            "- key: kr\n  " + REVENUE + "  target: 1000\n  group_by: owner\n  owner_targets: {ana: 500}\n",
            "`ana` is not an e-mail",
        ),
        (  # no teams: map and no team field on the only source
            "- key: kr\n  " + REVENUE + "  target: 1000\n  group_by: team\n",
            "no source says which team a rep is in",
        ),
    ],
)
def test_probable_mistakes_are_warned(tmp_path: Path, key_result: str, warning: str) -> None:
    messages = _messages(_write(tmp_path, key_result))
    assert len(messages) == 1, messages
    assert warning in messages[0]


@pytest.mark.parametrize(
    "key_result",
    [
        # The README's own example: +15 % of last quarter's total, split evenly. Not a mistake.
        "- key: kr\n  " + REVENUE + "  baseline: previous_period\n  target: '+15%'\n"
        "  group_by: owner\n  owner_targets: even\n",
        "- key: kr\n  "
        + REVENUE
        + "  baseline: 60\n  target: 90\n  group_by: owner\n  owner_targets: even\n",
        "- key: kr\n  "
        + WIN_RATE
        + "  target: 0.3\n  group_by: owner\n  owner_targets: {ana@example.com: 0.35}\n",
        "- key: kr\n  " + REVENUE + "  baseline: previous_period\n  target: '+15%'\n  group_by: team\n",
    ],
)
def test_sensible_combinations_are_not_warned(tmp_path: Path, key_result: str) -> None:
    assert _messages(_write(tmp_path, key_result, extra="teams: {emea: [ana@example.com]}\n")) == []


def test_validate_prints_warnings_with_their_line_and_still_exits_0(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SF_TOKEN", "token-value")
    path = _write(
        tmp_path,
        "- key: kr\n  " + REVENUE + "  baseline: previous_period\n  target: 575000\n"
        "  group_by: owner\n  owner_targets: even\n",
    )

    assert main(["validate", "-c", str(path)]) == 0

    out = capsys.readouterr().out
    assert "valid — 1 source, 1 objective, 1 key result" in out
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "owner_targets" in text)
    assert f"warning: {path}:{line}: each rep's target is an even share of 575000" in out
