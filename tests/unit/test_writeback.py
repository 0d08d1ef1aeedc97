"""Write-back planning: only fields whose value differs from what the CRM confirmed are sent."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from syncer.config.models import Settings
from syncer.contract import WriteResult
from syncer.store import ledger, upserts
from syncer.store.database import Store, open_store
from syncer.values import KeyResultValue, Period
from syncer.writeback import plan_writes
from tests.fakes import T0, owner

pytestmark = pytest.mark.store

SETTINGS = Settings.model_validate(
    {
        "version": 1,
        "sources": {
            "crm": {
                "kind": "salesforce",
                "instance_url": "https://acme.my.salesforce.com",
                "auth": {"method": "access_token", "access_token": "t0ken-value"},
                "streams": {"deals": {"object": "Opportunity"}},
            }
        },
        "objectives": [
            {
                "key": "q",
                "key_results": [
                    {
                        "key": "revenue",
                        "metric": {"kind": "sum", "stream": "deals", "field": "amount"},
                        "target": 1000,
                        "group_by": "owner",
                        "owner_targets": "even",
                    }
                ],
            }
        ],
        "writeback": [
            {
                "source": "crm",
                "object": "User",
                "match": "owner",
                "fields": {
                    "Rev__c": "q.revenue.value",
                    "Status__c": "q.revenue.status",
                    "At__c": "q.revenue.updated_at",
                },
            }
        ],
    }
)


def value(group: str, amount: str, status: str = "on_track") -> KeyResultValue:
    return KeyResultValue(
        objective="q",
        key_result="revenue",
        group_kind="owner",
        group_key=group,
        period=Period(date(2026, 10, 1), date(2026, 12, 31)),
        value=Decimal(amount),
        baseline=None,
        target=Decimal(500),
        direction="increase",
        progress=0.5,
        score=0.5,
        expected=0.4,
        status=status,
        projected=None,
        updated_at=T0,  # type: ignore[arg-type]
    )


@pytest.fixture
def store(store_url: str) -> Store:
    store = open_store(store_url)
    with store.sessions.begin() as session:
        upserts.upsert_owners(session, [owner("u1", "Ana@Example.com"), owner("u2", "bo@example.com")])
    return store


def confirm(store: Store, items: list) -> None:
    with store.sessions.begin() as session:
        ledger.record_results(
            session, "crm", [(i, WriteResult(ok=True, record_id=i.record_id)) for i in items], now=T0
        )


def test_first_plan_writes_every_field_of_every_rep(store: Store) -> None:
    with store.sessions() as session:
        items = plan_writes(
            session, SETTINGS, "crm", [value("ana@example.com", "250"), value("bo@example.com", "10")]
        )
    assert {i.record_id: i.fields["Rev__c"] for i in items} == {"u1": 250.0, "u2": 10.0}
    assert all(set(i.fields) == {"Rev__c", "Status__c", "At__c"} for i in items)


def test_unchanged_values_plan_nothing_even_when_updated_at_moves(store: Store) -> None:
    values = [value("ana@example.com", "250"), value("bo@example.com", "10")]
    with store.sessions() as session:
        confirm(store, plan_writes(session, SETTINGS, "crm", values))
    later = [replace(v, updated_at=T0.replace(hour=18)) for v in values]
    with store.sessions() as session:
        assert plan_writes(session, SETTINGS, "crm", later) == []


def test_a_changed_value_sends_that_field_and_updated_at_only(store: Store) -> None:
    values = [value("ana@example.com", "250"), value("bo@example.com", "10")]
    with store.sessions() as session:
        confirm(store, plan_writes(session, SETTINGS, "crm", values))
    moved = [replace(values[0], value=Decimal("300"), updated_at=T0.replace(hour=18)), values[1]]
    with store.sessions() as session:
        [item] = plan_writes(session, SETTINGS, "crm", moved)
    assert item.record_id == "u1"
    assert item.fields == {"Rev__c": 300.0, "At__c": "2026-10-05T18:00:00+00:00"}
