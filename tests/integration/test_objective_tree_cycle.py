"""An objective tree, through a real cycle against the Salesforce sandbox (README "Objective tree").

company (from_children: weighted) ← sales (weight 3, from_children: mean) ← new-business
                                  ← activity (weight 1)

After the cycle, the objective scores written on every rep's User record and on the objective's
own keyed record must be what this test works out from the sandbox's raw records in plain
Python (counts of this quarter's won deals, new-business wins and calls; a count's score is
value / target, capped at 1), without okrsync's mapping, SQL or scoring. A second cycle writes
nothing: the scores did not move.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
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
      calls: {{object: Task, where: "TaskSubtype = 'Call'"}}
objectives:
  - key: company
    title: Win the quarter
    from_children: weighted
  - key: sales
    parent: company
    weight: 3
    from_children: mean
    key_results:
      - key: won
        metric: {{kind: count, stream: deals, where: {{is_won: true}}, date: close_date}}
        target: {won_target}
  - key: new-business
    parent: sales
    key_results:
      - key: new
        metric: {{kind: count, stream: deals, where: {{is_won: true, type: new}}, date: close_date}}
        target: {new_target}
  - key: activity
    parent: company
    key_results:
      - key: calls
        metric: {{kind: count, stream: calls, date: occurred_at}}
        target: {calls_target}
writeback:
  - source: sfdc
    object: User
    match: owner
    fields:
      Company_Score__c: company.score
      Sales_Score__c: sales.score
  - source: sfdc
    object: OKR_Key_Result__c
    upsert_on: OKR_Key__c
    fields:
      Name: "*.key"
      Score__c: "*.score"
      Objective_Score__c: company.score
"""


@pytest.fixture
def sandbox() -> Iterator[DemoOrg]:
    with start_demo_org() as started:
        time.sleep(1.05 - datetime.now(UTC).microsecond / 1e6)  # see test_salesforce_cycle
        yield started


def counts_this_quarter(sf: SalesforceSandbox) -> dict[str, int]:
    """This quarter's won non-partner deals, new-business wins and calls, from the raw org."""
    start, end = current_quarter()
    partner = {r["Id"] for r in sf.org.records("RecordType") if r["DeveloperName"] == "Partner"}
    won = [
        opp
        for opp in sf.org.records("Opportunity")
        if opp["IsWon"] and opp["RecordTypeId"] not in partner and start <= opp["CloseDate"] <= end
    ]
    calls = [
        task
        for task in sf.org.records("Task")
        if task["TaskSubtype"] == "Call" and start <= task["CreatedDate"].astimezone(ZONE).date() <= end
    ]
    return {
        "won": len(won),
        "new": sum(opp["Type"] == "New Business" for opp in won),
        "calls": len(calls),
    }


def test_written_objective_scores_roll_up_the_tree(sandbox: DemoOrg, store_url: str, tmp_path: Path) -> None:
    env, sf = sandbox.env, sandbox.salesforce
    counts = counts_this_quarter(sf)
    assert counts["won"] >= 5, counts
    assert counts["new"] >= 1, counts
    assert counts["calls"] >= 10, counts
    # Targets above every value, so no score is capped and each part moves the result.
    targets = {"won": counts["won"] + 7, "new": counts["new"] + 3, "calls": counts["calls"] * 2}
    config = tmp_path / "okrsync.yaml"
    config.write_text(
        CONFIG.format(won_target=targets["won"], new_target=targets["new"], calls_target=targets["calls"])
    )
    settings = load_settings(config, env).model_copy(update={"store": store_url})
    _, findings = ensure_fields(settings, "sfdc", apply=True)  # the score fields
    assert all(f.level == "ok" for f in findings), findings

    report = cycle(settings)

    assert report.exit_code == 0, report.errors
    won, new, calls = (counts[k] / targets[k] for k in ("won", "new", "calls"))
    sales = (won + new) / 2  # mean: its own key result and its one child, each counting 1
    company = (3 * sales + 1 * calls) / 4  # weighted: sales 3, activity 1
    team = reps(sf)
    assert team
    users = {u["Id"]: u for u in sf.org.records("User")}
    for rep in team:
        written = users[rep["Id"]]
        assert written["Company_Score__c"] == pytest.approx(company, abs=0.0006), rep["Email"]
        assert written["Sales_Score__c"] == pytest.approx(sales, abs=0.0006), rep["Email"]
    records = {r["OKR_Key__c"]: r for r in sf.org.records("OKR_Key_Result__c")}
    own = records["company"]  # the objective's own record, keyed by its key
    assert own["Name"] == "company"
    assert own["Score__c"] == pytest.approx(company, abs=0.005)  # the org's Score__c has 2 decimals
    assert own["Objective_Score__c"] == pytest.approx(company, abs=0.0006)
    assert records["sales.won"]["Score__c"] == pytest.approx(won, abs=0.005)  # key results as before
    assert "sales" not in records  # only objectives a field names get a record

    again = cycle(settings)

    assert again.exit_code == 0, again.errors
    assert sum(p.written_fields for p in again.pushes) == 0
