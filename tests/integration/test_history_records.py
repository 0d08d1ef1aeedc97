"""History as CRM records (README): weekly snapshot records in both sandboxes, over real cycles on
a frozen clock that the test moves forward.

Every expectation is computed here from the sandboxes' raw records (deals, users, owners) and
the test's own schedule of changes, never from okrsync's rollup or write-back code.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sandbox.hubspot import HubSpotSandbox, HubSpotSettings
from sandbox.hubspot.pipelines import STAGE_IDS
from sandbox.salesforce import SalesforceSandbox
from sandbox.sample_records import SampleScale
from syncer.commands.crm import connector_factory, ensure_fields
from syncer.config import load_settings
from syncer.config.models import Settings
from syncer.contract import Connector, WriteItem, WriteResult
from syncer.cycle import run_cycle
from syncer.store.database import open_store

pytestmark = pytest.mark.integration
ZONE = ZoneInfo("America/New_York")
PERIOD = (date(2026, 1, 1), date(2026, 3, 31))
FIRST_MONDAY = date(2026, 1, 5)  # ISO 2026-W02
SMALL = SampleScale(reps=3, accounts=1, deals=0, renewals=0, calls=0, emails=0, quarters=2)
SEEDED_AMOUNT = 5000  # each rep's first deal: both key results are done from the first cycle on
KEY_RESULTS = ("won.deals", "won.amount")
SF_OBJECT, HS_OBJECT = "OKR_Snapshot__c", "p_okr_snapshots"

CONFIG = """
version: 1
store: {store}
timezone: America/New_York
sources:
{source}
objectives:
  - key: won
    period: {{start: 2026-01-01, end: 2026-03-31}}
    key_results:
      - key: deals
        metric: {{kind: count, stream: deals, where: {{is_won: true}}, date: close_date}}
        target: 1
        group_by: owner
      - key: amount
        metric: {{kind: sum, stream: deals, field: amount, where: {{is_won: true}}, date: close_date}}
        target: 1000
        group_by: owner
writeback:
  - source: crm
    history: {{}}          # every key result, default object and field names
    verify: "off"
"""
SALESFORCE = """  crm:
    kind: salesforce
    instance_url: ${SF_URL}
    ca_bundle: ${SF_CA}
    auth: {method: client_credentials, client_id: "${SF_ID}", client_secret: "${SF_SECRET}"}
    owners: {where: "Department != null"}
    streams:
      deals: {object: Opportunity}"""
HUBSPOT = """  crm:
    kind: hubspot
    base_url: ${HS_URL}
    auth: {method: private_app, access_token: "${HS_TOKEN}"}
    streams:
      deals: {pipelines: [default]}"""


# ---------------------------------------------------------------- one CRM, as the test sees it


@dataclass
class Crm:
    """A running sandbox, with the raw-record reads and writes the test needs."""

    kind: str
    sandbox: SalesforceSandbox | HubSpotSandbox
    settings: Settings
    deals_added: int = 0

    @property
    def object(self) -> str:
        return SF_OBJECT if self.kind == "salesforce" else HS_OBJECT

    def reps(self) -> list[tuple[str, str]]:
        """(owner id, lower-case e-mail) of each rep the sandbox holds."""
        if isinstance(self.sandbox, SalesforceSandbox):
            users = self.sandbox.org.records("User")
            return [
                (u["Id"], str(u["Email"]).lower()) for u in users if u.get("Department") and u["IsActive"]
            ]
        owners = self.sandbox.portal.owners
        return [(str(o["id"]), str(o["email"]).lower()) for o in owners if not o.get("archived")]

    def add_won_deal(self, owner_id: str, amount: int, close: date) -> None:
        self.deals_added += 1
        name = f"History deal {self.deals_added}"
        if isinstance(self.sandbox, SalesforceSandbox):
            self.sandbox.org.insert(
                "Opportunity",
                {"Name": name, "OwnerId": owner_id, "StageName": "Closed Won", "CloseDate": close,
                 "Amount": float(amount), "Type": "New Business"},
            )  # fmt: skip
        else:
            close_at = datetime.combine(close, time(12), tzinfo=ZONE).astimezone(UTC)
            self.sandbox.create(
                "deals",
                {"dealname": name, "hubspot_owner_id": owner_id, "pipeline": "default",
                 "dealstage": STAGE_IDS["sales"]["won"], "hs_is_closed_won": True, "hs_is_closed": True,
                 "amount": amount, "closedate": close_at, "dealtype": "newbusiness"},
            )  # fmt: skip

    def won_deals(self) -> list[tuple[str, Decimal, date]]:
        """(owner e-mail, amount, close date in the YAML's zone) of every won deal, from raw records."""
        emails = dict(self.reps())
        if isinstance(self.sandbox, SalesforceSandbox):
            rows = self.sandbox.org.records("Opportunity")
            return [
                (emails[r["OwnerId"]], Decimal(str(r["Amount"])), r["CloseDate"])
                for r in rows
                if r["IsWon"] and not r["IsDeleted"]
            ]
        won = STAGE_IDS["sales"]["won"]
        deals = []
        for record in self.sandbox.records("deals"):
            p = record.properties
            if p.get("dealstage") == won:
                close = _instant(p["closedate"]).astimezone(ZONE).date()
                deals.append((emails[str(p["hubspot_owner_id"])], Decimal(str(p["amount"])), close))
        return deals

    def snapshots(self) -> dict[str, dict[str, Any]]:
        """The history object's records, by snapshot key, with every field as the sandbox holds it."""
        if isinstance(self.sandbox, SalesforceSandbox):
            if self.sandbox.org.schema.object(SF_OBJECT) is None:
                return {}
            rows = self.sandbox.org.records(SF_OBJECT)
            return {
                str(r["OKR_Snapshot_Key__c"]): {
                    "key_result": r["Key_Result__c"], "group": r["Group__c"], "week": r["Week__c"],
                    "week_start": r["Week_Start__c"], "value": r["Value__c"], "target": r["Target__c"],
                    "status": r["Status__c"], "name": r["Name"], "modified": r["SystemModstamp"],
                }
                for r in rows
            }  # fmt: skip
        try:
            records = self.sandbox.records(HS_OBJECT)
        except KeyError:
            return {}
        return {
            str(r.properties["okr_snapshot_key"]): {
                "key_result": r.properties.get("okr_key_result"), "group": r.properties.get("okr_group"),
                "week": r.properties.get("okr_week"), "week_start": r.properties.get("okr_week_start"),
                "value": r.properties.get("okr_value"), "target": r.properties.get("okr_target"),
                "status": r.properties.get("okr_status"), "modified": r.properties.get("hs_lastmodifieddate"),
            }
            for r in records
        }  # fmt: skip


def _env(sandbox: SalesforceSandbox | HubSpotSandbox) -> dict[str, str]:
    if isinstance(sandbox, SalesforceSandbox):
        return {"SF_URL": sandbox.instance_url, "SF_CA": sandbox.ca_bundle, "SF_ID": sandbox.client_id,
                "SF_SECRET": sandbox.client_secret}  # fmt: skip
    return {"HS_URL": sandbox.base_url, "HS_TOKEN": sandbox.access_token}


@pytest.fixture(params=["salesforce", "hubspot"])
def crm(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Crm]:
    start = datetime.combine(FIRST_MONDAY, time(8), tzinfo=ZONE)
    sandbox: SalesforceSandbox | HubSpotSandbox
    if request.param == "salesforce":
        sandbox = SalesforceSandbox(now=start, scale=SMALL)
    else:
        # Cycles here follow each other at once, where `serve` leaves minutes between them: each
        # cycle's limiter starts afresh, so the sandbox's real-time search limit would answer 429
        # and the retry waits would make this test minutes long. Rate limits have their own tests.
        unthrottled = HubSpotSettings(search_per_second=None, ten_secondly_limit=None)
        sandbox = HubSpotSandbox(now=start, scale=SMALL, settings=unthrottled)
    with sandbox:
        source = SALESFORCE if request.param == "salesforce" else HUBSPOT
        config = tmp_path / "history.yaml"
        config.write_text(CONFIG.format(store=f"sqlite:///{tmp_path / 'okr.db'}", source=source))
        settings = load_settings(config, _env(sandbox))
        yield Crm(request.param, sandbox, settings)


# ---------------------------------------------------------------- cycles on a moved clock


@dataclass
class Writes:
    """Every history item the connector was handed, in order."""

    object: str
    items: list[WriteItem] = field(default_factory=list)


class CountingConnector:
    """The real connector, with each write of the history object counted on the way through."""

    def __init__(self, inner: Connector, writes: Writes) -> None:
        self._inner, self._writes = inner, writes

    def write(self, items: Sequence[WriteItem]) -> list[WriteResult]:
        self._writes.items += [item for item in items if item.object == self._writes.object]
        return self._inner.write(items)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def cycle_at(crm: Crm, at: datetime, writes: Writes) -> None:
    """One full cycle whose clock (and the sandbox's) reads `at`."""
    crm.sandbox.clock.advance(at - crm.sandbox.clock.now())
    opened = connector_factory(crm.settings)

    def open_counting(name: str) -> Connector:
        return CountingConnector(opened(name), writes)  # type: ignore[return-value]

    store = open_store(crm.settings.store)
    try:
        result = run_cycle(crm.settings, store, open_counting, clock=lambda: at)
    finally:
        store.close()
    assert result.exit_code == 0, (at, result.errors, [p.errors for p in result.pushes])


def provision(crm: Crm) -> None:
    """`okrsync fields ensure --apply`: the history object and its fields, created in the sandbox."""
    missing, findings = ensure_fields(crm.settings, "crm", apply=True)
    assert missing, "the sandbox starts without the history object"
    assert [f for f in findings if f.level == "error"] == []
    assert ensure_fields(crm.settings, "crm", apply=False)[0] == []  # nothing left to create


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def expected_values(crm: Crm) -> dict[tuple[str, str], Decimal]:
    """(key result, group) → value over the sandbox's raw won deals closed in the period."""
    values: dict[tuple[str, str], Decimal] = {}
    for email, amount, close in crm.won_deals():
        if not PERIOD[0] <= close <= PERIOD[1]:
            continue
        for group in (email, "total"):
            values[("won.deals", group)] = values.get(("won.deals", group), Decimal(0)) + 1
            values[("won.amount", group)] = values.get(("won.amount", group), Decimal(0)) + amount
    return values


def seed_reps(crm: Crm) -> list[tuple[str, str]]:
    """One won deal per rep, before the first cycle: every rep has a value from the start."""
    reps = crm.reps()
    assert len(reps) >= 2
    for owner_id, _email in reps:
        crm.add_won_deal(owner_id, SEEDED_AMOUNT, date(2026, 1, 2))
    return reps


# ---------------------------------------------------------------- the tests


def test_a_quarter_of_cycles_writes_one_create_per_week_and_one_update_per_change(crm: Crm) -> None:
    """13 weeks, three cycles a weekday and one a weekend day, a won deal on some days: the history object receives one create
    per (key result, group, week) and one update per cycle whose values changed within the week,
    and nothing else; a week's record is never written after the week ends."""
    reps = seed_reps(crm)
    provision(crm)
    writes = Writes(crm.object)
    groups = ["total", *(email for _id, email in reps)]
    expected_creates = expected_updates = 0
    previous: dict[tuple[str, str], Decimal] = {}
    closed_weeks: dict[str, dict[str, dict[str, Any]]] = {}
    for day_number in range(13 * 7):
        day = FIRST_MONDAY + timedelta(days=day_number)
        for hour in (9, 13, 17) if day.weekday() < 5 else (13,):  # `serve` runs on weekends too
            if hour == 13 and day_number % 4 == 1:  # a rep wins a deal on some days
                owner_id, _email = reps[(day_number // 4) % len(reps)]
                crm.add_won_deal(owner_id, 1000 + day_number, day)  # after March: outside the period
            before = len(writes.items)
            cycle_at(crm, datetime.combine(day, time(hour), tzinfo=ZONE), writes)
            now_values = expected_values(crm)
            first_of_week = day.weekday() == 0 and hour == 9
            if first_of_week:
                expected_creates += len(KEY_RESULTS) * len(groups)
            else:
                expected_updates += sum(1 for k, v in now_values.items() if previous.get(k) != v)
            sent = writes.items[before:]
            assert all(item.upsert_value and item.upsert_value.endswith(iso_week(day)) for item in sent)
            previous = now_values
        if day.weekday() == 6:  # Sunday night: the week is over
            closed_weeks[iso_week(day)] = {
                k: v for k, v in crm.snapshots().items() if v["week"] == iso_week(day)
            }
    keys = [item.upsert_value for item in writes.items]
    creates = len(set(keys))
    assert creates == expected_creates == 13 * len(KEY_RESULTS) * len(groups)
    assert len(keys) - creates == expected_updates
    assert expected_updates > 0
    final = crm.snapshots()
    assert len(final) == expected_creates
    for week, records in closed_weeks.items():  # untouched since the week ended
        assert {k: v for k, v in final.items() if v["week"] == week} == records, week


def test_two_weeks_of_cycles_leave_the_expected_records_and_the_past_week_unchanged(crm: Crm) -> None:
    """End to end: after cycles in two weeks, the sandbox holds exactly one record per key result,
    group and week, with the values of the sandbox's raw deals at each week's last cycle."""
    reps = seed_reps(crm)
    provision(crm)
    writes = Writes(crm.object)
    monday, thursday = FIRST_MONDAY, FIRST_MONDAY + timedelta(days=3)
    next_monday, next_wednesday = FIRST_MONDAY + timedelta(days=7), FIRST_MONDAY + timedelta(days=9)
    cycle_at(crm, datetime.combine(monday, time(9), tzinfo=ZONE), writes)
    crm.add_won_deal(reps[0][0], 2500, thursday)
    cycle_at(crm, datetime.combine(thursday, time(15), tzinfo=ZONE), writes)
    first_week = {iso_week(monday): expected_values(crm)}
    past = dict(crm.snapshots())
    crm.add_won_deal(reps[1][0], 700, next_monday)
    cycle_at(crm, datetime.combine(next_monday, time(9), tzinfo=ZONE), writes)
    crm.add_won_deal(reps[1][0], 300, next_wednesday)
    cycle_at(crm, datetime.combine(next_wednesday, time(16), tzinfo=ZONE), writes)
    weeks = {**first_week, iso_week(next_monday): expected_values(crm)}

    held = crm.snapshots()
    expected_keys = {f"{kr}|{group}|{week}" for week, values in weeks.items() for kr, group in values}
    assert set(held) == expected_keys
    for week, values in weeks.items():
        monday_of = _monday(week)
        for (kr, group), value in values.items():
            record = held[f"{kr}|{group}|{week}"]
            assert (record["key_result"], record["group"], record["week"]) == (kr, group, week)
            assert _date(record["week_start"]) == monday_of
            assert Decimal(str(record["value"])) == value, (kr, group, week)
            target = 1 if kr == "won.deals" else 1000
            if group == "total":
                assert Decimal(str(record["target"])) == target
                assert record["status"] == "done"
    for key, record in past.items():  # the first week's records, untouched by the second week
        assert held[key] == record
    if crm.kind == "salesforce":
        assert all(record["name"] == key[:80] for key, record in held.items())


def _monday(week: str) -> date:
    year, number = week.split("-W")
    return date.fromisocalendar(int(year), int(number), 1)


def _date(raw: Any) -> date:
    """A Salesforce date, or HubSpot's date property (midnight UTC, as text or epoch milliseconds)."""
    return raw if isinstance(raw, date) else _instant(raw).date()


def _instant(raw: Any) -> datetime:
    """A HubSpot datetime: epoch milliseconds or ISO 8601 text, as an aware UTC datetime."""
    text = str(raw)
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, UTC)
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
