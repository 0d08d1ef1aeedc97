"""Full cycles of config/demo.yaml against the Salesforce sandbox, checked against the seeded org.

The demo's HubSpot sandbox runs alongside (its key results count HubSpot only, so the Salesforce
numbers stay Salesforce's); test_hubspot_cycle checks the HubSpot numbers.

The expected numbers are computed here, in plain Python over the sandbox's own records, without
okrsync's mapping, SQL or scoring.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from sandbox.demo import DemoOrg, start_demo_org
from sandbox.salesforce import SalesforceSandbox
from syncer.commands.crm import connector_factory, ensure_fields
from syncer.config import load_settings
from syncer.config.models import Settings
from syncer.cycle import CycleResult, run_cycle
from syncer.store import cursors
from syncer.store.database import open_store
from syncer.store.tables import CallRow, DealRow, RenewalRow

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "config" / "demo.yaml"
ZONE = ZoneInfo("America/New_York")


@pytest.fixture
def sandbox() -> Iterator[DemoOrg]:
    with start_demo_org() as started:
        ensure_demo_fields(started.env)
        # Records seeded "just now" carry this second's stamp; a cycle starting within the same
        # second rightly leaves them to the next one. Start the first cycle a second later.
        time.sleep(1.05 - datetime.now(UTC).microsecond / 1e6)
        yield started


def ensure_demo_fields(env: dict[str, str]) -> None:
    """What `okrsync demo` does before its cycle: create the write-back fields the sandboxes lack
    (the HubSpot key-result object's value properties)."""
    settings = load_settings(DEMO, env)
    for name in settings.sources:
        _, findings = ensure_fields(settings, name, apply=True)
        assert all(f.level == "ok" for f in findings), findings


def demo_settings(env: dict[str, str], store_url: str, config: Path = DEMO) -> Settings:
    return load_settings(config, env).model_copy(update={"store": store_url})


def cycle(settings: Settings) -> CycleResult:
    store = open_store(settings.store)
    try:
        return run_cycle(settings, store, connector_factory(settings), clock=lambda: datetime.now(UTC))
    finally:
        store.close()


def current_quarter() -> tuple[date, date]:
    today = datetime.now(ZONE).date()
    first_month = 3 * ((today.month - 1) // 3) + 1
    start = date(today.year, first_month, 1)
    following = date(today.year + (first_month == 10), 1 if first_month == 10 else first_month + 3, 1)
    return start, following - timedelta(days=1)


def expected_per_rep(sf: SalesforceSandbox) -> dict[str, dict[str, float]]:
    """Revenue, new deals and calls of the current quarter per active user id, from the raw org."""
    start, end = current_quarter()
    partner = {r["Id"] for r in sf.org.records("RecordType") if r["DeveloperName"] == "Partner"}
    numbers: dict[str, dict[str, float]] = defaultdict(lambda: {"revenue": 0.0, "new": 0, "calls": 0})
    for opp in sf.org.records("Opportunity"):
        if opp["RecordTypeId"] in partner or not opp["IsWon"] or not start <= opp["CloseDate"] <= end:
            continue
        numbers[opp["OwnerId"]]["revenue"] += in_usd(sf, opp)
        numbers[opp["OwnerId"]]["new"] += opp["Type"] == "New Business"
    for task in sf.org.records("Task"):
        if task["TaskSubtype"] == "Call" and start <= task["CreatedDate"].astimezone(ZONE).date() <= end:
            numbers[task["OwnerId"]]["calls"] += 1
    return {u["Id"]: _rounded(numbers[u["Id"]]) for u in reps(sf)}


def in_usd(sf: SalesforceSandbox, opp: dict) -> float:
    """The amount in the corporate currency, at the org's dated rate of its CloseDate (units per 1 USD)."""
    if opp["CurrencyIsoCode"] == "USD":
        return round(opp["Amount"] or 0, 2)
    [rate] = [
        r["ConversionRate"]
        for r in sf.org.records("DatedConversionRate")
        if r["IsoCode"] == opp["CurrencyIsoCode"]
        and r["StartDate"] <= opp["CloseDate"]
        and (r["NextStartDate"] is None or opp["CloseDate"] < r["NextStartDate"])
    ]
    return round((opp["Amount"] or 0) / rate, 2)


def reps(sf: SalesforceSandbox) -> list[dict]:
    """Active users with a team: the owners demo.yaml writes to (`Department != null`)."""
    return [u for u in sf.org.records("User") if u["IsActive"] and u["Department"] is not None]


def _rounded(numbers: dict[str, float]) -> dict[str, float]:
    return {name: round(float(value), 2) for name, value in numbers.items()}


def written_user_fields(sf: SalesforceSandbox) -> dict[str, dict[str, float]]:
    return {
        u["Id"]: _rounded(
            {"revenue": u["Q_Revenue__c"], "new": u["Q_New_Deals__c"], "calls": u["Q_Calls__c"]}
        )
        for u in reps(sf)
    }


def user_write_ids(sf: SalesforceSandbox) -> set[str]:
    return {
        record["id"]
        for request in sf.requests.filter(kind="composite_update")
        for record in request.body["records"]
        if record["attributes"]["type"] == "User"
    }


def test_cycle_writes_the_values_computed_from_the_seeded_org(sandbox, store_url: str) -> None:
    env, sf = sandbox.env, sandbox.salesforce
    report = cycle(demo_settings(env, store_url))
    assert report.exit_code == 0, report.errors
    expected = expected_per_rep(sf)
    assert sum(rep["revenue"] for rep in expected.values()) > 0
    assert written_user_fields(sf) == expected
    others = [u for u in sf.org.records("User") if u["Department"] is None]
    assert others
    assert all(u["Q_Revenue__c"] is None for u in others)  # not reps: nothing written
    [total] = [r for r in sf.org.records("OKR_Key_Result__c") if r["OKR_Key__c"] == "q-revenue.revenue"]
    revenue_all_owners = sum(  # totals count every record, whoever owns it, active or not
        in_usd(sf, o)
        for o in sf.org.records("Opportunity")
        if o["IsWon"]
        and current_quarter()[0] <= o["CloseDate"] <= current_quarter()[1]
        and o["RecordTypeId"]
        not in {r["Id"] for r in sf.org.records("RecordType") if r["DeveloperName"] == "Partner"}
    )
    assert total["Value__c"] == pytest.approx(revenue_all_owners)


def test_second_cycle_without_change_pulls_and_writes_nothing(sandbox, store_url: str) -> None:
    env, sf, hs = sandbox.env, sandbox.salesforce, sandbox.hubspot
    settings = demo_settings(env, store_url)
    assert cycle(settings).exit_code == 0
    sf.requests.clear()
    hs.requests.clear()
    second = cycle(settings)
    assert second.exit_code == 0
    # Rows inside the connector's look-back window are read again, but none is new or changed.
    assert [(p.source, s.stream, s.changed) for p in second.pulls for s in p.streams] == [
        ("sfdc", "deals", 0),
        ("sfdc", "calls", 0),
        ("sfdc", "renewals", 0),
        ("sfdc", "leads", 0),  # a declared stream (README "Any object as a stream")
        ("hub", "deals", 0),
        ("hub", "calls", 0),
        ("hub", "renewals", 0),
        ("hub", "meetings", 0),
    ]
    assert second.pushes == []
    assert sf.requests.count(writes=True) == 0
    assert hs.requests.count(writes=True) == 0


def test_three_changed_opportunities_rewrite_only_their_reps(sandbox, store_url: str) -> None:
    env, sf = sandbox.env, sandbox.salesforce
    settings = demo_settings(env, store_url)
    cycle(settings)
    start, end = current_quarter()
    active = {u["Id"] for u in sf.org.records("User") if u["IsActive"]}
    won = [
        o
        for o in sf.org.records("Opportunity")
        if o["IsWon"]
        and o["Type"] == "New Business"
        and start <= o["CloseDate"] <= end
        and o["OwnerId"] in active
    ]
    by_owner: dict[str, list[dict]] = defaultdict(list)
    for opp in won:
        by_owner[opp["OwnerId"]].append(opp)
    twice = next(owner for owner, opps in by_owner.items() if len(opps) >= 2)
    changed = [*by_owner[twice][:2], next(o for o in won if o["OwnerId"] != twice)]  # 3 deals, 2 reps
    for opp in changed:
        sf.org.update("Opportunity", opp["Id"], {"Amount": (opp["Amount"] or 0) + 1000})
    sf.requests.clear()
    time.sleep(1.1)  # a cycle reads changes up to its start, in whole seconds: start the next one later

    report = cycle(settings)
    assert report.exit_code == 0, report.errors
    deals = next(s for s in report.pulls[0].streams if s.stream == "deals")
    assert deals.changed == 3
    assert user_write_ids(sf) == {o["OwnerId"] for o in changed}
    assert written_user_fields(sf) == expected_per_rep(sf)


def _store_rows(store_url: str) -> dict[str, set[tuple]]:
    store = open_store(store_url)
    try:
        with store.sessions() as session:
            return {
                table.__tablename__: set(
                    session.execute(select(table.id, table.modified_at, table.deleted)).all()
                )
                for table in (DealRow, CallRow, RenewalRow)
            }
    finally:
        store.close()


def test_killed_between_pull_batches_then_rerun_loses_and_doubles_nothing(
    sandbox, store_url: str, tmp_path: Path
) -> None:
    env, sf = sandbox.env, sandbox.salesforce
    config = tmp_path / "okr.yaml"
    config.write_text(
        DEMO.read_text().replace(
            "    schedule: {every: 15m}", "    schedule: {every: 15m}\n    page_size: 200"
        )
    )
    config.write_text(config.read_text().replace("sqlite:///okrsync-demo.db", store_url))
    # The third deals page answers 503 with Retry-After: 30, so the worker is asleep between two
    # committed batches when it is killed.
    sf.fail_next(1, status=503, path_contains="-400", retry_after=30)
    process = subprocess.Popen(
        [sys.executable, "-m", "syncer", "run", "-c", str(config)],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not any(r.status == 503 for r in sf.requests) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    partial = _store_rows(store_url)
    assert 0 < len(partial["deals"]) < len(sf.org.records("Opportunity", include_deleted=True))
    store = open_store(store_url)
    with store.sessions() as session:
        assert cursors.load(session, "sfdc", "deals") is not None
    store.close()

    rerun = subprocess.run(
        [sys.executable, "-m", "syncer", "run", "-c", str(config)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert rerun.returncode == 0, rerun.stderr
    clean_url = f"sqlite:///{tmp_path / 'clean.db'}"
    assert cycle(demo_settings(env, clean_url)).exit_code == 0
    assert _store_rows(store_url) == _store_rows(clean_url)
    assert written_user_fields(sf) == expected_per_rep(sf)
    counts = Counter(r.kind for r in sf.requests)
    assert counts["composite_update"] >= 1
