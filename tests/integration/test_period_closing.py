"""Closing a period, end to end: real cycles against the Salesforce sandbox on a controlled clock.

Q3 2026 ends; during close_after (14 days) a late-booked deal still changes it; the first cycle
after that freezes it and writes its final value and score once; a deal booked later changes
nothing but is counted as late data (run summary, `okrsync status`); Q4's previous_period
baseline is the frozen value; `okrsync period reopen` (the CLI in its own process) lets the next
cycle take the late deal in. Every expected number is counted here from the sandbox's raw
Opportunities, with none of okrsync's mapping, SQL or scoring (docs/decisions.md D27).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sandbox.salesforce import SalesforceSandbox
from sandbox.sample_records import SampleScale
from syncer.commands.crm import connector_factory, ensure_fields
from syncer.config import load_settings
from syncer.config.models import Settings
from syncer.cycle import CycleResult, run_cycle
from syncer.store.database import open_store

pytestmark = pytest.mark.integration
SCALE = SampleScale(reps=4, accounts=10, deals=90, renewals=5, calls=5, emails=0, quarters=3)
START = datetime(2026, 9, 20, 12, tzinfo=UTC)  # the sandbox's clock, frozen; the cycles share it
Q2 = (date(2026, 4, 1), date(2026, 6, 30))
Q3 = (date(2026, 7, 1), date(2026, 9, 30))
OBJECT, KEY = "OKR_Key_Result__c", "OKR_Key__c"
CONFIG = """
version: 1
store: sqlite:///unused.db
timezone: UTC
close_after: 14d
sources:
  sfdc:
    kind: salesforce
    instance_url: ${SF_URL}
    ca_bundle: ${SF_CA}
    auth: {method: client_credentials, client_id: "${SF_ID}", client_secret: "${SF_SECRET}"}
    streams:
      deals: {object: Opportunity}
objectives:
  - key: wins
    period: current_quarter
    key_results:
      - key: won
        metric: {kind: count, stream: deals, where: {is_won: true}, date: close_date}
        baseline: previous_period
        target: 1000
writeback:
  - source: sfdc
    object: OKR_Key_Result__c
    upsert_on: OKR_Key__c
    fields:
      Name: "*.key"
      Value__c: "*.value"
      Baseline__c: "*.baseline"
      Final_Value__c: "*.final_value"
      Final_Score__c: "*.final_score"
"""


@pytest.fixture
def sb() -> Iterator[SalesforceSandbox]:
    with SalesforceSandbox(now=START, scale=SCALE) as sandbox:
        yield sandbox


def environment(sb: SalesforceSandbox) -> dict[str, str]:
    return {
        "SF_URL": sb.instance_url,
        "SF_CA": sb.ca_bundle,
        "SF_ID": sb.client_id,
        "SF_SECRET": sb.client_secret,
    }


def at(sb: SalesforceSandbox, when: datetime) -> None:
    sb.clock.advance(when - sb.clock.now())


def cycle(sb: SalesforceSandbox, settings: Settings) -> CycleResult:
    """One cycle at the sandbox's time, a minute after anything the test changed in the org."""
    at(sb, sb.clock.now() + timedelta(minutes=1))
    now = sb.clock.now()
    store = open_store(settings.store)
    try:
        report = run_cycle(settings, store, connector_factory(settings), clock=lambda: now)
    finally:
        store.close()
    assert report.exit_code == 0, report.errors
    return report


def okrsync(
    config: Path, store_url: str, sb: SalesforceSandbox, *args: str
) -> subprocess.CompletedProcess[str]:
    env = {**environment(sb), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    return subprocess.run(
        [sys.executable, "-m", "syncer", *args, "-c", str(config), "--store", store_url],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def wins(sb: SalesforceSandbox, quarter: tuple[date, date]) -> int:
    """Won Opportunities closing in `quarter`, from the raw org."""
    first, last = quarter
    return sum(1 for o in sb.org.records("Opportunity") if o["IsWon"] and first <= o["CloseDate"] <= last)


def book_late_deal(sb: SalesforceSandbox, close_date: date) -> None:
    """A rep logs a deal won in Q3 only now."""
    template = next(o for o in sb.org.records("Opportunity") if o["IsWon"])
    sb.org.insert(
        "Opportunity",
        {
            "Name": "Late-booked deal",
            "StageName": "Closed Won",
            "CloseDate": close_date,
            "Amount": 5000,
            "Type": "New Business",
            "OwnerId": template["OwnerId"],
            "AccountId": template["AccountId"],
        },
    )


def record(sb: SalesforceSandbox, key: str) -> dict[str, Any]:
    return next(r for r in sb.org.records(OBJECT) if r.get(KEY) == key)


def final_writes(sb: SalesforceSandbox) -> int:
    """Record writes (not the fields' creation) that carried a final value or score."""
    writes = [r for r in sb.requests if r.is_write and r.kind.startswith("composite")]
    return sum(1 for r in writes if "Final_" in json.dumps(r.body, default=str))


def test_a_quarter_is_recomputed_then_frozen_written_once_and_late_data_is_reported(
    sb: SalesforceSandbox, tmp_path: Path, store_url: str
) -> None:
    config = tmp_path / "okr.yaml"
    config.write_text(CONFIG)
    settings = load_settings(config, environment(sb)).model_copy(update={"store": store_url})
    _, created = ensure_fields(settings, "sfdc", apply=True)
    assert all(f.level == "ok" for f in created), created
    q2 = wins(sb, Q2)
    assert q2 > 0, "the sample org has wins last quarter"

    cycle(sb, settings)  # in Q3: Q2 ended long ago, so the first cycle freezes it at once
    q3_record = record(sb, "wins.won")
    assert (q3_record["Value__c"], q3_record["Baseline__c"]) == (wins(sb, Q3), q2)

    # Q4 has begun; Q3 is closing until 2026-10-15: a late-booked deal still counts.
    at(sb, datetime(2026, 10, 3, 12, tzinfo=UTC))
    book_late_deal(sb, date(2026, 9, 28))
    closing = cycle(sb, settings)
    q3 = wins(sb, Q3)
    assert [(s.label, s.frozen_at) for s in closing.closed.closing] == [("2026-Q3", None)]
    assert record(sb, "wins.won")["Baseline__c"] == q3  # Q4's baseline: Q3 as recomputed
    assert record(sb, "wins.won")["Final_Value__c"] == q2  # the last frozen period is still Q2
    assert final_writes(sb) == 1  # Q2's, written once by the first cycle

    # close_after has passed: the next cycle freezes Q3 and writes its final value and score.
    at(sb, datetime(2026, 10, 15, 6, tzinfo=UTC))
    frozen = cycle(sb, settings)
    assert [s.label for s in frozen.closed.frozen] == ["2026-Q3"]
    written = record(sb, "wins.won")
    expected_score = round(q3 / 1000, 3)
    assert (written["Final_Value__c"], written["Final_Score__c"]) == (
        q3,
        pytest.approx(expected_score, abs=1e-9),
    )
    assert final_writes(sb) == 2

    # A deal booked after the freeze changes nothing, and is counted as late data.
    at(sb, datetime(2026, 10, 16, 9, tzinfo=UTC))
    book_late_deal(sb, date(2026, 9, 29))
    late = cycle(sb, settings)
    assert wins(sb, Q3) == q3 + 1
    after = record(sb, "wins.won")
    assert (after["Final_Value__c"], after["Baseline__c"]) == (q3, q3)  # the frozen value stands
    assert final_writes(sb) == 2  # nothing rewritten
    assert [(s.label, s.late_records) for s in late.closed.late] == [("2026-Q3", 1)]
    assert late.closed.details()["late_data"] == {"wins 2026-Q3": 1}
    shown = okrsync(config, store_url, sb, "status")
    assert shown.returncode == 0, shown.stderr
    assert "1 record changed since frozen" in shown.stdout
    assert "okrsync period reopen -c FILE 2026-Q3" in shown.stdout

    # An unknown period is one line listing the closed ones; reopening Q3 takes the deal in.
    unknown = okrsync(config, store_url, sb, "period", "reopen", "2026-Q1")
    assert unknown.returncode == 2
    assert unknown.stderr.strip().count("\n") == 0
    assert "closed periods: 2026-Q3 (frozen), 2026-Q2 (frozen)" in unknown.stderr
    reopened = okrsync(config, store_url, sb, "period", "reopen", "2026-Q3")
    assert reopened.returncode == 0, reopened.stderr
    assert "reopened 2026-Q3 (wins)" in reopened.stdout
    again = cycle(sb, settings)
    assert [s.label for s in again.closed.frozen] == ["2026-Q3"]  # close_after has passed: at once
    assert again.closed.late == []
    refrozen = record(sb, "wins.won")
    rescored = round((q3 + 1) / 1000, 3)
    assert (refrozen["Final_Value__c"], refrozen["Baseline__c"]) == (q3 + 1, q3 + 1)
    assert refrozen["Final_Score__c"] == pytest.approx(rescored, abs=1e-9)


TREE = CONFIG.replace(
    "objectives:\n",
    """objectives:
  - key: company
    period: current_quarter
    from_children: mean
  - key: pipeline
    parent: company
    period: current_quarter
    key_results:
      - key: created
        metric: {kind: count, stream: deals, date: close_date}
        target: 400
""",
).replace("  - key: wins\n    period", "  - key: wins\n    parent: company\n    period")


def test_a_parent_scored_from_its_children_freezes_with_their_scores(
    sb: SalesforceSandbox, tmp_path: Path, store_url: str
) -> None:
    """The frozen score of an objective with `from_children` and no key results of its own is the
    mean of its children's frozen scores, each counted here from the raw Opportunities."""
    config = tmp_path / "okr.yaml"
    config.write_text(TREE)
    settings = load_settings(config, environment(sb)).model_copy(update={"store": store_url})
    ensure_fields(settings, "sfdc", apply=True)
    first, last = Q2
    created = sum(1 for o in sb.org.records("Opportunity") if first <= o["CloseDate"] <= last)
    won_score, created_score = wins(sb, Q2) / 1000, min(created / 400, 1.0)

    report = cycle(sb, settings)  # in Q3: Q2 ended long ago and freezes at once
    scores = {s.objective: s.score for s in report.closed.frozen if s.label == "2026-Q2"}
    assert scores["wins"] == pytest.approx(won_score, abs=1e-9)
    assert scores["pipeline"] == pytest.approx(created_score, abs=1e-9)
    assert scores["company"] == pytest.approx((won_score + created_score) / 2, abs=1e-9)
    shown = okrsync(config, store_url, sb, "status")
    assert shown.returncode == 0, shown.stderr
    assert "final score —" not in shown.stdout
