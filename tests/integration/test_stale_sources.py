"""Unknown is not zero: a key result whose source failed, or never completed a pull, is not written.

config/demo.yaml against both sandboxes: its `q-revenue`, `activity` and `retention` key results read
Salesforce (`source: sfdc`), `hub-pipeline` reads HubSpot, and every key result is written to the
HubSpot key-result object (and the Salesforce ones to the reps' User records). The expected HubSpot
numbers come from test_hubspot_cycle's plain-Python computation over the portal's raw records.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from sandbox.demo import DemoOrg
from sandbox.hubspot import HubSpotSandbox
from sandbox.salesforce import SalesforceSandbox
from syncer.cli import main
from syncer.commands.crm import connector_factory
from syncer.config.models import Settings
from syncer.cycle import CycleOptions, CycleResult, run_cycle
from syncer.staleness import NEVER_PULLED, PULL_FAILED
from syncer.store.database import open_store
from syncer.store.runs import recent
from syncer.store.tables import DealRow
from tests.integration.test_hubspot_cycle import KEY_RESULTS, expected_values, next_second
from tests.integration.test_salesforce_cycle import (
    DEMO,
    current_quarter,
    demo_settings,
    sandbox,  # noqa: F401 - the fixture
    written_user_fields,
)

pytestmark = pytest.mark.integration
SALESFORCE_KRS = ("q-revenue.", "activity.", "retention.")  # every key result reading sfdc
# hub-pipeline's key results measure what test_hubspot_cycle's do, on the same portal.
HUB_KRS = {"q-revenue.revenue": "hub-pipeline.revenue", "activity.calls": "hub-pipeline.calls"}


@pytest.fixture
def demo(request: pytest.FixtureRequest) -> DemoOrg:
    started: DemoOrg = request.getfixturevalue("sandbox")
    return started


def hub_written(hs: HubSpotSandbox) -> dict[str, float | None]:
    """okr_key → okr_value of every key-result record in the portal (None: an empty value)."""
    return {r.properties["okr_key"]: _number(r.properties.get("okr_value")) for r in hs.records(KEY_RESULTS)}


def _number(value: object) -> float | None:
    return None if value in (None, "") else round(float(str(value)), 4)


def hub_expected(hs: HubSpotSandbox) -> dict[str, float]:
    """The hub-pipeline key results (totals and per rep), computed from the portal's raw records."""
    expected = expected_values(hs)
    return {
        key.replace(plain, demo_key, 1): value
        for key, value in expected.items()
        for plain, demo_key in HUB_KRS.items()
        if key == plain or key.startswith(plain + ".")
    }


def key_result_of(written_key: str) -> str:
    """The "objective.key_result" of a written okr_key (a group, an e-mail with dots, may follow)."""
    return ".".join(written_key.split(".")[:2])


def reading(settings: Settings, stream: str, source: str) -> set[str]:
    """The key results whose metric reads `stream` narrowed to `source` (as the demo writes them)."""
    return {
        f"{objective.key}.{kr.key}"
        for objective in settings.objectives
        for kr in objective.key_results
        if getattr(kr.metric, "stream", None) == stream and kr.metric.where.get("source") == source
    }


def write_config(tmp_path: Path, store_url: str) -> Path:
    config = tmp_path / "okr.yaml"
    text = DEMO.read_text().replace("sqlite:///okrsync-demo.db", store_url)
    config.write_text(
        text.replace("    schedule: {every: 15m}", "    schedule: {every: 15m}\n    page_size: 200")
    )
    return config


def test_a_refused_salesforce_secret_on_a_fresh_store_writes_nothing_for_its_key_results(
    demo: DemoOrg,
    tmp_path: Path,
    store_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    hs = demo.hubspot
    for name, value in demo.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OKRSYNC_SANDBOX_SF_CLIENT_SECRET", "not-the-secret")
    config = write_config(tmp_path, store_url)

    assert main(["run", "-c", str(config)]) == 1

    written = hub_written(hs)
    assert not [key for key in written if key.startswith(SALESFORCE_KRS)]  # no 0 for unknown numbers
    expected = hub_expected(hs)
    assert expected["hub-pipeline.revenue"] > 0
    # Every hub-pipeline key result is written; those computed here independently are also right
    # (meetings and the goal-target quota have their own tests: test_object_streams, test_crm_targets).
    settings = demo_settings(demo.env, store_url, config=config)
    [hub_pipeline] = [o for o in settings.objectives if o.key == "hub-pipeline"]
    assert {key_result_of(key) for key in written} == {
        f"hub-pipeline.{kr.key}" for kr in hub_pipeline.key_results
    }
    assert {k: v for k, v in written.items() if key_result_of(k) in HUB_KRS.values()} == expected
    err = capsys.readouterr().err
    assert "key results stale, not written" in err

    assert main(["status", "-c", str(config)]) == 0
    out = capsys.readouterr().out
    start = out.index("Stale key results")
    stale_table = out[start : out.index("Closed periods", start)]  # the next table names every objective
    for key in ("q-revenue.revenue", "q-revenue.new-deals", "q-revenue.cycle", "activity.calls"):
        assert key in stale_table
    assert "retention.renewal-rate" in stale_table
    assert "hub-pipeline" not in stale_table
    assert "sfdc" in stale_table
    assert "token request refused" in stale_table  # the reason: the source's own error
    store = open_store(store_url)
    try:
        with store.sessions() as session:
            [run] = recent(session)
    finally:
        store.close()
    assert run.status == "failed"
    assert "key results stale" in (run.counts.error or "")


def _won_this_quarter(sf: SalesforceSandbox) -> list[dict]:
    """Won opportunities closing this quarter that the deals stream reads (not partner deals)."""
    start, end = current_quarter()
    partner = {r["Id"] for r in sf.org.records("RecordType") if r["DeveloperName"] == "Partner"}
    return [
        o
        for o in sf.org.records("Opportunity")
        if o["IsWon"] and start <= o["CloseDate"] <= end and o["RecordTypeId"] not in partner
    ]


def cycle_without_waits(settings: Settings) -> CycleResult:
    store = open_store(settings.store)
    try:
        opened = connector_factory(settings, sleep=lambda _seconds: None)  # retries exhaust at once
        return run_cycle(settings, store, opened, clock=lambda: datetime.now(UTC))
    finally:
        store.close()


def test_a_salesforce_pull_failing_midway_leaves_the_last_good_values_in_both_crms(
    demo: DemoOrg, tmp_path: Path, store_url: str
) -> None:
    sf, hs = demo.salesforce, demo.hubspot
    settings = demo_settings(demo.env, store_url, config=write_config(tmp_path, store_url))
    good = cycle_without_waits(settings)
    assert good.exit_code == 0, good.errors
    users_before, hub_before = written_user_fields(sf), hub_written(hs)
    assert sum(rep["revenue"] for rep in users_before.values()) > 0
    assert any(key.startswith("q-revenue.revenue") for key in hub_before)

    # Every opportunity changes (won ones of this quarter first, so the first pages hold them); the
    # third page of the deals pull then fails until retries run out: two pages of changes are
    # stored, the rest are not, and the stream's pull has failed.
    won = {o["Id"] for o in _won_this_quarter(sf)}
    opportunities = sorted(sf.org.records("Opportunity"), key=lambda o: o["Id"] not in won)
    for opp in opportunities:
        sf.org.update("Opportunity", opp["Id"], {"Amount": (opp["Amount"] or 0) + 1000})
    sf.fail_next(12, status=503, path_contains="-400")
    hs.requests.clear()
    # The org stamps each write at least a tick after the last one, so 1,000 quick writes can stamp
    # ahead of the wall clock: start the cycle once every change is in the past.
    newest = max(o["SystemModstamp"] for o in sf.org.records("Opportunity"))
    while datetime.now(UTC) <= newest:
        time.sleep(0.05)
    next_second()

    report = cycle_without_waits(settings)

    assert report.exit_code == 1
    deals = [s for s in report.stale if s.source == "sfdc" and s.stream == "deals"]
    assert {s.key for s in deals} == reading(settings, "deals", "sfdc")  # every one of them, no other
    assert {"q-revenue.revenue", "q-revenue.new-deals", "q-revenue.cycle"} <= {s.key for s in deals}
    assert {s.reason for s in deals} == {PULL_FAILED}
    assert written_user_fields(sf) == users_before  # untouched, though two pages of changes arrived
    assert hub_written(hs) == hub_before
    store = open_store(store_url)
    try:
        with store.sessions() as session:
            changed = set(
                session.scalars(
                    select(DealRow.id).where(DealRow.source == "sfdc", DealRow.modified_at >= good.started_at)
                )
            )
    finally:
        store.close()
    assert won <= changed  # the changed won deals reached the store: a rollup would have moved
    assert len(changed) < len(opportunities)  # but the pull did not finish


def test_key_results_of_a_never_pulled_source_are_stale_under_only_rollup(
    demo: DemoOrg, store_url: str
) -> None:
    settings = demo_settings(demo.env, store_url)
    store = open_store(store_url)
    try:
        opened = connector_factory(settings)
        report = run_cycle(
            settings,
            store,
            opened,
            clock=lambda: datetime.now(UTC),
            options=CycleOptions(phases=["rollup"]),
        )
    finally:
        store.close()
    assert report.exit_code == 1
    assert report.values == []
    assert {s.reason for s in report.stale} == {NEVER_PULLED}
    assert {s.source for s in report.stale} == {"sfdc", "hub"}
