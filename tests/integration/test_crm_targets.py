"""Targets from the CRM through real cycles against both sandboxes (README "Targets from the CRM").

Each rep's expected target is summed here from the sandbox's raw quota records (Salesforce
ForecastingQuota rows, HubSpot goal_targets objects), in plain Python, without okrsync's
connectors, store or rollup: quotas whose start (HubSpot: whose time slice's middle) falls in the
current quarter, per rep, merged by e-mail. A quota changed mid-quarter shows in the next cycle;
the rep the sample gives no quota gets no target, and `okrsync check` names them.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from sandbox.demo import DemoOrg, start_demo_org
from sandbox.hubspot import HubSpotSandbox
from sandbox.salesforce import SalesforceSandbox
from sandbox.sample_quotas import REVENUE_GOAL, rep_without_quota
from syncer.cli import main
from syncer.config import load_settings
from syncer.config.models import Settings
from syncer.values import KeyResultValue
from tests.integration.test_salesforce_cycle import ZONE, current_quarter, cycle

pytestmark = pytest.mark.integration
CONFIG = f"""\
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
  hub:
    kind: hubspot
    base_url: ${{OKRSYNC_SANDBOX_HS_URL}}
    auth: {{method: private_app, access_token: "${{OKRSYNC_SANDBOX_HS_TOKEN}}"}}
    streams:
      deals: {{pipelines: [default]}}
objectives:
  - key: quota
    key_results:
      - key: revenue
        metric: {{kind: sum, stream: deals, field: amount, where: {{is_won: true, source: sfdc}}, date: close_date}}
        target: {{from: crm_quota}}
        group_by: owner
      - key: deals
        metric: {{kind: count, stream: deals, where: {{is_won: true, source: sfdc}}, date: close_date}}
        target: {{from: crm_quota, forecasting_type: OpportunityQuantity, total: 30}}
        group_by: owner
      - key: hub-revenue
        metric: {{kind: sum, stream: deals, field: amount, where: {{is_won: true, source: hub}}, date: close_date}}
        target: {{from: crm_goal, name: "{REVENUE_GOAL}"}}
        group_by: owner
writeback:
  - source: sfdc
    object: OKR_Key_Result__c
    upsert_on: OKR_Key__c
    fields:
      Name: "*.key"
      Value__c: "*.value"
      Target__c: "*.target"
      Progress__c: "*.progress_pct"
      Status__c: "*.status"
"""


@pytest.fixture
def sandbox() -> Iterator[DemoOrg]:
    with start_demo_org() as started:
        time.sleep(1.05 - datetime.now(UTC).microsecond / 1e6)  # see test_salesforce_cycle
        yield started


@pytest.fixture
def settings(sandbox: DemoOrg, store_url: str, tmp_path: Path) -> Settings:
    config = tmp_path / "okrsync.yaml"
    config.write_text(CONFIG)
    return load_settings(config, sandbox.env).model_copy(update={"store": store_url})


# ---------------------------------------------------------------- the independent computation


def _in_quarter(day: date) -> bool:
    start, end = current_quarter()
    return start <= day <= end


def sf_quotas(sf: SalesforceSandbox, developer_name: str, measure: str) -> dict[str, float]:
    """e-mail → the sum of the active reps' quotas of that forecast type starting this quarter."""
    [type_id] = [t["Id"] for t in sf.org.records("ForecastingType") if t["DeveloperName"] == developer_name]
    users = {u["Id"]: u for u in sf.org.records("User")}
    sums: dict[str, float] = defaultdict(float)
    for quota in sf.org.records("ForecastingQuota"):
        user = users[quota["QuotaOwnerId"]]
        if quota["ForecastingTypeId"] == type_id and _in_quarter(quota["StartDate"]) and user["IsActive"]:
            sums[user["Email"].lower()] += quota[measure]
    return dict(sums)


def _middle(props: dict) -> date:
    start = datetime.fromisoformat(props["hs_start_datetime"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(props["hs_end_datetime"].replace("Z", "+00:00"))
    return (start + (end - start) / 2).astimezone(ZONE).date()


def hs_goals(hs: HubSpotSandbox, name: str) -> dict[str, float]:
    """e-mail → the sum of the goal's time slices whose middle falls in this quarter (in the YAML's zone)."""
    by_user = {}
    for owner in hs.portal.owners:
        if not owner["archived"]:
            by_user[str(owner["userIdIncludingInactive"])] = owner["email"].lower()
    sums: dict[str, float] = defaultdict(float)
    for goal in hs.records("goal_targets"):
        props = goal.properties
        email = by_user.get(str(props["hs_assignee_user_id"]))
        if props["hs_goal_name"] == name and _in_quarter(_middle(props)) and email:
            sums[email] += float(props["hs_target_amount"])
    return dict(sums)


def targets(values: list[KeyResultValue], key_result: str) -> dict[str, float | None]:
    return {
        v.group_key: None if v.target is None else float(v.target)
        for v in values
        if v.key_result == key_result and v.group_kind == "owner"
    }


def total(values: list[KeyResultValue], key_result: str) -> KeyResultValue:
    [value] = [v for v in values if v.key_result == key_result and v.is_total]
    return value


def _email(sandbox: DemoOrg, key: str) -> str:
    [user] = [u for u in sandbox.salesforce.sample.users if u.key == key]
    return user.email.lower()


# ---------------------------------------------------------------- the tests


def test_each_rep_s_target_is_their_quota_and_the_total_their_sum(
    sandbox: DemoOrg, settings: Settings
) -> None:
    sf, hs = sandbox.salesforce, sandbox.hubspot
    revenue, hub_revenue = sf_quotas(sf, "OpportunityRevenue", "QuotaAmount"), hs_goals(hs, REVENUE_GOAL)
    deals = sf_quotas(sf, "OpportunityQuantity", "QuotaQuantity")
    assert len(revenue) >= 5
    assert len(set(revenue.values())) > 1, "the sample should give reps different quotas"

    report = cycle(settings)

    assert report.exit_code == 0, report.errors
    without = _email(sandbox, rep_without_quota(sf.sample))
    for key_result, quotas in (("revenue", revenue), ("deals", deals), ("hub-revenue", hub_revenue)):
        got = targets(report.values, key_result)
        assert {rep: t for rep, t in got.items() if t is not None} == pytest.approx(quotas), key_result
        assert got[without] is None, f"{key_result}: the rep without a quota has a target"
        [rep_value] = [v for v in report.values if v.key_result == key_result and v.group_key == without]
        assert (rep_value.progress, rep_value.score, rep_value.status) == (None, None, None)
    assert float(total(report.values, "revenue").target or 0) == pytest.approx(sum(revenue.values()))
    assert float(total(report.values, "hub-revenue").target or 0) == pytest.approx(sum(hub_revenue.values()))
    assert total(report.values, "deals").target == 30  # the YAML's `total:` wins over the sum
    written = {r["OKR_Key__c"]: r for r in sf.org.records("OKR_Key_Result__c")}
    for email, quota in revenue.items():
        record = written[f"quota.revenue.{email}"]
        assert record["Target__c"] == pytest.approx(quota)
        assert record["Progress__c"] == pytest.approx(round(100 * record["Value__c"] / quota, 1), abs=0.06)
    assert written[f"quota.revenue.{without}"]["Target__c"] is None
    assert written[f"quota.revenue.{without}"]["Status__c"] is None


def test_a_quota_changed_mid_quarter_is_read_by_the_next_cycle(sandbox: DemoOrg, settings: Settings) -> None:
    sf, hs = sandbox.salesforce, sandbox.hubspot
    before = cycle(settings)
    assert before.exit_code == 0, before.errors
    start, _ = current_quarter()
    quota = next(
        q for q in sf.org.records("ForecastingQuota") if q["StartDate"] == start and q["QuotaAmount"]
    )
    sf.org.update("ForecastingQuota", quota["Id"], {"QuotaAmount": quota["QuotaAmount"] + 12_345})
    goal = next(
        g
        for g in hs.records("goal_targets")
        if g.properties["hs_goal_name"] == REVENUE_GOAL and _in_quarter(_middle(g.properties))
    )
    hs.update("goal_targets", goal.id, {"hs_target_amount": float(goal.properties["hs_target_amount"]) + 999})

    report = cycle(settings)

    assert report.exit_code == 0, report.errors
    changed, hub = sf_quotas(sf, "OpportunityRevenue", "QuotaAmount"), hs_goals(hs, REVENUE_GOAL)
    for key_result, quotas in (("revenue", changed), ("hub-revenue", hub)):
        got = {rep: t for rep, t in targets(report.values, key_result).items() if t is not None}
        assert got == pytest.approx(quotas), key_result
        assert got != targets(before.values, key_result), f"{key_result}: the change was not read"
    assert float(total(report.values, "revenue").target or 0) == pytest.approx(sum(changed.values()))


def test_check_lists_the_reps_without_a_quota(
    sandbox: DemoOrg, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in sandbox.env.items():
        monkeypatch.setenv(name, value)
    config = tmp_path / "okrsync.yaml"
    config.write_text(CONFIG.replace("sqlite:///unused.db", f"sqlite:///{tmp_path / 'okr.db'}"))

    main(["check", "-c", str(config)])

    out = capsys.readouterr().out
    without = _email(sandbox, rep_without_quota(sandbox.salesforce.sample))
    lines = [line for line in out.splitlines() if "no quota for" in line]
    for key in ("quota.revenue.target", "quota.deals.target", "quota.hub-revenue.target"):
        [line] = [line for line in lines if key in line]
        assert without in line, line
    others = set(sf_quotas(sandbox.salesforce, "OpportunityRevenue", "QuotaAmount"))
    assert not any(email in line for line in lines for email in others), "a rep with a quota is listed"
