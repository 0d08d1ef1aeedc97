"""Local dates on both CRMs: every instant falls into a period by its day in the YAML's `timezone`.

Records sit at 00:30 and 23:30 local time on the first and last days of fiscal quarters and of a
fiscal year (fiscal years start in April: FY2020 runs 2019-04-01 to 2020-03-31), in Tokyo
(UTC+9), Auckland (UTC+12/+13) and Los Angeles (UTC−8/−7). A real cycle pulls and rolls them up;
the expected numbers are counted here from the sandboxes' raw records with zoneinfo alone.
The periods lie years before the sample org's history, so only these records are in them.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sandbox.hubspot import HubSpotSandbox
from sandbox.salesforce import SalesforceSandbox
from sandbox.sample_records import SampleScale
from syncer.commands.crm import connector_factory
from syncer.config import load_settings
from syncer.config.models import Settings
from syncer.cycle import CycleOptions, run_cycle
from syncer.store.database import open_store
from syncer.values import KeyResultValue

pytestmark = pytest.mark.integration
ZONES = ("Asia/Tokyo", "Pacific/Auckland", "America/Los_Angeles")
FISCAL_START = 4  # April
# First and last days of fiscal quarters and of the fiscal year FY2020 (2019-04-01..2020-03-31).
DAYS = (
    date(2019, 3, 31),
    date(2019, 4, 1),
    date(2019, 6, 30),
    date(2019, 7, 1),
    date(2020, 3, 31),
    date(2020, 4, 1),
)
TIMES = (time(0, 30), time(23, 30))
PERIODS = ("FY2019-Q4", "FY2020-Q1", "FY2020-Q2", "FY2020-Q4", "FY2021-Q1", "FY2020")
SMALL = SampleScale(reps=3, accounts=6, deals=20, renewals=6, calls=20, emails=0, quarters=2)
CYCLE_DAYS = 10  # each deal was created this many days (and 23 hours) before it closed

KEY_RESULTS = """
      - key: won
        metric: {kind: count, stream: deals, where: {is_won: true}, date: close_date}
        target: 1
      - key: calls
        metric: {kind: count, stream: calls, date: occurred_at}
        target: 1
      - key: closed
        metric: {kind: count, stream: renewals, where: {status: [renewed, churned]}, date: closed_at}
        target: 1
      - key: due
        metric: {kind: count, stream: renewals, date: due_date}
        target: 1
      - key: cycle
        metric: {kind: avg_days, stream: deals, from: created_at, to: close_date, where: {is_won: true}, date: close_date}
        target: 1
"""
HUBSPOT_SOURCE = """
  hub:
    kind: hubspot
    base_url: ${HS_URL}
    auth:
      method: private_app
      access_token: ${HS_TOKEN}
    streams:
      deals: {pipelines: [default]}
      calls: {}
      renewals: {pipelines: [renewals]}
"""
SALESFORCE_SOURCE = """
  sfdc:
    kind: salesforce
    instance_url: ${SF_URL}
    ca_bundle: ${SF_CA}
    auth:
      method: client_credentials
      client_id: ${SF_ID}
      client_secret: ${SF_SECRET}
    streams:
      deals: {object: Opportunity, where: "Type != 'Renewal'"}
      calls: {object: Task, where: "TaskSubtype = 'Call'"}
      renewals: {object: Opportunity, where: "Type = 'Renewal'"}
"""


def write_config(path: Path, zone: str, source: str) -> Path:
    objectives = "".join(
        f"  - key: {period.lower()}\n    period: {period}\n    key_results:{KEY_RESULTS}"
        for period in PERIODS
    )
    # The periods ended years ago, so a first cycle would freeze them (README "Closing a period")
    # and a later one, in another zone, would show those frozen values: `off` keeps them computed
    # from the store, which is what the zone-change tests check.
    path.write_text(
        f"version: 1\nstore: sqlite:///unused.db\ntimezone: {zone}\nfiscal_year_start_month: {FISCAL_START}\n"
        f"close_after: 'off'\nsources:{source}objectives:\n{objectives}"
    )
    return path


def cycle_values(settings: Settings, store_url: str) -> dict[str, float | None]:
    """A pull-and-roll-up cycle; "period.key_result" → total value."""
    store = open_store(store_url)
    try:
        report = run_cycle(
            settings,
            store,
            connector_factory(settings),
            clock=lambda: datetime.now(UTC),
            options=CycleOptions(phases=["pull", "rollup"]),
        )
    finally:
        store.close()
    assert report.exit_code == 0, report.errors
    return {
        _name(v): None if v.value is None else round(float(v.value), 4) for v in report.values if v.is_total
    }


def _name(value: KeyResultValue) -> str:
    return f"{value.objective}.{value.key_result}"


# ---------------------------------------------------------------- the independent computation


def fiscal_periods(day: date) -> tuple[str, str]:
    """The fiscal quarter and fiscal year a day is in (years named by their ending year)."""
    year = day.year + 1 if day.month >= FISCAL_START else day.year
    quarter = (day.month - FISCAL_START) % 12 // 3 + 1
    return f"fy{year}-q{quarter}", f"fy{year}"


def local_instants(zone: ZoneInfo) -> list[datetime]:
    return [datetime.combine(day, at, tzinfo=zone) for day in DAYS for at in TIMES]


class Expected:
    """Counts and day sums per period, then the values the key results should have."""

    def __init__(self) -> None:
        self.counts: dict[str, float] = defaultdict(float)
        self.days: dict[str, list[int]] = defaultdict(list)

    def count(self, key_result: str, day: date) -> None:
        for period in fiscal_periods(day):
            self.counts[f"{period}.{key_result}"] += 1

    def cycle(self, close: date, created: date) -> None:
        for period in fiscal_periods(close):
            self.days[period].append((close - created).days)

    def values(self) -> dict[str, float | None]:
        values: dict[str, float | None] = {}
        for period in (p.lower() for p in PERIODS):
            for key_result in ("won", "calls", "closed", "due"):
                values[f"{period}.{key_result}"] = self.counts.get(f"{period}.{key_result}", 0.0)
            days = self.days.get(period)
            values[f"{period}.cycle"] = round(sum(days) / len(days), 4) if days else None
        return values


# ---------------------------------------------------------------- HubSpot


def hs_time(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def parse_hs(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def seed_hubspot(hs: HubSpotSandbox, zone: ZoneInfo) -> None:
    owner = next(o["id"] for o in hs.portal.owners if not o["archived"])
    for n, closed in enumerate(local_instants(zone)):
        created = closed - timedelta(days=CYCLE_DAYS, hours=23)
        hs.create("deals", {
            "dealname": f"tz {n}", "amount": "100", "pipeline": "default", "dealstage": "closedwon",
            "dealtype": "newbusiness", "closedate": hs_time(closed), "createdate": hs_time(created),
            "hubspot_owner_id": owner,
        })  # fmt: skip
        stage = "31000005" if n % 2 == 0 else "31000006"  # renewals pipeline: won, lost
        hs.create("deals", {
            "dealname": f"tz renewal {n}", "amount": "50", "pipeline": "renewals", "dealstage": stage,
            "dealtype": "existingbusiness", "closedate": hs_time(closed), "hubspot_owner_id": owner,
        })  # fmt: skip
        hs.create(
            "calls", {"hs_timestamp": hs_time(closed), "hubspot_owner_id": owner, "hs_call_duration": "60000"}
        )


def expected_hubspot(hs: HubSpotSandbox, zone: ZoneInfo) -> dict[str, float | None]:
    expected = Expected()
    for deal in hs.records("deals"):
        props = deal.properties
        if not props.get("closedate"):
            continue
        close = parse_hs(props["closedate"]).astimezone(zone).date()
        if props.get("pipeline") == "default" and props.get("hs_is_closed_won") == "true":
            expected.count("won", close)
            if props.get("createdate"):
                expected.cycle(close, parse_hs(props["createdate"]).astimezone(zone).date())
        if props.get("pipeline") == "renewals":
            expected.count("due", close)
            if props.get("hs_is_closed") == "true":
                expected.count("closed", close)
    for call in hs.records("calls"):
        if call.properties.get("hs_timestamp"):
            expected.count("calls", parse_hs(call.properties["hs_timestamp"]).astimezone(zone).date())
    return expected.values()


@pytest.fixture
def hs() -> Iterator[HubSpotSandbox]:
    with HubSpotSandbox(scale=SMALL) as sandbox:
        yield sandbox


def hub_settings(hs: HubSpotSandbox, path: Path, zone: str, store_url: str) -> Settings:
    env = {"HS_URL": hs.base_url, "HS_TOKEN": hs.access_token}
    settings = load_settings(write_config(path, zone, HUBSPOT_SOURCE), env)
    return settings.model_copy(update={"store": store_url})


@pytest.mark.parametrize("zone", ZONES)
def test_hubspot_instants_fall_into_periods_by_their_local_day(
    hs: HubSpotSandbox, tmp_path: Path, store_url: str, zone: str
) -> None:
    seed_hubspot(hs, ZoneInfo(zone))

    got = cycle_values(hub_settings(hs, tmp_path / "hub.yaml", zone, store_url), store_url)

    expected = expected_hubspot(hs, ZoneInfo(zone))
    assert expected["fy2020-q1.won"] == 4  # 2019-04-01 and 2019-06-30, at 00:30 and 23:30 each
    assert got == expected


def test_hubspot_store_is_read_again_when_the_time_zone_changes(
    hs: HubSpotSandbox, tmp_path: Path, store_url: str
) -> None:
    seed_hubspot(hs, ZoneInfo("Asia/Tokyo"))
    tokyo = cycle_values(hub_settings(hs, tmp_path / "tokyo.yaml", "Asia/Tokyo", store_url), store_url)
    assert tokyo == expected_hubspot(hs, ZoneInfo("Asia/Tokyo"))

    # Ops move the YAML to Los Angeles; no record changed in the portal.
    got = cycle_values(hub_settings(hs, tmp_path / "la.yaml", "America/Los_Angeles", store_url), store_url)

    expected = expected_hubspot(hs, ZoneInfo("America/Los_Angeles"))
    assert expected != tokyo  # Tokyo's 00:30 is the previous day in Los Angeles
    assert got == expected


# ---------------------------------------------------------------- Salesforce


def _template(sb: SalesforceSandbox, object_name: str, match: dict[str, Any]) -> dict[str, Any]:
    return next(
        copy.deepcopy(r)
        for r in sb.org.records(object_name)
        if all(r.get(name) == value for name, value in match.items())
    )


def seed_salesforce(sb: SalesforceSandbox, zone: ZoneInfo) -> None:
    """Opportunities, renewals and calls at the boundary instants, with their audit stamps set
    (as a data import with "Set Audit Fields upon Record Creation" may)."""
    stamp = datetime.now(UTC) - timedelta(seconds=5)
    opp = _template(sb, "Opportunity", {"IsWon": True})
    task = _template(sb, "Task", {"TaskSubtype": "Call"})
    records: dict[str, list[dict[str, Any]]] = {"Opportunity": [], "Task": []}
    for n, moment in enumerate(local_instants(zone)):
        created = moment - timedelta(days=CYCLE_DAYS, hours=23)
        stamps = {"CreatedDate": created.astimezone(UTC), "SystemModstamp": stamp, "LastModifiedDate": stamp}
        deal = {**opp, **stamps, "Id": sb.org.new_id("Opportunity"), "Type": "New Business",
                "StageName": "Closed Won", "IsClosed": True, "IsWon": True, "CloseDate": moment.date(),
                "IsDeleted": False}  # fmt: skip
        won = n % 2 == 0
        renewal = {**deal, "Id": sb.org.new_id("Opportunity"), "Type": "Renewal", "IsWon": won,
                   "StageName": "Closed Won" if won else "Closed Lost"}  # fmt: skip
        call = {**task, "CreatedDate": moment.astimezone(UTC), "SystemModstamp": stamp, "LastModifiedDate": stamp,
                "Id": sb.org.new_id("Task"), "ActivityDate": moment.date(), "IsDeleted": False}  # fmt: skip
        records["Opportunity"] += [deal, renewal]
        records["Task"].append(call)
    for object_name, rows in records.items():
        sb.org.load(object_name, rows)


def expected_salesforce(sb: SalesforceSandbox, zone: ZoneInfo) -> dict[str, float | None]:
    """CloseDate is a calendar day as it is; CreatedDate is an instant, read in `zone`."""
    expected = Expected()
    for opp in sb.org.records("Opportunity"):
        close: date = opp["CloseDate"]
        if opp["Type"] == "Renewal":
            expected.count("due", close)
            if opp["IsClosed"]:
                expected.count("closed", close)  # a renewal closes on its CloseDate
        elif opp["IsWon"]:
            expected.count("won", close)
            expected.cycle(close, opp["CreatedDate"].astimezone(zone).date())
    for task in sb.org.records("Task"):
        if task["TaskSubtype"] == "Call":
            expected.count("calls", task["CreatedDate"].astimezone(zone).date())
    return expected.values()


@pytest.fixture
def sb() -> Iterator[SalesforceSandbox]:
    with SalesforceSandbox(scale=SMALL) as sandbox:
        yield sandbox


def sf_settings(sb: SalesforceSandbox, path: Path, zone: str, store_url: str) -> Settings:
    env = {
        "SF_URL": sb.instance_url,
        "SF_CA": sb.ca_bundle,
        "SF_ID": sb.client_id,
        "SF_SECRET": sb.client_secret,
    }
    settings = load_settings(write_config(path, zone, SALESFORCE_SOURCE), env)
    return settings.model_copy(update={"store": store_url})


@pytest.mark.parametrize("zone", ZONES)
def test_salesforce_instants_fall_into_periods_by_their_local_day(
    sb: SalesforceSandbox, tmp_path: Path, store_url: str, zone: str
) -> None:
    seed_salesforce(sb, ZoneInfo(zone))

    got = cycle_values(sf_settings(sb, tmp_path / "sf.yaml", zone, store_url), store_url)

    expected = expected_salesforce(sb, ZoneInfo(zone))
    assert expected["fy2020-q1.closed"] == 4
    assert got == expected
