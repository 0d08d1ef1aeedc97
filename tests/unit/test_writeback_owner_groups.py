"""`match: owner` plans each rep's own, team and company values onto their own record."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from syncer.config.models import Settings
from syncer.store import upserts
from syncer.store.database import open_store
from syncer.values import KeyResultValue, Period
from syncer.writeback import plan_writes
from tests.fakes import T0, owner

pytestmark = pytest.mark.store


def _kr(key: str, group_by: str | None) -> dict[str, object]:
    metric = {"kind": "count", "stream": "deals"}
    return {"key": key, "metric": metric, "target": 10, **({"group_by": group_by} if group_by else {})}


SETTINGS = Settings.model_validate(
    {
        "version": 1,
        "sources": {
            "crm": {
                "kind": "salesforce",
                "instance_url": "https://acme.my.salesforce.com",
                "auth": {"method": "access_token", "access_token": "t0ken-value"},
                "owners": {"team_field": "Department"},
                "streams": {"deals": {"object": "Opportunity"}},
            }
        },
        "teams": {"emea": ["ANA@example.com"]},  # wins over Ana's Department ("west")
        "objectives": [
            {"key": "q", "key_results": [_kr("me", "owner"), _kr("team", "team"), _kr("all", None)]}
        ],
        "writeback": [
            {
                "source": "crm",
                "object": "User",
                "match": "owner",
                "fields": {"Me__c": "q.me.value", "Team__c": "q.team.value", "All__c": "q.all.value"},
            }
        ],
    }
)


def value(key_result: str, kind: str, group: str, number: int) -> KeyResultValue:
    return KeyResultValue(
        objective="q",
        key_result=key_result,
        group_kind=kind,
        group_key=group,
        period=Period(date(2026, 10, 1), date(2026, 12, 31)),
        value=Decimal(number),
        baseline=None,
        target=Decimal(10),
        direction="increase",
        progress=None,
        score=None,
        expected=0.4,
        status=None,
        projected=None,
        updated_at=T0,  # type: ignore[arg-type]
    )


VALUES = [
    value("me", "owner", "ana@example.com", 3),
    value("me", "owner", "bo@example.com", 4),
    value("me", "owner", "cy@example.com", 1),
    value("team", "team", "emea", 5),  # Ana's 3 and a departed rep's 2
    value("team", "team", "west", 4),
    value("all", "total", "", 12),
]


def test_each_active_rep_gets_their_own_their_teams_and_the_total(store_url: str) -> None:
    store = open_store(store_url)
    try:
        with store.sessions.begin() as session:
            upserts.upsert_owners(
                session,
                [
                    replace(owner("u1", "ana@example.com"), team="west"),
                    replace(owner("u2", "bo@example.com"), team="west"),
                    owner("u3", "cy@example.com"),  # in no team
                    replace(owner("u4", "dee@example.com", active=False), team="emea"),  # left
                ],
            )
        with store.sessions() as session:
            items = plan_writes(session, SETTINGS, "crm", VALUES)
    finally:
        store.close()

    assert {item.record_id: item.fields for item in items} == {
        "u1": {"Me__c": 3.0, "Team__c": 5.0, "All__c": 12.0},
        "u2": {"Me__c": 4.0, "Team__c": 4.0, "All__c": 12.0},
        "u3": {"Me__c": 1.0, "All__c": 12.0},
    }
