"""Drift repair: when the written fields are read back, what counts as drift, what is sent again."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from syncer.config import load_settings
from syncer.config.models import Settings
from syncer.contract import FieldValue
from syncer.drift import is_due, plan_source, push_source, same_value
from syncer.errors import ConfigError, RejectedRequestError
from syncer.store import upserts, verifications
from syncer.store.database import Store, open_store
from syncer.values import KeyResultValue, Period
from tests.fakes import T0, FakeConnector, owner

FIELDS = {"Rev__c": "q.revenue.value", "Status__c": "q.revenue.status", "At__c": "q.revenue.updated_at"}


def settings(verify: str = "daily") -> Settings:
    return Settings.model_validate(
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
                        }
                    ],
                }
            ],
            "writeback": [
                {"source": "crm", "object": "User", "match": "owner", "fields": FIELDS, "verify": verify}
            ],
        }
    )


def value(group: str, amount: str, *, at: datetime = T0) -> KeyResultValue:
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
        status="on_track",
        projected=None,
        updated_at=at,
    )


VALUES = [value("ana@example.com", "250.125"), value("bo@example.com", "10")]


@pytest.fixture
def store(store_url: str) -> Store:
    store = open_store(store_url)
    with store.sessions.begin() as session:
        upserts.upsert_owners(session, [owner("u1", "ana@example.com"), owner("u2", "bo@example.com")])
    return store


# ---------------------------------------------------------------- what counts as drift


@pytest.mark.parametrize(
    ("wanted", "stored", "decimals", "same"),
    [
        (250.125, 250.13, 2, True),  # the CRM rounded to its scale (half up)
        (250.125, 250.12, 2, True),  # … or half even
        (250.125, 250.14, 2, False),
        (250.125, "250.125", None, True),  # HubSpot: the string as sent
        (250.125, "250.1", None, False),
        (10, "10.0", None, True),
        (10.0, 10, 0, True),
        (None, "", None, True),  # HubSpot clears with ""
        (None, 0, None, False),
        (0.0, None, None, False),
        ("on_track", "off_track", None, False),
        ("on_track", "on_track", None, True),
        ("2026-10-05T12:00:00+00:00", "2026-10-05T12:00:00.000+0000", None, True),  # Salesforce
        ("2026-10-05T12:00:00+00:00", "2026-10-05T12:00:00.000Z", None, True),  # HubSpot
        ("2026-10-05T12:00:00+00:00", "2026-10-05T12:00:01.000Z", None, False),
        ("2026-10-01", "2026-10-01T00:00:00.000Z", None, True),  # a HubSpot date
        (True, "true", None, True),
        (True, False, None, False),
        (1.5, "not a number", None, False),
    ],
)
def test_a_value_matches_in_any_spelling_the_crm_keeps_it_in(
    wanted: FieldValue, stored: FieldValue, decimals: int | None, same: bool
) -> None:
    assert same_value(wanted, stored, decimals) is same


@pytest.mark.parametrize(
    ("verify", "ago", "due"),
    [
        ("every_cycle", timedelta(0), True),
        ("hourly", timedelta(minutes=59), False),
        ("hourly", timedelta(hours=1), True),
        ("daily", timedelta(hours=23, minutes=59), False),
        ("daily", timedelta(days=1), True),
        ("off", timedelta(days=3650), False),
    ],
)
def test_verification_is_due_once_its_interval_has_passed(verify: Any, ago: timedelta, due: bool) -> None:
    assert is_due(verify, T0 - ago, T0) is due
    assert is_due(verify, None, T0) is (verify != "off")  # never verified


# ---------------------------------------------------------------- the cycle's write-back


@pytest.mark.store
def test_drift_is_found_only_when_due_and_only_the_changed_fields_are_sent(store: Store) -> None:
    crm = FakeConnector()
    first = push_source(store.sessions, settings(), crm, VALUES, now=T0)
    assert first is not None
    assert first.written_records == 2
    assert crm.reads == []  # everything was being written: nothing to read back
    with store.sessions() as session:
        assert verifications.last_verified(session, "crm") == {"User": T0}

    crm.held["u1"]["Rev__c"] = 1.0  # edited by hand
    crm.held["u2"]["Status__c"] = None  # reset
    later = [replace(v, updated_at=T0 + timedelta(hours=2)) for v in VALUES]
    assert push_source(store.sessions, settings(), crm, later, now=T0 + timedelta(hours=2)) is None
    assert crm.reads == []  # daily: not due

    repaired = push_source(store.sessions, settings(), crm, later, now=T0 + timedelta(days=1))
    assert repaired is not None
    assert repaired.repaired_fields == 2
    assert crm.reads == [("User", ["u1", "u2"])]
    at = (T0 + timedelta(hours=2)).isoformat()
    assert {i.record_id: i.fields for i in crm.writes[-1]} == {
        "u1": {"Rev__c": 250.125, "At__c": at},
        "u2": {"Status__c": "on_track", "At__c": at},
    }
    with store.sessions() as session:
        assert verifications.last_verified(session, "crm") == {"User": T0 + timedelta(days=1)}


@pytest.mark.store
def test_a_ledger_change_and_a_drift_on_one_record_go_in_one_item(store: Store) -> None:
    crm = FakeConnector()
    push_source(store.sessions, settings("every_cycle"), crm, VALUES, now=T0)
    crm.held["u1"]["Status__c"] = "off_track"
    moved = [replace(VALUES[0], value=Decimal("300")), VALUES[1]]

    plan = plan_source(store.sessions, settings("every_cycle"), crm, moved, now=T0 + timedelta(minutes=5))

    assert plan.repaired == 1  # Rev__c is a change the ledger knows, not a repair
    [item] = plan.items
    assert item.fields == {"Rev__c": 300.0, "Status__c": "on_track", "At__c": T0.isoformat()}


@pytest.mark.store
def test_force_sends_every_field_of_every_record_and_reads_nothing(store: Store) -> None:
    crm = FakeConnector()
    push_source(store.sessions, settings("every_cycle"), crm, VALUES, now=T0)
    crm.reads.clear()

    forced = push_source(store.sessions, settings("every_cycle"), crm, VALUES, now=T0, force=True)

    assert forced is not None
    assert forced.written_fields == 6
    assert crm.reads == []
    assert {i.record_id: set(i.fields) for i in crm.writes[-1]} == {"u1": set(FIELDS), "u2": set(FIELDS)}


# ---------------------------------------------------------------- configuration


def test_verify_off_unquoted_is_off_and_a_bad_value_is_reported_at_its_line(tmp_path: Path) -> None:
    text = (Path(__file__).parents[2] / "config" / "demo.yaml").read_text()
    env = {
        "OKRSYNC_SANDBOX_SF_URL": "https://acme.my.salesforce.com",
        "OKRSYNC_SANDBOX_CA": "/dev/null",
        "OKRSYNC_SANDBOX_SF_CLIENT_ID": "id",
        "OKRSYNC_SANDBOX_SF_CLIENT_SECRET": "secret",
        "OKRSYNC_SANDBOX_HS_URL": "http://127.0.0.1:1",
        "OKRSYNC_SANDBOX_HS_TOKEN": "token",
    }
    first = text.index("\n  - source: ") + 1
    line = text[:first].count("\n") + 1
    config = tmp_path / "okr.yaml"

    config.write_text(text[:first] + "  - verify: off\n    source: " + text[first + len("  - source: ") :])
    loaded = load_settings(config, env)
    assert [t.verify for t in loaded.writeback] == ["off"] + ["daily"] * (len(loaded.writeback) - 1)

    config.write_text(text[:first] + "  - verify: weekly\n    source: " + text[first + len("  - source: ") :])
    with pytest.raises(ConfigError) as error:
        load_settings(config, env)
    assert [str(problem) for problem in error.value.problems] == [
        f"{config}:{line}: `verify` must be `every_cycle`, `hourly`, `daily` or `off`, got 'weekly'"
    ]


@pytest.mark.store
def test_a_refused_read_back_keeps_the_ledgers_writes_and_is_reported_and_retried(store: Store) -> None:
    crm = FakeConnector()
    push_source(store.sessions, settings("every_cycle"), crm, VALUES, now=T0)

    def refuse(*args: object) -> object:
        raise RejectedRequestError("query refused: No such column 'Rev__c'", source="crm", status=400)

    crm.read_fields = refuse  # type: ignore[method-assign]
    moved = [replace(VALUES[0], value=Decimal("300")), VALUES[1]]
    result = push_source(store.sessions, settings("every_cycle"), crm, moved, now=T0 + timedelta(hours=1))

    assert result is not None
    assert result.written_records == 1  # the ledger's change still goes out
    assert result.errors == [
        "User: the written fields could not be read back to repair drift: "
        "crm: query refused: No such column 'Rev__c' (HTTP 400)"
    ]
    with store.sessions() as session:
        assert verifications.last_verified(session, "crm") == {"User": T0}  # read again next cycle


@pytest.mark.store
def test_two_targets_writing_one_record_have_their_drift_sent_in_one_item(store: Store) -> None:
    split = settings("every_cycle").model_dump(by_alias=True)
    split["writeback"] = [
        {
            "source": "crm",
            "object": "User",
            "match": "owner",
            "verify": "every_cycle",
            "fields": {"Rev__c": FIELDS["Rev__c"]},
        },
        {
            "source": "crm",
            "object": "User",
            "match": "owner",
            "verify": "hourly",
            "fields": {"Status__c": FIELDS["Status__c"]},
        },
    ]
    two = Settings.model_validate(split)
    crm = FakeConnector()
    push_source(store.sessions, two, crm, VALUES, now=T0)
    crm.held["u1"] |= {"Rev__c": 2.0, "Status__c": "done"}

    plan = plan_source(store.sessions, two, crm, VALUES, now=T0 + timedelta(minutes=1))  # every_cycle wins

    assert crm.reads[-1] == ("User", ["u1", "u2"])
    assert [(i.record_id, i.fields) for i in plan.items] == [
        ("u1", {"Rev__c": 250.125, "Status__c": "on_track"})
    ]
    assert plan.repaired == 2
