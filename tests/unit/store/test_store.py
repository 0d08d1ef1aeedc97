"""The store: batched upserts that never go back in time, cursors that move with their rows."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from syncer.contract import Cursor, Page, WriteItem, WriteResult
from syncer.errors import StoreError
from syncer.pull import store_page
from syncer.store import cursors, ledger, upserts
from syncer.store.database import open_store
from syncer.store.tables import DealRow
from tests.fakes import T0, deal

pytestmark = pytest.mark.store


def test_new_store_is_created_at_the_current_schema(store_url: str) -> None:
    store = open_store(store_url)
    with store.sessions() as session:
        assert upserts.count_rows(session, "deals") == 0
    store.close()


def test_upsert_counts_only_new_or_newer_rows(store_url: str) -> None:
    store = open_store(store_url)
    with store.sessions.begin() as session:
        assert upserts.upsert_records(session, "deals", [deal("d1"), deal("d2")]) == 2
    with store.sessions.begin() as session:
        assert upserts.upsert_records(session, "deals", [deal("d1"), deal("d2")]) == 0
        newer = deal("d1", minutes=5, amount=Decimal("2500.50"))
        older = deal("d2", minutes=-5, amount=Decimal("1.00"))
        assert upserts.upsert_records(session, "deals", [newer, older]) == 1
    with store.sessions() as session:
        amounts = dict(session.execute(select(DealRow.id, DealRow.amount)).all())
        modified = session.scalar(select(DealRow.modified_at).where(DealRow.id == "d1"))
    assert amounts == {"d1": Decimal("2500.50"), "d2": Decimal("1000.00")}
    assert modified == T0 + timedelta(minutes=5)
    assert modified.tzinfo is not None
    store.close()


def test_a_page_holding_a_record_twice_keeps_the_newest(store_url: str) -> None:
    store = open_store(store_url)
    with store.sessions.begin() as session:
        upserts.upsert_records(session, "deals", [deal("d1", minutes=3, stage="B"), deal("d1", stage="A")])
    with store.sessions() as session:
        assert session.scalar(select(DealRow.stage)) == "B"
    store.close()


def test_cursor_stays_put_when_the_rows_fail_to_store(store_url: str) -> None:
    store = open_store(store_url)
    store_page(store, "crm", "deals", Page([deal("d1")], [], Cursor(T0, "d1")), full=False)
    broken = deal("d2", minutes=9, modified_at=T0.replace(tzinfo=None))  # a naive instant is a bug
    with pytest.raises(Exception, match="naive datetime"):
        store_page(store, "crm", "deals", Page([broken], [], Cursor(T0 + timedelta(hours=1))), full=False)
    with store.sessions() as session:
        assert cursors.load(session, "crm", "deals") == Cursor(T0, "d1")
        assert upserts.count_rows(session, "deals") == 1
    store.close()


def test_ledger_keeps_the_confirmed_value_when_a_write_fails(store_url: str) -> None:
    store = open_store(store_url)
    item = WriteItem(object="User", record_id="005A", fields={"Q_Revenue__c": 100.0})
    with store.sessions.begin() as session:
        ledger.record_results(session, "crm", [(item, WriteResult(ok=True, record_id="005A"))], now=T0)
    changed = WriteItem(object="User", record_id="005A", fields={"Q_Revenue__c": 250.0})
    failure = WriteResult(ok=False, error_code="UNABLE_TO_LOCK_ROW", message="locked")
    with store.sessions.begin() as session:
        ledger.record_results(session, "crm", [(changed, failure)], now=T0)
    with store.sessions() as session:
        assert ledger.confirmed(session, "crm", "User") == {("005A", "Q_Revenue__c"): "100.0"}
        [failed] = ledger.failed_writes(session)
    assert (failed.target, failed.error_code, failed.attempts) == ("005A", "UNABLE_TO_LOCK_ROW", 1)
    store.close()


def test_a_store_behind_the_code_asks_for_db_upgrade(store_url: str) -> None:
    open_store(store_url).close()
    store = open_store(store_url)
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0002'"))  # a real, older revision
    store.close()
    with pytest.raises(StoreError, match="okrsync db upgrade"):
        open_store(store_url)
