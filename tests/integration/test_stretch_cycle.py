"""An aspirational key result with a stretch, through a real cycle against the Salesforce sandbox.

"Won deals this quarter", split evenly among the reps, with a target below the
org's count and a stretch above it. After the cycle, the Score__c, Status__c and Confidence__c
of every key-result record in the sandbox must be what this test works out from the sandbox's own
records with README "Committed, aspirational and stretch key results" (0.7 at the target, 1.0 at
the stretch, linear between and below; an aspirational status holds the score against 0.7 and
0.7 × expected), in plain Python, without okrsync's mapping, SQL or scoring.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import pytest

from sandbox.demo import DemoOrg, start_demo_org
from sandbox.salesforce import SalesforceSandbox
from syncer.commands.crm import ensure_fields
from syncer.config import load_settings
from tests.integration.test_salesforce_cycle import ZONE, current_quarter, cycle, reps

pytestmark = pytest.mark.integration
CONFIG = """\
version: 1
store: sqlite:///unused.db
timezone: America/New_York
sources:
  sfdc:
    kind: salesforce
    instance_url: ${{OKRSYNC_SANDBOX_SF_URL}}
    ca_bundle: ${{OKRSYNC_SANDBOX_CA}}
    auth:
      method: client_credentials
      client_id: ${{OKRSYNC_SANDBOX_SF_CLIENT_ID}}
      client_secret: ${{OKRSYNC_SANDBOX_SF_CLIENT_SECRET}}
    owners: {{team_field: Department, where: "Department != null"}}
    streams:
      deals: {{object: Opportunity, where: "RecordType.DeveloperName != 'Partner'"}}
objectives:
  - key: wins
    type: aspirational
    key_results:
      - key: won
        metric: {{kind: count, stream: deals, where: {{is_won: true}}, date: close_date}}
        target: {target}
        stretch: {stretch}
        confidence: 0.5
        group_by: owner
        owner_targets: even
      - key: no-stretch              # aspirational without a stretch: done at 70 % of the target
        metric: {{kind: count, stream: deals, where: {{is_won: true}}, date: close_date}}
        target: {plain_target}
        group_by: owner
        owner_targets: even
writeback:
  - source: sfdc
    object: OKR_Key_Result__c
    upsert_on: OKR_Key__c
    fields:
      Name: "*.key"
      Value__c: "*.value"
      Score__c: "*.score"
      Status__c: "*.status"
      Confidence__c: "*.confidence"
"""


@pytest.fixture
def sandbox() -> Iterator[DemoOrg]:
    with start_demo_org() as started:
        time.sleep(1.05 - datetime.now(UTC).microsecond / 1e6)  # see test_salesforce_cycle
        yield started


def wins_this_quarter(sf: SalesforceSandbox) -> Counter[str | None]:
    """This quarter's won non-partner deals per owner id (None: all of them)."""
    start, end = current_quarter()
    partner = {r["Id"] for r in sf.org.records("RecordType") if r["DeveloperName"] == "Partner"}
    wins: Counter[str | None] = Counter()
    for opp in sf.org.records("Opportunity"):
        counted = opp["IsWon"] and opp["RecordTypeId"] not in partner and start <= opp["CloseDate"] <= end
        if counted:
            wins[opp["OwnerId"]] += 1
            wins[None] += 1
    return wins


def elapsed_share(now: datetime) -> float:
    start, end = current_quarter()
    first = datetime.combine(start, clock_time(), tzinfo=ZONE)
    after = datetime.combine(end + timedelta(days=1), clock_time(), tzinfo=ZONE)
    return (now - first) / (after - first)


def dynamics_score(value: float, target: float, stretch: float) -> float:
    if value < target:
        return 0.7 * value / target
    return min(1.0, 0.7 + 0.3 * (value - target) / (stretch - target))


def aspirational_status(score: float, expected: float) -> str:
    if score >= 0.7:
        return "done"
    if score >= 0.7 * expected:
        return "on_track"
    return "at_risk" if score >= 0.7 * 0.7 * expected else "off_track"


def test_scores_and_statuses_written_match_the_stretch_rules(
    sandbox: DemoOrg, store_url: str, tmp_path: Path
) -> None:
    env, sf = sandbox.env, sandbox.salesforce
    wins = wins_this_quarter(sf)
    total = wins[None]
    assert total >= 7, "the sample org pins 8 wins into the current quarter"
    target, stretch = total - 2, total + 2  # the total lands halfway from the target to the stretch
    config = tmp_path / "okrsync.yaml"
    plain_target = total + 3  # the total is short of it, but past 70 % of it
    config.write_text(CONFIG.format(target=target, stretch=stretch, plain_target=plain_target))
    settings = load_settings(config, env).model_copy(update={"store": store_url})
    _, findings = ensure_fields(settings, "sfdc", apply=True)  # creates Confidence__c
    assert all(f.level == "ok" for f in findings), findings

    expected = elapsed_share(datetime.now(UTC))
    report = cycle(settings)

    assert report.exit_code == 0, report.errors
    records = {r["OKR_Key__c"]: r for r in sf.org.records("OKR_Key_Result__c")}
    written = records["wins.won"]
    assert written["Value__c"] == total
    assert written["Score__c"] == pytest.approx(0.85, abs=0.005)  # 0.7 + 0.3 × 2 / 4
    assert (written["Status__c"], written["Confidence__c"]) == ("done", 0.5)
    team = reps(sf)
    for rep in team:  # even: each of the n reps gets target / n and stretch / n
        rep_target, rep_stretch = target / len(team), stretch / len(team)
        value = wins[rep["Id"]]
        score = dynamics_score(value, rep_target, rep_stretch)
        record = records[f"wins.won.{rep['Email'].lower()}"]
        assert record["Value__c"] == value, rep["Email"]
        assert record["Score__c"] == pytest.approx(score, abs=0.006), (rep["Email"], value, rep_target)
        assert record["Status__c"] == aspirational_status(score, expected), (rep["Email"], score, expected)
        assert record["Confidence__c"] == 0.5
    plain = records["wins.no-stretch"]
    assert plain["Score__c"] == pytest.approx(total / plain_target, abs=0.005)
    assert (plain["Status__c"], plain["Confidence__c"]) == ("done", None)  # ≥ 0.7: aspirational success
    for rep in team:
        value, rep_target = wins[rep["Id"]], plain_target / len(team)
        score = min(1.0, value / rep_target)
        record = records[f"wins.no-stretch.{rep['Email'].lower()}"]
        assert record["Score__c"] == pytest.approx(score, abs=0.006), (rep["Email"], value, rep_target)
        assert record["Status__c"] == aspirational_status(score, expected), (rep["Email"], score, expected)
    scores = {records[f"wins.won.{rep['Email'].lower()}"]["Score__c"] for rep in team}
    assert len(scores) > 1, "the reps' wins should differ, or the test proves little"
