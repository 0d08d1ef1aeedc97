"""Incremental pulls against the sandbox end in the same store as a full resync.

Between two cycles the org gets inserts, updates, deletes and a late-committed update (a row
stamped behind the cursor, which only the look-back window catches). The incrementally pulled
store must then equal a fresh full pull and a `--full` resync of itself, row for row.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from sandbox.salesforce import SalesforceSandbox
from syncer.commands.crm import connector_factory
from syncer.config import load_settings
from syncer.config.models import Settings
from syncer.cycle import CycleOptions, CycleResult, run_cycle
from syncer.store.database import open_store
from syncer.store.tables import CallRow, DealRow, RenewalRow

pytestmark = pytest.mark.integration
DEMO = Path(__file__).resolve().parents[2] / "config" / "demo.yaml"
NOW = datetime(2026, 11, 15, 12, tzinfo=UTC)  # the sandbox clock, frozen; moved by the test
TABLES = (DealRow, CallRow, RenewalRow)


@pytest.fixture
def sb() -> Iterator[SalesforceSandbox]:
    with SalesforceSandbox(now=NOW) as sandbox:
        yield sandbox


def settings_for(sb: SalesforceSandbox, store_url: str) -> Settings:
    env = {
        "OKRSYNC_SANDBOX_SF_URL": sb.instance_url,
        "OKRSYNC_SANDBOX_CA": sb.ca_bundle,
        "OKRSYNC_SANDBOX_SF_CLIENT_ID": sb.client_id,
        "OKRSYNC_SANDBOX_SF_CLIENT_SECRET": sb.client_secret,
        "OKRSYNC_SANDBOX_HS_URL": "http://127.0.0.1:9",  # never called: see below
        "OKRSYNC_SANDBOX_HS_TOKEN": "unused",
    }
    settings = load_settings(DEMO, env)
    # Salesforce only: the demo's HubSpot source is not started here, and the clock is frozen.
    return settings.model_copy(update={"store": store_url, "sources": {"sfdc": settings.sources["sfdc"]}})


def pull_cycle(settings: Settings, at: datetime, *, full: bool = False) -> CycleResult:
    store = open_store(settings.store)
    try:
        report = run_cycle(
            settings,
            store,
            connector_factory(settings),
            clock=lambda: at,
            options=CycleOptions(phases=["pull"], full=full),
        )
    finally:
        store.close()
    assert report.exit_code == 0, report.errors
    return report


def contents(store_url: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of the record tables, as plain dicts sorted by id."""
    store = open_store(store_url)
    try:
        with store.sessions() as session:
            return {
                table.__tablename__: sorted(
                    (
                        {c.key: getattr(row, c.key) for c in table.__table__.columns}
                        for row in session.scalars(select(table))
                    ),
                    key=lambda row: row["id"],
                )
                for table in TABLES
            }
    finally:
        store.close()


def change_org(sb: SalesforceSandbox, cursor_at: datetime) -> dict[str, str]:
    """Insert, update and delete deals and calls; one update committed "late", behind the cursor."""
    opportunities = [
        o for o in sb.org.records("Opportunity") if o["Type"] == "Renewal" and o["CurrencyIsoCode"] == "USD"
    ]
    tasks = [t for t in sb.org.records("Task") if t["TaskSubtype"] == "Call"]
    template = opportunities[0]
    new_id = sb.org.insert(
        "Opportunity",
        {
            "Name": "Incremental test renewal",
            "StageName": "Closed Won",
            "CloseDate": template["CloseDate"],
            "Amount": 4321,
            "Type": "Renewal",
            "OwnerId": template["OwnerId"],
            "AccountId": template["AccountId"],
        },
    )
    sb.org.update("Opportunity", opportunities[1]["Id"], {"Amount": 777})
    sb.org.delete("Opportunity", opportunities[2]["Id"])
    sb.org.update("Task", tasks[0]["Id"], {"CallDurationInSeconds": 999})
    sb.org.delete("Task", tasks[1]["Id"])
    late = opportunities[3]["Id"]
    sb.org.update("Opportunity", late, {"Amount": 1234, "SystemModstamp": cursor_at - timedelta(minutes=2)})
    return {
        "inserted": new_id,
        "updated": opportunities[1]["Id"],
        "deleted": opportunities[2]["Id"],
        "late": late,
    }


def test_incremental_cycles_end_where_a_full_resync_does(
    sb: SalesforceSandbox, store_url: str, tmp_path: Path
) -> None:
    incremental = settings_for(sb, store_url)
    first_at = NOW + timedelta(seconds=1)
    pull_cycle(incremental, first_at)
    sb.clock.advance(timedelta(minutes=1))
    changed = change_org(sb, first_at)
    second_at = sb.clock.now().replace(microsecond=0) + timedelta(seconds=1)

    report = pull_cycle(incremental, second_at)

    renewals = next(s for s in report.pulls[0].streams if s.stream == "renewals")
    assert renewals.changed == 4  # inserted, updated, deleted, late; overlap rows are not counted again
    fresh = settings_for(sb, f"sqlite:///{tmp_path / 'fresh.db'}")
    pull_cycle(fresh, second_at, full=True)
    got = contents(store_url)
    assert got == contents(fresh.store)
    by_id = {row["id"]: row for row in got["renewals"]}
    assert by_id[changed["inserted"]]["amount"] == 4321
    assert by_id[changed["late"]]["amount"] == 1234
    assert by_id[changed["deleted"]]["deleted"] is True
    pull_cycle(incremental, second_at, full=True)  # `okrsync run --full` on the same store
    assert contents(store_url) == got


def test_without_a_look_back_a_late_commit_is_missed(sb: SalesforceSandbox, store_url: str) -> None:
    settings = settings_for(sb, store_url)
    source = settings.sources["sfdc"].model_copy(update={"lookback_seconds": 0})
    settings = settings.model_copy(update={"sources": {"sfdc": source}})
    first_at = NOW + timedelta(seconds=1)
    pull_cycle(settings, first_at)
    sb.clock.advance(timedelta(minutes=1))
    changed = change_org(sb, first_at)

    pull_cycle(settings, sb.clock.now().replace(microsecond=0) + timedelta(seconds=1))

    by_id = {row["id"]: row for row in contents(store_url)["renewals"]}
    assert by_id[changed["late"]]["amount"] != 1234  # why the window exists
    assert by_id[changed["updated"]]["amount"] == 777


def test_spent_api_budget_stops_the_source_cleanly_and_the_next_run_resumes(
    sb: SalesforceSandbox, store_url: str, tmp_path: Path
) -> None:
    settings = settings_for(sb, store_url)
    source = settings.sources["sfdc"].model_copy(update={"page_size": 200})
    settings = settings.model_copy(update={"sources": {"sfdc": source}})
    sb.set_api_limit(max=120, used=0)  # 10 %: 12 calls this run
    at = NOW + timedelta(seconds=1)
    store = open_store(settings.store)
    try:
        stopped = run_cycle(
            settings,
            store,
            connector_factory(settings),
            clock=lambda: at,
            options=CycleOptions(phases=["pull"]),
        )
    finally:
        store.close()

    assert stopped.exit_code == 1
    assert "this run used 12 API calls, its budget is 12" in (stopped.pulls[0].error or "")
    assert stopped.api_calls == 13  # the 12 and the token request
    sb.set_api_limit(max=100_000, used=0)  # a new day
    pull_cycle(settings, at)
    fresh = settings_for(sb, f"sqlite:///{tmp_path / 'fresh.db'}")
    pull_cycle(fresh, at, full=True)
    assert contents(store_url) == contents(fresh.store)
