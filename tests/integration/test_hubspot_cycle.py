"""Full cycles of a HubSpot-only YAML against the HubSpot sandbox, checked against its raw records.

The expected numbers are computed here, in plain Python over the sandbox's own objects (home-currency
amounts, periods in the YAML's zone), without okrsync's mapping, SQL or scoring.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from connectors import open_connector
from sandbox.hubspot import HsRecord, HubSpotSandbox
from syncer.config import load_settings
from syncer.config.models import Settings
from syncer.contract import Connector
from syncer.cycle import CycleResult, run_cycle
from syncer.fields import required_fields
from syncer.store.database import open_store

pytestmark = pytest.mark.integration
ZONE = ZoneInfo("America/New_York")
KEY_RESULTS = "p_key_results"
WRITEBACK = """
writeback:
  - source: hub
    object: p_key_results          # one record per key result and rep (an Enterprise custom object)
    upsert_on: okr_key
    fields:
      okr_value: "*.value"
      okr_target: "*.target"
      okr_progress: "*.progress_pct"
      okr_status: "*.status"
      okr_name: "*.key"
"""
CONFIG = """
version: 1
store: sqlite:///unused.db
timezone: America/New_York
fiscal_year_start_month: 1
sources:
  hub:
    kind: hubspot
    base_url: ${HS_URL}
    auth: {AUTH}
    streams:
      deals: {pipelines: [default]}
      calls: {}
      renewals: {pipelines: [renewals]}
objectives:
  - key: q-revenue
    period: current_quarter
    key_results:
      - key: revenue
        metric: {kind: sum, stream: deals, field: amount, where: {is_won: true}, date: close_date}
        baseline: previous_period
        target: "+15%"
        group_by: owner
      - key: new-deals
        metric: {kind: count, stream: deals, where: {is_won: true, type: new}, date: close_date}
        target: 40
        group_by: owner
        owner_targets: even
  - key: activity
    period: current_quarter
    key_results:
      - key: calls
        metric: {kind: count, stream: calls, date: occurred_at}
        baseline: previous_period
        target: "+20%"
        group_by: owner
  - key: retention
    period: current_quarter
    key_results:
      - key: renewal-rate
        metric: {kind: ratio, stream: renewals, numerator: {status: renewed}, denominator: {status: [renewed, churned]}, date: due_date}
        target: 0.85
"""
PRIVATE_APP = "\n      method: private_app\n      access_token: ${HS_TOKEN}"
OAUTH = (
    "\n      method: oauth\n      client_id: ${HS_CLIENT_ID}\n      client_secret: ${HS_CLIENT_SECRET}"
    "\n      refresh_token: ${HS_REFRESH_TOKEN}"
)


def write_config(
    path: Path, *, oauth: bool = False, objectives: str = "", writeback: str = WRITEBACK
) -> Path:
    """The test YAML (private-app or OAuth auth); `objectives` replaces the default ones."""
    text = CONFIG.replace("{AUTH}", OAUTH if oauth else PRIVATE_APP)
    if objectives:
        text = text[: text.index("objectives:")] + objectives
    path.write_text(text + writeback)
    return path


def sandbox_env(hs: HubSpotSandbox) -> dict[str, str]:
    return {
        "HS_URL": hs.base_url,
        "HS_TOKEN": hs.access_token,
        "HS_CLIENT_ID": hs.client_id,
        "HS_CLIENT_SECRET": hs.client_secret,
        "HS_REFRESH_TOKEN": hs.refresh_token,
    }


def hub_settings(hs: HubSpotSandbox, config: Path, store_url: str) -> Settings:
    return load_settings(config, sandbox_env(hs)).model_copy(update={"store": store_url})


def open_hub(settings: Settings, sleep: Callable[[float], None] = time.sleep) -> Connector:
    return open_connector(
        "hub", settings.sources["hub"], writeback=settings.writeback, sleep=sleep, zone=settings.zone
    )


def ensure_fields(settings: Settings) -> None:
    """Create the write-back properties the sandbox's key-result object lacks."""
    connector = open_hub(settings)
    try:
        missing = connector.missing_fields(required_fields(settings, "hub"))
        assert all(f.level == "ok" for f in connector.create_fields(missing))
    finally:
        connector.close()


def next_second() -> None:
    """A cycle reads changes up to its start in whole seconds: start it after this second."""
    time.sleep(1.05 - datetime.now(UTC).microsecond / 1e6)


def cycle(settings: Settings, sleep: Callable[[float], None] = time.sleep) -> CycleResult:
    store = open_store(settings.store)
    try:
        return run_cycle(
            settings, store, lambda name: open_hub(settings, sleep), clock=lambda: datetime.now(UTC)
        )
    finally:
        store.close()


@pytest.fixture
def hs() -> Iterator[HubSpotSandbox]:
    with HubSpotSandbox(key_results_schema=True) as sandbox:
        yield sandbox


@pytest.fixture
def settings(hs: HubSpotSandbox, tmp_path: Path, store_url: str) -> Settings:
    configured = hub_settings(hs, write_config(tmp_path / "hub.yaml"), store_url)
    ensure_fields(configured)
    next_second()
    return configured


# ---------------------------------------------------------------- the independent computation


def current_quarter() -> tuple[date, date]:
    today = datetime.now(ZONE).date()
    first_month = 3 * ((today.month - 1) // 3) + 1
    start = date(today.year, first_month, 1)
    following = date(today.year + (first_month == 10), 1 if first_month == 10 else first_month + 3, 1)
    return start, following - timedelta(days=1)


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _in_quarter(day: date) -> bool:
    start, end = current_quarter()
    return start <= day <= end


def won_this_quarter(hs: HubSpotSandbox) -> list[HsRecord]:
    """Won deals of the sales pipeline closing this quarter (closedate is an instant: its local day counts)."""
    return [
        d
        for d in hs.records("deals")
        if d.properties.get("pipeline") == "default"
        and d.properties.get("hs_is_closed_won") == "true"
        and _in_quarter(_instant(d.properties["closedate"]).astimezone(ZONE).date())
    ]


def home_amount(deal: HsRecord) -> float:
    props = deal.properties
    return float(props.get("amount_in_home_currency") or props.get("amount") or 0)


def expected_values(hs: HubSpotSandbox) -> dict[str, float]:
    """okr_key → value: totals over every owner, and one per active owner (keyed by e-mail)."""
    emails = {o["id"]: o["email"] for o in hs.portal.owners if not o["archived"]}
    values: dict[str, float] = defaultdict(float)
    for key in ("q-revenue.revenue", "q-revenue.new-deals", "activity.calls"):
        values[key] = 0.0
        for email in emails.values():
            values[f"{key}.{email}"] = 0.0

    def add(key: str, owner: str | None, amount: float) -> None:
        values[key] += amount
        if owner in emails:
            values[f"{key}.{emails[owner]}"] += amount

    for deal in won_this_quarter(hs):
        owner = deal.properties.get("hubspot_owner_id")
        add("q-revenue.revenue", owner, home_amount(deal))
        add("q-revenue.new-deals", owner, deal.properties.get("dealtype") == "newbusiness")
    for call in hs.records("calls"):
        if _in_quarter(_instant(call.properties["hs_timestamp"]).astimezone(ZONE).date()):
            add("activity.calls", call.properties.get("hubspot_owner_id"), 1)
    closed = [
        d
        for d in hs.records("deals")
        if d.properties.get("pipeline") == "renewals"
        and d.properties.get("hs_is_closed") == "true"
        and _in_quarter(_instant(d.properties["closedate"]).astimezone(ZONE).date())
    ]
    renewed = sum(d.properties.get("hs_is_closed_won") == "true" for d in closed)
    values["retention.renewal-rate"] = renewed / len(closed)
    return {key: round(value, 4) for key, value in values.items()}


def written_values(hs: HubSpotSandbox) -> dict[str, float]:
    return {
        r.properties["okr_key"]: round(float(r.properties["okr_value"]), 4) for r in hs.records(KEY_RESULTS)
    }


def upserted_keys(hs: HubSpotSandbox) -> list[str]:
    return [
        str(item["id"])
        for request in hs.requests.filter(kind="batch_upsert", status=200)
        + hs.requests.filter(kind="batch_upsert", status=207)
        for item in request.body["inputs"]
    ]


# ---------------------------------------------------------------- tests


def test_cycle_writes_the_values_computed_from_the_portal(hs: HubSpotSandbox, settings: Settings) -> None:
    report = cycle(settings)

    assert report.exit_code == 0, report.errors
    expected = expected_values(hs)
    assert expected["q-revenue.revenue"] > 0
    assert expected["activity.calls"] > 0
    assert written_values(hs) == expected
    total = next(r for r in hs.records(KEY_RESULTS) if r.properties["okr_key"] == "q-revenue.revenue")
    assert total.properties["okr_name"] == "q-revenue.revenue"
    assert total.properties["okr_status"] in ("on_track", "at_risk", "off_track", "done")
    assert float(total.properties["okr_target"]) > 0
    assert hs.requests.count(kind="batch_upsert") == 1  # 40 records: one call (≤ 100 inputs, §3.3)


def test_second_cycle_without_change_sends_no_write(hs: HubSpotSandbox, settings: Settings) -> None:
    assert cycle(settings).exit_code == 0
    hs.requests.clear()
    next_second()

    second = cycle(settings)

    assert second.exit_code == 0, second.errors
    assert [(s.stream, s.changed) for s in second.pulls[0].streams] == [
        ("deals", 0),
        ("calls", 0),
        ("renewals", 0),
    ]
    assert second.pushes == []
    assert hs.requests.count(writes=True) == 0


def three_deals_of_two_reps(hs: HubSpotSandbox) -> list[HsRecord]:
    active = {o["id"] for o in hs.portal.owners if not o["archived"]}
    by_owner: dict[str, list[HsRecord]] = defaultdict(list)
    for deal in won_this_quarter(hs):
        if deal.properties.get("hubspot_owner_id") in active:
            by_owner[deal.properties["hubspot_owner_id"]].append(deal)
    twice = next(owner for owner, deals in by_owner.items() if len(deals) >= 2)
    other = next(deals[0] for owner, deals in by_owner.items() if owner != twice)
    return [*by_owner[twice][:2], other]


def test_three_changed_deals_rewrite_only_their_reps_and_the_total(
    hs: HubSpotSandbox, settings: Settings
) -> None:
    assert cycle(settings).exit_code == 0
    changed = three_deals_of_two_reps(hs)
    for deal in changed:
        hs.update("deals", deal.id, {"amount": str(float(deal.properties["amount"]) + 1000)})
    hs.requests.clear()
    next_second()

    report = cycle(settings)

    assert report.exit_code == 0, report.errors
    deals = next(s for s in report.pulls[0].streams if s.stream == "deals")
    assert deals.changed == 3
    emails = {o["id"]: o["email"] for o in hs.portal.owners}
    reps = {emails[d.properties["hubspot_owner_id"]] for d in changed}
    assert sorted(upserted_keys(hs)) == sorted(
        ["q-revenue.revenue", *(f"q-revenue.revenue.{email}" for email in reps)]
    )
    assert written_values(hs) == expected_values(hs)


def sweeping_every_cycle(settings: Settings) -> Settings:
    """The settings with the archived records listed every cycle (`deletes_every` is 1 h by default)."""
    source = settings.sources["hub"].model_copy(update={"deletes_every": "1s"})
    return settings.model_copy(update={"sources": {**settings.sources, "hub": source}})


def stream_counts(report: CycleResult, stream: str) -> tuple[int, int, int]:
    """(read, new or changed, deleted) of one stream, as `okrsync run` prints them."""
    [pulled] = [s for p in report.pulls for s in p.streams if s.stream == stream]
    return pulled.received, pulled.changed, pulled.deleted


def test_deleted_counts_only_records_the_store_held_not_the_objects_other_pipelines(
    hs: HubSpotSandbox, settings: Settings
) -> None:
    """The renewals stream reads every deal and drops those of other pipelines: on a first pull
    none of them was ever a renewal, so none is "deleted"; a renewal moved out or archived is."""
    deals = hs.records("deals")
    renewals = [d for d in deals if d.properties.get("pipeline") == "renewals"]
    others = [d for d in deals if d.properties.get("pipeline") != "renewals"]
    assert renewals, "the sample portal has renewals: the test is not vacuous"
    assert others, "and deals of other pipelines"

    read, changed, deleted = stream_counts(cycle(settings), "renewals")
    archived = hs.records("deals", archived=True)
    assert (read, changed, deleted) == (len(deals) + len(archived), len(renewals), 0)

    hs.update("deals", renewals[0].id, {"pipeline": "default"})  # moved out of the renewals pipeline
    hs.archive("deals", renewals[1].id)  # deleted in HubSpot
    hs.update("deals", others[0].id, {"amount": "1234"})  # another pipeline's deal changed
    time.sleep(1)  # a whole `deletes_every` (1s) after the first cycle's sweep: the sweep is due
    next_second()
    _, changed, deleted = stream_counts(cycle(sweeping_every_cycle(settings)), "renewals")
    assert (changed, deleted) == (2, 2)
