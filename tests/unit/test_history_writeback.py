"""History as CRM records: the week a record belongs to, its key and fields, the names each CRM
gets by default, and the ledger's rule that only the current week's changed record is sent."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from syncer.config.history import as_keyed
from syncer.config.models import HistoryTarget, Settings
from syncer.contract import WriteItem, WriteResult
from syncer.fields import required_fields
from syncer.history import iso_week, week_start
from syncer.store import ledger
from syncer.store.database import Store
from syncer.values import KeyResultValue, Period
from syncer.writeback import plan_writes

SOURCES: dict[str, Any] = {
    "sfdc": {
        "kind": "salesforce",
        "instance_url": "https://acme.my.salesforce.com",
        "auth": {"method": "access_token", "access_token": "t0ken-value"},
        "streams": {"deals": {"object": "Opportunity"}},
    },
    "hub": {
        "kind": "hubspot",
        "auth": {"method": "private_app", "access_token": "pat-na1-0123"},
        "streams": {"deals": {"pipelines": ["default"]}},
    },
}
OBJECTIVES: list[dict[str, Any]] = [
    {
        "key": "q",
        "key_results": [
            {"key": "revenue", "metric": {"kind": "sum", "stream": "deals", "field": "amount"}, "target": 1000,
             "group_by": "owner"},
            {"key": "deals", "metric": {"kind": "count", "stream": "deals"}, "target": 10},
        ],
    }
]  # fmt: skip


def settings(*history: dict[str, Any], zone: str = "America/New_York") -> Settings:
    return Settings.model_validate(
        {
            "version": 1,
            "timezone": zone,
            "sources": SOURCES,
            "objectives": OBJECTIVES,
            "writeback": list(history),
        }
    )


def value(
    at: datetime, amount: str = "250", group: str = "ana@example.com", kr: str = "revenue"
) -> KeyResultValue:
    return KeyResultValue(
        objective="q", key_result=kr, group_kind="owner" if group else "total", group_key=group,
        period=Period(date(2026, 10, 1), date(2026, 12, 31)), value=Decimal(amount), baseline=None,
        target=Decimal(500), direction="increase", progress=float(Decimal(amount) / 500), score=0.5,
        expected=0.4, status="on_track", projected=None, updated_at=at,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("day", "week", "monday"),
    [
        (date(2026, 12, 2), "2026-W49", date(2026, 11, 30)),
        (date(2026, 12, 31), "2026-W53", date(2026, 12, 28)),  # 2026 has 53 ISO weeks
        (date(2027, 1, 3), "2026-W53", date(2026, 12, 28)),  # a Sunday in January, still 2026's week
        (date(2024, 12, 30), "2025-W01", date(2024, 12, 30)),  # a Monday in December, already 2025's
    ],
)
def test_iso_weeks_cross_the_year_as_iso_8601_says(day: date, week: str, monday: date) -> None:
    assert (iso_week(day), week_start(day)) == (week, monday)


@pytest.mark.store
def test_a_record_per_value_keyed_by_key_result_group_and_week_with_every_field(session: Session) -> None:
    config = settings({"source": "sfdc", "history": {}})
    at = datetime(2026, 12, 2, 15, tzinfo=UTC)
    items = plan_writes(session, config, "sfdc", [value(at), value(at, "7", group="", kr="deals")])
    assert [(i.object, i.upsert_key, i.upsert_value) for i in items] == [
        ("OKR_Snapshot__c", "OKR_Snapshot_Key__c", "q.revenue|ana@example.com|2026-W49"),
        ("OKR_Snapshot__c", "OKR_Snapshot_Key__c", "q.deals|total|2026-W49"),
    ]
    assert items[0].fields == {
        "Name": "q.revenue|ana@example.com|2026-W49", "Key_Result__c": "q.revenue", "Group__c": "ana@example.com",
        "Week__c": "2026-W49", "Week_Start__c": "2026-11-30", "Value__c": 250.0, "Target__c": 500.0,
        "Progress__c": 50.0, "Score__c": 0.5, "Status__c": "on_track",
    }  # fmt: skip


@pytest.mark.store
def test_the_week_is_the_one_in_the_yaml_zone(session: Session) -> None:
    """Sunday 23:30 in New York is Monday in UTC: the record is still the Sunday's week's."""
    sunday_night = datetime(2026, 12, 7, 4, 30, tzinfo=UTC)  # 2026-12-06 23:30 EST
    history = {"source": "sfdc", "history": {}}
    (ny,) = plan_writes(session, settings(history), "sfdc", [value(sunday_night)])
    (utc,) = plan_writes(session, settings(history, zone="UTC"), "sfdc", [value(sunday_night)])
    assert (ny.fields["Week__c"], utc.fields["Week__c"]) == ("2026-W49", "2026-W50")


@pytest.mark.store
def test_hubspot_gets_lower_case_names_and_the_yaml_may_rename_and_choose(session: Session) -> None:
    config = settings(
        {"source": "hub", "history": {"object": "p_okr_weeks", "key_results": ["q.deals"],
                                      "fields": {"value": "weekly_value"}}},
    )  # fmt: skip
    at = datetime(2026, 12, 2, 15, tzinfo=UTC)
    items = plan_writes(session, config, "hub", [value(at), value(at, "7", group="", kr="deals")])
    assert [(i.object, i.upsert_key, i.upsert_value) for i in items] == [
        ("p_okr_weeks", "okr_snapshot_key", "q.deals|total|2026-W49")
    ]
    assert "weekly_value" in items[0].fields
    assert "okr_value" not in items[0].fields
    assert "Name" not in items[0].fields  # HubSpot shows the key: no name to write
    assert items[0].fields["okr_week"] == "2026-W49"


def test_fields_ensure_asks_for_every_attribute_with_the_key_as_an_external_id() -> None:
    config = settings({"source": "sfdc", "history": {}}, {"source": "hub", "history": {}})
    kinds = {(s.object, s.field): s.kind for s in required_fields(config, "sfdc")}
    assert kinds[("OKR_Snapshot__c", "OKR_Snapshot_Key__c")] == "key"
    assert kinds[("OKR_Snapshot__c", "Week_Start__c")] == "date"
    assert kinds[("OKR_Snapshot__c", "Status__c")] == "status"
    assert len(kinds) == 11
    hub = {(s.object, s.field): s.kind for s in required_fields(config, "hub")}
    assert hub[("p_okr_snapshots", "okr_snapshot_key")] == "key"
    assert len(hub) == 10
    target = config.writeback[0]
    assert isinstance(target, HistoryTarget)
    keyed = as_keyed(target, config.sources["sfdc"])  # what the connector checks, as any keyed target
    assert (keyed.object, keyed.upsert_on) == ("OKR_Snapshot__c", "OKR_Snapshot_Key__c")


@pytest.mark.store
def test_only_the_current_weeks_changed_record_is_sent(store: Store) -> None:
    config = settings({"source": "sfdc", "history": {"key_results": ["q.revenue"]}})
    monday, tuesday = datetime(2026, 11, 30, 15, tzinfo=UTC), datetime(2026, 12, 1, 15, tzinfo=UTC)
    next_monday = datetime(2026, 12, 7, 15, tzinfo=UTC)

    def plan(*values: KeyResultValue) -> list[WriteItem]:
        with store.sessions() as session:
            items = plan_writes(session, config, "sfdc", list(values))
        with store.sessions.begin() as session:  # the CRM accepts every write
            ledger.record_results(session, "sfdc", [(i, WriteResult(ok=True)) for i in items], now=monday)
        return items

    assert len(plan(value(monday))) == 1  # the week's record is created
    assert plan(value(tuesday)) == []  # same values, same week: nothing
    (changed,) = plan(value(tuesday, "300"))
    assert changed.upsert_value == "q.revenue|ana@example.com|2026-W49"
    assert set(changed.fields) == {"Value__c", "Progress__c"}  # only what changed
    (new_week,) = plan(value(next_monday, "300"))  # a new week: a new record, all its fields
    assert new_week.upsert_value == "q.revenue|ana@example.com|2026-W50"
    assert len(new_week.fields) == 10
    assert plan(value(next_monday, "300")) == []
    assert plan(value(tuesday, "300")) == []  # last week's record, wanted by no cycle of this week
