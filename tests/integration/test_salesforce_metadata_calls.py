"""Salesforce metadata and Bulk calls across cycles (docs/crm-apis.md §1.12, §7.1).

- Each object is described once per run, however many streams and lookups use it.
- A later run with no object changed makes no full describe: one Describe Global answered 304.
- A field added in the org is seen by the next run: that object alone is described again.
- A Bulk job's status is polled 0.5 s, 1 s, 2 s, 4 s … after its create: ⌈log2 N⌉ + 2 polls for a
  job of N ≥ 1 seconds.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from connectors import open_connector
from sandbox.salesforce import SalesforceSandbox
from sandbox.sample_org import SampleScale
from syncer.commands.crm import connector_factory
from syncer.config import load_settings
from syncer.config.models import SalesforceSource, Settings
from syncer.contract import CachedMetadata
from syncer.cycle import CycleOptions, CycleResult, run_cycle
from syncer.pull import pull_window
from syncer.store.database import open_store
from syncer.store.tables import CallRow, CrmMetadataRow
from tests.benchmarks import salesforce_calls

pytestmark = pytest.mark.integration
DEMO = Path(__file__).resolve().parents[2] / "config" / "demo.yaml"
NOW = datetime(2026, 11, 15, 12, tzinfo=UTC)  # the sandbox clock, frozen; moved by the tests
BETWEEN_CYCLES = timedelta(minutes=15)
# deals and renewals share Opportunity; owners read User; the demo's `leads` stream reads Lead
OBJECTS = {"Lead", "Opportunity", "Task", "User"}


@pytest.fixture
def sb() -> Iterator[SalesforceSandbox]:
    with SalesforceSandbox(now=NOW, scale=SampleScale(deals=200, calls=300)) as sandbox:
        yield sandbox


def settings_for(sb: SalesforceSandbox, store_url: str, **call_attributes: str) -> Settings:
    env = {
        "OKRSYNC_SANDBOX_SF_URL": sb.instance_url,
        "OKRSYNC_SANDBOX_CA": sb.ca_bundle,
        "OKRSYNC_SANDBOX_SF_CLIENT_ID": sb.client_id,
        "OKRSYNC_SANDBOX_SF_CLIENT_SECRET": sb.client_secret,
        "OKRSYNC_SANDBOX_HS_URL": "http://127.0.0.1:9",  # never called: Salesforce only
        "OKRSYNC_SANDBOX_HS_TOKEN": "unused",
    }
    settings = load_settings(DEMO, env)
    source = settings.sources["sfdc"]
    assert isinstance(source, SalesforceSource)
    calls = source.streams["calls"].model_copy(update={"attributes": call_attributes})
    source = source.model_copy(update={"streams": {**source.streams, "calls": calls}})
    return settings.model_copy(update={"store": store_url, "sources": {"sfdc": source}})


def pull_cycle(sb: SalesforceSandbox, settings: Settings) -> CycleResult:
    """One pull-only cycle at the sandbox's time, with the store kept between cycles (as `run`)."""
    sb.clock.advance(BETWEEN_CYCLES)
    sb.requests.clear()
    store = open_store(settings.store)
    try:
        at = sb.clock.now()
        return run_cycle(
            settings,
            store,
            connector_factory(settings, store=store),
            clock=lambda: at,
            options=CycleOptions(phases=["pull"]),
        )
    finally:
        store.close()


def stream_error(report: CycleResult, stream: str) -> str | None:
    return next(s.error for pulled in report.pulls for s in pulled.streams if s.stream == stream)


def described(sb: SalesforceSandbox, *, status: int | None = None) -> list[str]:
    """The objects asked for with `GET sobjects/{object}/describe` (answered `status`), in order."""
    return [
        r.path.rstrip("/").split("/")[-2]
        for r in sb.requests
        if r.kind == "describe" and (status is None or r.status == status)
    ]


def test_each_object_is_described_once_per_run(sb: SalesforceSandbox, store_url: str) -> None:
    report = pull_cycle(sb, settings_for(sb, store_url))

    assert report.exit_code == 0, report.errors
    assert sorted(described(sb)) == sorted(OBJECTS)  # Opportunity once for deals and renewals
    assert sb.requests.count(kind="describe_global") == 0  # nothing kept yet: nothing to check


def test_a_run_with_nothing_changed_makes_no_full_describe(sb: SalesforceSandbox, store_url: str) -> None:
    settings = settings_for(sb, store_url)
    pull_cycle(sb, settings)

    report = pull_cycle(sb, settings)

    assert report.exit_code == 0, report.errors
    assert described(sb) == []
    checks = sb.requests.filter(kind="describe_global")
    assert [c.status for c in checks] == [304]  # one call vouches for every kept describe
    assert "If-Modified-Since" in checks[0].headers


def test_a_field_added_in_the_org_is_seen_by_the_next_run(sb: SalesforceSandbox, store_url: str) -> None:
    settings = settings_for(sb, store_url, call_queue="Call_Queue__c")
    first = pull_cycle(sb, settings)
    assert "Call_Queue__c" in (stream_error(first, "calls") or "")  # the stream cannot map it yet

    sb.schema.add_field("Task", "Call_Queue__c", "string", length=80)
    second = pull_cycle(sb, settings)

    assert second.exit_code == 0, second.errors
    assert stream_error(second, "calls") is None
    assert [c.status for c in sb.requests.filter(kind="describe_global")] == [200]
    assert described(sb, status=200) == ["Task"]  # the changed object alone, in full
    assert sorted(described(sb, status=304)) == ["Lead", "Opportunity", "User"]
    store = open_store(store_url)
    try:
        with store.sessions() as session:
            assert session.scalar(select(CallRow.id).limit(1)) is not None
            kept = session.scalars(select(CrmMetadataRow.key).where(CrmMetadataRow.source == "sfdc")).all()
    finally:
        store.close()
    assert sorted(kept) == sorted(f"describe/v59.0/{name.lower()}" for name in OBJECTS)

    third = pull_cycle(sb, settings)
    assert third.exit_code == 0, third.errors
    assert described(sb) == []  # every describe is current again
    assert [c.status for c in sb.requests.filter(kind="describe_global")] == [304]


class DictCache:
    """`MetadataCache` in memory: what the store gives, without one."""

    def __init__(self) -> None:
        self.entries: dict[str, CachedMetadata] = {}

    def get(self, key: str) -> CachedMetadata | None:
        return self.entries.get(key)

    def put(self, key: str, entry: CachedMetadata) -> None:
        self.entries[key] = entry

    def confirm(self, key: str, as_of: datetime) -> None:
        if key in self.entries and as_of > self.entries[key].as_of:
            self.entries[key] = CachedMetadata(self.entries[key].body, as_of)

    def forget(self, key: str) -> None:
        self.entries.pop(key, None)


def test_check_and_pull_share_one_describe_per_object(sb: SalesforceSandbox) -> None:
    settings = settings_for(sb, "sqlite://")
    source = settings.sources["sfdc"]
    cache = DictCache()
    connector = open_connector("sfdc", source, metadata=cache)
    try:
        connector.check()
        for stream in ("deals", "renewals", "calls", "leads"):  # leads: the demo's declared stream
            list(pull_window(connector, stream, since=None, until=sb.clock.now()))
        list(connector.pull_owners())
        connector.check()
    finally:
        connector.close()

    assert sorted(described(sb)) == sorted(OBJECTS)
    assert {entry.as_of for entry in cache.entries.values()} == {sb.clock.now()}  # the org's Date


@pytest.mark.parametrize("seconds", [1.5, 3.0])
def test_bulk_job_polls_grow_with_the_log_of_its_time(seconds: float) -> None:
    with SalesforceSandbox(now=NOW, scale=SampleScale(deals=10, calls=2_600)) as large:
        large.set_bulk_job_seconds(seconds)
        source = settings_for(large, "sqlite://").sources["sfdc"]
        assert isinstance(source, SalesforceSource)
        source = source.model_copy(update={"bulk_threshold": 2_000})  # the lowest allowed
        connector = open_connector("sfdc", source)  # real sleeps: the job takes real time
        try:
            pages = list(pull_window(connector, "calls", since=None, until=large.clock.now()))
            calls = connector.usage().calls
        finally:
            connector.close()
        polls = large.requests.count(kind="bulk_query_status")
        assert large.requests.count(kind="bulk_query_create") == 1

    rows = sum(len(page.records) for page in pages)
    assert rows > 2_000
    # Polls 0.5 s, 1 s, 2 s, 4 s … after the create: 3 and 4 here, where polling every 0.5 s, as
    # simple-salesforce does, takes 3 and 6.
    assert 2 <= polls <= math.ceil(math.log2(seconds)) + 2
    # token + describe Task + the sizing REST page + create + polls + one result set: two polls
    # more than ⌈log2 N⌉, the price of seeing a job of a second done as soon as the bare client
    # does, and never waiting longer than the job has run (bulk.py).
    minimum = salesforce_calls.minimum_calls(rows, bulk=True, job_seconds=seconds, describes=1, token=1)
    assert calls <= minimum + 2
