"""Hostile records: one bad value in one CRM record neither stops a cycle nor bends a number.

Each kind of bad record is seeded into a sandbox, one cycle runs on a fresh store (SQLite, and
PostgreSQL when configured), and three things are checked: the cycle exits 0 (a quarantined
record is not a failure: README, "Quarantined records"); the record is quarantined with its
reason, or, for legal data, stored; every value written back to the sandbox equals the
independent computation of `expected` over the sandbox's raw records without the bad one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import select

from sandbox.hubspot import HubSpotSandbox
from sandbox.salesforce import SalesforceSandbox
from syncer.config.models import Settings
from syncer.cycle import EXIT_OK
from syncer.rollup.undated import count_undated
from syncer.store import quarantine
from syncer.store.database import open_store
from syncer.store.tables import STREAM_TABLES
from syncer.views.console import print_status
from syncer.views.quarantined_records import check_lines
from syncer.views.status_data import collect_status
from syncer.views.status_html import render_document
from tests.conftest import BACKENDS
from tests.hostile import expected
from tests.hostile.orgs import (
    added_hubspot,
    cycle,
    hub_settings,
    next_second,
    sf_settings,
    spoiled_hubspot,
    spoiled_salesforce,
)
from tests.hostile.record_fixtures import emptied, migrate, started_hubspot, started_salesforce

pytestmark = pytest.mark.integration
Values = Mapping[str, Any] | Callable[[Mapping[str, Any]], Mapping[str, Any]]


@dataclass(frozen=True)
class Case:
    """One kind of bad record: what is set on a record of `stream`, and what must come of it."""

    name: str
    stream: str  # deals or calls
    values: Values
    reason: str | None  # a part of the quarantine reason; None: legal data, stored
    field: str | None = None
    undated: int = 0  # records the deal key results skip for want of a close date

    def spoil(self, raw: Mapping[str, Any]) -> Mapping[str, Any]:
        return self.values(raw) if callable(self.values) else self.values


def _both(value: Any) -> dict[str, Any]:
    """A HubSpot amount: the home-currency amount is what okrsync reads first."""
    return {"amount": value, "amount_in_home_currency": value}


def _hs_close_before_created(raw: Mapping[str, Any]) -> dict[str, Any]:
    created = datetime.fromisoformat(str(raw["createdate"]).replace("Z", "+00:00"))
    close = datetime(created.year, 1, 1, tzinfo=UTC) if created.month > 2 else created - timedelta(days=20)
    return {
        "closedate": close.isoformat().replace("+00:00", "Z"),
        "createdate": (close + timedelta(days=30)).isoformat(),
    }


NOT_FINITE = "amount is not a finite number"
HUBSPOT_CASES = [
    Case("amount NaN", "deals", _both("NaN"), NOT_FINITE, "amount"),
    Case("amount Infinity", "deals", _both("Infinity"), NOT_FINITE, "amount"),
    Case("amount -Infinity", "deals", _both("-Infinity"), NOT_FINITE, "amount"),
    Case("amount sNaN", "deals", _both("sNaN"), NOT_FINITE, "amount"),
    Case("amount 1e30", "deals", _both("1e30"), "amount is 10^16 or more", "amount"),
    Case("amount abc", "deals", _both("abc"), NOT_FINITE, "amount"),
    Case("amount true", "deals", _both(True), NOT_FINITE, "amount"),
    Case("amount {}", "deals", _both({}), NOT_FINITE, "amount"),
    Case("closedate 10^20 ms", "deals", {"closedate": "99999999999999999999"}, "close_date is not a date"),
    Case("closedate 2026-13-45", "deals", {"closedate": "2026-13-45"}, "close_date is not a date", "close_date"),
    Case("closedate empty", "deals", {"closedate": ""}, None, undated=1),
    Case("createdate 9999-12-31", "deals", {"createdate": "9999-12-31T00:00:00Z"}, "outside the plausible dates", "created_at"),
    Case("closedate before createdate", "deals", _hs_close_before_created, None),  # counted; not in avg_days
    Case("owner unknown", "deals", {"hubspot_owner_id": "99999999"}, None),
    Case("hs_timestamp garbage", "calls", {"hs_timestamp": "yesterday-ish"}, "occurred_at is not a date-time", "occurred_at"),
    Case("hs_call_duration 10^15", "calls", {"hs_call_duration": str(10**15)}, "duration_seconds is over", "duration_seconds"),
    Case("hs_call_duration negative", "calls", {"hs_call_duration": "-5000"}, "duration_seconds is negative", "duration_seconds"),
    Case("hs_call_duration NaN", "calls", {"hs_call_duration": "NaN"}, "duration_seconds is not a finite number", "duration_seconds"),
    Case("hs_call_disposition 300 chars", "calls", {"hs_call_disposition": "x" * 300}, None),
    Case("hs_lastmodifieddate missing", "calls", {"hs_lastmodifieddate": None}, None),
    Case("hs_lastmodifieddate garbage", "deals", {"hs_lastmodifieddate": "soon"}, "modified_at is not a date-time", "modified_at"),
]  # fmt: skip


def _sf_close_before_created(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {"CreatedDate": datetime.combine(raw["CloseDate"] + timedelta(days=30), datetime.min.time(), UTC)}


SALESFORCE_CASES = [
    Case("Amount NaN", "deals", {"Amount": float("nan")}, "amount is not a finite number"),
    Case("Amount Infinity", "deals", {"Amount": float("inf")}, "amount is not a finite number"),
    Case("Amount -Infinity", "deals", {"Amount": float("-inf")}, "amount is not a finite number"),
    Case("Amount 1e30", "deals", {"Amount": 1e30}, "amount is too large"),
    Case("CreatedDate 9999-12-31", "deals", {"CreatedDate": datetime(9999, 12, 31, tzinfo=UTC)}, "outside the plausible dates", "created_at"),
    Case("CloseDate before CreatedDate", "deals", _sf_close_before_created, None),  # counted; not in avg_days
    Case("OwnerId unknown", "deals", {"OwnerId": "005000000000999AAA"}, None),
    Case("Amount 1e20", "deals", {"Amount": 1e20}, "amount is 10^16 or more", "amount"),
    Case("CloseDate 1900-01-01", "deals", {"CloseDate": date(1900, 1, 1)}, "outside the plausible dates", "close_date"),
    Case("CallDisposition 121 chars", "calls", {"CallDisposition": "d" * 121}, None),
    Case("CallDisposition 300 chars", "calls", {"CallDisposition": "é" * 300}, None),
    Case("CallDurationInSeconds negative", "calls", {"CallDurationInSeconds": -30}, "duration_seconds is negative", "duration_seconds"),
    Case("CallDurationInSeconds 10^15", "calls", {"CallDurationInSeconds": 10**15}, "duration_seconds is over", "duration_seconds"),
    Case("CreatedDate 1970 on a call", "calls", {"CreatedDate": datetime(1970, 1, 1, tzinfo=UTC)}, "outside the plausible dates", "occurred_at"),
]  # fmt: skip


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def hs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubSpotSandbox]:
    with started_hubspot(tmp_path_factory.mktemp("hub")) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def sf(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SalesforceSandbox]:
    with started_salesforce(tmp_path_factory.mktemp("sf")) as sandbox:
        yield sandbox


@pytest.fixture(scope="module", params=BACKENDS)
def migrated_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return migrate(f"sqlite:///{tmp_path_factory.mktemp('store') / 'okrsync.db'}", postgresql=False)
    return migrate(request.getfixturevalue("pg_database"), postgresql=True)


@pytest.fixture
def empty_store(migrated_store: str) -> str:
    return emptied(migrated_store)


# ---------------------------------------------------------------- the records to spoil


def hubspot_target(hs: HubSpotSandbox, stream: str) -> str:
    """A record that counts: a won deal of the year in the sales pipeline with an active owner
    and an amount, or a call of the year with a duration and an active owner."""
    active = {o["id"] for o in hs.portal.owners if not o["archived"]}
    year = str(expected.this_year())
    if stream == "deals":
        return next(
            d.id
            for d in hs.records("deals")
            if d.properties.get("pipeline") == "default"
            and d.properties.get("hs_is_closed_won") == "true"
            and str(d.properties.get("closedate", "")).startswith(year)
            and d.properties.get("amount_in_home_currency")
            and d.properties.get("hubspot_owner_id") in active
        )
    return next(
        c.id
        for c in hs.records("calls")
        if str(c.properties.get("hs_timestamp", "")).startswith(year)
        and c.properties.get("hs_call_duration")
        and c.properties.get("hubspot_owner_id") in active
    )


def salesforce_target(sf: SalesforceSandbox, stream: str) -> str:
    year = expected.this_year()
    partner = {r["Id"] for r in sf.org.records("RecordType") if r["DeveloperName"] == "Partner"}
    if stream == "deals":
        return next(
            o["Id"]
            for o in sf.org.records("Opportunity")
            if o["IsWon"]
            and o["RecordTypeId"] not in partner
            and o["CloseDate"].year == year
            and o["Amount"]
            and o["CurrencyIsoCode"] == "USD"
        )
    return next(
        t["Id"]
        for t in sf.org.records("Task")
        if t["TaskSubtype"] == "Call" and t["CreatedDate"].year == year and t["CallDurationInSeconds"]
    )


# ---------------------------------------------------------------- what the store holds


def quarantined(settings: Settings) -> list[quarantine.Quarantined]:
    store = open_store(settings.store)
    try:
        with store.sessions() as session:
            return quarantine.top(session, limit=100)
    finally:
        store.close()


def stored_live(settings: Settings, stream: str, record_id: str) -> bool:
    store = open_store(settings.store)
    table = STREAM_TABLES[stream].__table__  # type: ignore[index]
    try:
        with store.sessions() as session:
            deleted = session.execute(select(table.c.deleted).where(table.c.id == record_id)).scalar()
    finally:
        store.close()
    return deleted is False


def undated_deals(settings: Settings) -> int:
    """Records the revenue key result skipped for want of a close date, as `status` reports it."""
    store = open_store(settings.store)
    try:
        with store.sessions() as session:
            found = {(u.objective, u.key_result): u for u in count_undated(session, settings)}
    finally:
        store.close()
    revenue = found[("hub", "revenue")]
    assert revenue.field == "close_date"
    assert found[("hub", "won")].records == revenue.records
    return revenue.records


def assert_outcome(settings: Settings, case: Case, record_id: str) -> None:
    rows = [q for q in quarantined(settings) if q.record_id == record_id[:254]]
    if case.reason is None:
        assert rows == [], rows
        assert stored_live(settings, case.stream, record_id)
        return
    [row] = rows
    assert case.reason in row.reason, row.reason
    assert (row.source, row.stream) == (next(iter(settings.sources)), case.stream)
    if case.field is not None:
        assert row.field == case.field
    assert row.value is None or len(row.value) <= 200
    assert not stored_live(settings, case.stream, record_id)


# ---------------------------------------------------------------- the tests


@pytest.mark.parametrize("case", HUBSPOT_CASES, ids=lambda c: c.name)
def test_a_bad_hubspot_record_is_quarantined_and_counts_nowhere(
    hs: HubSpotSandbox, tmp_path: Path, empty_store: str, case: Case
) -> None:
    record_id = hubspot_target(hs, case.stream)
    settings = hub_settings(hs, tmp_path, empty_store)
    with spoiled_hubspot(hs, case.stream, record_id, case.spoil(hs.get(case.stream, record_id).properties)):
        report = cycle(settings)

        assert report.exit_code == EXIT_OK, report.errors
        assert_outcome(settings, case, record_id)
        skip = frozenset({record_id} if case.reason else set())
        assert expected.hubspot_written(hs) == expected.as_written(expected.hubspot_values(hs, skip=skip))
        assert undated_deals(settings) == case.undated


@pytest.mark.parametrize("case", SALESFORCE_CASES, ids=lambda c: c.name)
def test_a_bad_salesforce_record_is_quarantined_and_counts_nowhere(
    sf: SalesforceSandbox, tmp_path: Path, empty_store: str, case: Case
) -> None:
    record_id = salesforce_target(sf, case.stream)
    settings = sf_settings(sf, tmp_path, empty_store)
    raw = sf.org.lookup(record_id)
    assert raw is not None
    with spoiled_salesforce(sf, record_id, case.spoil(raw)):
        report = cycle(settings)

        assert report.exit_code == EXIT_OK, report.errors
        assert_outcome(settings, case, record_id)
        skip = frozenset({record_id} if case.reason else set())
        assert expected.salesforce_written(sf) == expected.as_written(
            expected.salesforce_values(sf, skip=skip)
        )


def test_an_id_of_300_characters_is_quarantined_not_stored(
    hs: HubSpotSandbox, tmp_path: Path, empty_store: str
) -> None:
    long_id = "9" * 300
    settings = hub_settings(hs, tmp_path, empty_store)
    with added_hubspot(hs, "calls", long_id, template_id=hubspot_target(hs, "calls")):
        report = cycle(settings)

        assert report.exit_code == EXIT_OK, report.errors
        [row] = [q for q in quarantined(settings) if q.record_id == long_id[:254]]
        assert row.reason == "id is longer than 64 characters (300)"
        assert expected.hubspot_written(hs) == expected.as_written(
            expected.hubspot_values(hs, skip=frozenset({long_id}))
        )


def test_a_poisoned_record_stops_counting_and_counts_again_once_fixed(
    hs: HubSpotSandbox, tmp_path: Path, empty_store: str
) -> None:
    """Found 1 and 3 of issue 15: amount NaN arrives by an incremental pull over a good copy."""
    record_id = hubspot_target(hs, "deals")
    settings = hub_settings(hs, tmp_path, empty_store)
    original = dict(hs.get("deals", record_id).properties)
    assert cycle(settings).exit_code == EXIT_OK
    try:
        hs.update("deals", record_id, {"amount": "NaN"})  # the sandbox derives the home amount: NaN
        next_second()
        poisoned = cycle(settings)
        again = cycle(settings)  # the next cycle is not stalled either

        assert (poisoned.exit_code, again.exit_code) == (EXIT_OK, EXIT_OK), poisoned.errors + again.errors
        [row] = [q for q in quarantined(settings) if q.record_id == record_id]
        assert (row.field, row.value, row.reason) == ("amount", "NaN", NOT_FINITE)
        assert not stored_live(settings, "deals", record_id)  # the old good copy counts no more
        written = expected.hubspot_written(hs)
        assert written == expected.as_written(expected.hubspot_values(hs, skip=frozenset({record_id})))
        assert all(value is None or value.is_finite() for value in written.values())

        hs.update("deals", record_id, {"amount": original["amount"]})  # fixed in the CRM
        next_second()
        fixed = cycle(settings)

        assert fixed.exit_code == EXIT_OK, fixed.errors
        assert [q for q in quarantined(settings) if q.record_id == record_id] == []
        assert stored_live(settings, "deals", record_id)
        assert expected.hubspot_written(hs) == expected.as_written(expected.hubspot_values(hs))
    finally:
        with hs.portal.lock:
            hs.get("deals", record_id).properties.update(original)


def test_status_and_check_show_the_quarantined_records(
    hs: HubSpotSandbox, tmp_path: Path, empty_store: str
) -> None:
    record_id = hubspot_target(hs, "calls")
    settings = hub_settings(hs, tmp_path, empty_store)
    with spoiled_hubspot(
        hs, "calls", record_id, {"hs_call_duration": "-5000", "hs_call_title": "[/]\x1b[2J"}
    ):
        assert cycle(settings).exit_code == EXIT_OK
    store = open_store(settings.store)
    try:
        with store.sessions() as session:
            status = collect_status(session, settings, now=datetime.now(UTC))
    finally:
        store.close()
    out = Console(record=True, width=200, color_system=None)

    print_status(out, status)

    shown = out.export_text()
    assert "Quarantined records (1 of 1, newest first)" in shown
    line = next(line for line in shown.splitlines() if record_id in line)
    assert "duration_seconds is negative" in line
    page = render_document(status, title="status")
    assert 'id="quarantine"' in page
    assert record_id in page
    assert check_lines(settings.store) == ["hub: QUARANTINE calls: 1 × duration_seconds is negative"]
