"""The status page's HTML and the report file, from snapshots and runs put straight into the store."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy.orm import Session

from syncer.cli import main
from syncer.config import load_settings
from syncer.config.models import Settings
from syncer.store import runs
from syncer.store.database import open_store
from syncer.store.snapshots import save_snapshot
from syncer.values import KeyResultValue, Period
from syncer.views.console import print_status
from syncer.views.report import write_report
from syncer.views.status_data import collect_status
from syncer.views.status_html import render_status_page

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)
QUARTER = Period(date(2026, 10, 1), date(2026, 12, 31))
REVENUE = KeyResultValue(
    objective="q-revenue",
    key_result="revenue",
    group_kind="total",
    group_key="",
    period=QUARTER,
    value=Decimal(412000),
    baseline=Decimal(500000),
    target=Decimal(575000),
    direction="increase",
    progress=0.7165,
    score=0.7165,
    expected=0.5,
    status="on_track",
    projected=Decimal(824000),
    updated_at=NOW,
)
HOSTILE = "<script>alert(1)</script>@example.com"


@pytest.fixture
def settings() -> Settings:
    env = {
        "OKRSYNC_SANDBOX_SF_URL": "https://127.0.0.1:1",
        "OKRSYNC_SANDBOX_CA": str(ROOT / "config" / "demo.yaml"),  # any existing file
        "OKRSYNC_SANDBOX_SF_CLIENT_ID": "id",
        "OKRSYNC_SANDBOX_SF_CLIENT_SECRET": "secret",
        "OKRSYNC_SANDBOX_HS_URL": "http://127.0.0.1:1",
        "OKRSYNC_SANDBOX_HS_TOKEN": "token",
    }
    return load_settings(ROOT / "config" / "demo.yaml", env)


def fill(session: Session) -> None:
    """Three weekly snapshots of revenue (one rep's name hostile), one failed run."""
    for weeks_ago, value in ((2, 300000), (1, 360000), (0, 412000)):
        when = NOW - timedelta(weeks=weeks_ago)
        total = replace(REVENUE, value=Decimal(value), updated_at=when)
        rep = replace(
            total, group_kind="owner", group_key=HOSTILE, value=Decimal(value // 4), status="at_risk"
        )
        save_snapshot(session, None, [total, rep])
    run_id = runs.start(session, ["sfdc"], now=NOW)
    runs.finish(
        session, run_id, runs.RunCounts(status="failed", api_calls=17, error="sfdc: <b>401</b>"), now=NOW
    )


def test_page_shows_the_objective_score_key_result_and_weekly_chart(
    session: Session, settings: Settings
) -> None:
    fill(session)
    html = render_status_page(session, settings, now=NOW)
    assert "Grow revenue this quarter" in html
    assert "score 0.72" in html  # the only graded key result of q-revenue
    assert "<b>412,000</b> of 575,000" in html
    chart = re.search(r'<svg class="progress-chart".*?</svg>', html)
    assert chart is not None
    assert chart[0].count("<circle") == 3  # one point per week with a snapshot
    assert 'class="pace"' in chart[0]
    assert 'class="target"' in chart[0]
    assert "<td class=num>17</td>" in html  # API calls of the run


def test_every_text_from_the_store_is_escaped(session: Session, settings: Settings) -> None:
    fill(session)
    html = render_status_page(session, settings, now=NOW)
    assert "<script>" not in html
    assert "<b>401</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;@example.com" in html
    assert "sfdc: &lt;b&gt;401&lt;/b&gt;" in html


def test_pace_line_runs_from_zero_for_a_total_that_restarts_each_period(
    session: Session, settings: Settings
) -> None:
    fill(session)
    objectives = {o.key: o for o in collect_status(session, settings, now=NOW).objectives}
    [revenue] = objectives["q-revenue"].key_results  # demo.yaml's first objective is the company one
    assert revenue.start_value == 0  # a sum counts from 0; its baseline only sets the target
    assert [value for _, value in revenue.weeks] == [300000, 360000, 412000]
    assert [g.group_key for g in revenue.groups] == [HOSTILE]


def test_an_empty_store_says_to_run_a_cycle(session: Session, settings: Settings) -> None:
    html = render_status_page(session, settings, now=NOW)
    assert "No key results yet" in html
    assert "http" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")  # no external URL


def test_report_is_one_self_contained_file(session: Session, settings: Settings, tmp_path: Path) -> None:
    fill(session)
    path = write_report(session, settings, tmp_path / "report.html", now=NOW)
    html = path.read_text(encoding="utf-8")
    assert "<title>OKR report — 2026-11-16</title>" in html
    assert html.count('<svg class="progress-chart"') == 1
    assert not re.search(r"<(script|link|img)\b", html)


@pytest.fixture
def config(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """config/demo.yaml pointing at the test's store, its variables set, the store filled."""
    for name, value in {
        "OKRSYNC_SANDBOX_SF_URL": "https://127.0.0.1:1",
        "OKRSYNC_SANDBOX_CA": str(ROOT / "config" / "demo.yaml"),
        "OKRSYNC_SANDBOX_SF_CLIENT_ID": "id",
        "OKRSYNC_SANDBOX_SF_CLIENT_SECRET": "secret",
        "OKRSYNC_SANDBOX_HS_URL": "http://127.0.0.1:1",
        "OKRSYNC_SANDBOX_HS_TOKEN": "token",
    }.items():
        monkeypatch.setenv(name, value)
    text = (ROOT / "config" / "demo.yaml").read_text()
    path = tmp_path / "okrsync.yaml"
    path.write_text(re.sub(r"(?m)^store: .*$", f"store: {store_url}", text))
    store = open_store(store_url)
    try:
        with store.sessions.begin() as session:
            fill(session)
    finally:
        store.close()
    return path


def test_status_command_prints_key_results_reps_runs_and_failed_writes(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "-c", str(config)]) == 0
    out = capsys.readouterr().out
    assert "Grow revenue this quarter  score 0.72" in out
    assert "q-revenue.revenue" in out
    assert "412,000" in out
    assert HOSTILE in out  # the per-rep table, printed as text, not as markup
    assert "sfdc: <b>401</b>" in out
    assert "failed writes: none" in out


def test_report_command_writes_the_html_file(config: Path, tmp_path: Path) -> None:
    output = tmp_path / "report.html"
    assert main(["report", "-c", str(config), "-o", str(output)]) == 0
    html = output.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert '<svg class="progress-chart"' in html


def test_money_is_shown_with_its_currency_code_on_the_page_and_the_terminal(
    session: Session, settings: Settings
) -> None:
    money = replace(REVENUE, value=Decimal("1579274.74"), currency="USD")
    save_snapshot(session, None, [money, replace(money, group_kind="owner", group_key="ana@x.io")])
    status = collect_status(session, settings, now=NOW)

    html = render_status_page(session, settings, now=NOW)
    console = Console(record=True, width=200)
    print_status(console, status)

    assert "<b>USD 1,579,274.74</b> of USD 575,000.00" in html
    assert "<td class=num>USD 1,579,274.74</td>" in html  # the rep's row
    assert "USD 1,579,274.74" in console.export_text()
