"""Quarantine in the store: a bad version is filed, retires the stored copy, and goes when a newer
good version arrives; a page with a bad record still stores the rest and moves the cursor."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from syncer.contract import Cursor, Page
from syncer.errors import BadRecordError
from syncer.pull import _storable, store_page
from syncer.store import cursors, quarantine
from syncer.store.database import Store
from syncer.store.tables import DealRow
from tests.fakes import T0, deal

pytestmark = pytest.mark.store


def live_ids(store: Store) -> list[str]:
    with store.sessions() as session:
        return sorted(session.scalars(select(DealRow.id).where(DealRow.deleted.is_(False))))


def filed(store: Store) -> list[quarantine.Quarantined]:
    with store.sessions() as session:
        return quarantine.top(session)


def test_a_bad_record_is_filed_and_the_rest_of_the_page_is_stored(store: Store) -> None:
    page = Page(
        [deal("d1"), deal("d2", amount=Decimal("Infinity")), deal("d3", minutes=2)],
        [BadRecordError("deals", "d4", "amount is not a finite number", field="amount", value="NaN")],
        Cursor(T0 + timedelta(minutes=2), "d3"),
    )

    stored = store_page(store, "crm", "deals", page, full=False)

    assert stored.changed == 2
    assert sorted((r.record_id, r.reason) for r in stored.rejections) == [
        ("d2", "amount is not a finite number"),
        ("d4", "amount is not a finite number"),
    ]
    assert live_ids(store) == ["d1", "d3"]
    assert sorted((q.record_id, q.field, q.value) for q in filed(store)) == [
        ("d2", "amount", "Decimal('Infinity')"),
        ("d4", "amount", "NaN"),
    ]
    with store.sessions() as session:
        assert cursors.load(session, "crm", "deals") == Cursor(T0 + timedelta(minutes=2), "d3")


def test_a_bad_version_retires_the_stored_copy_until_a_newer_good_one_comes(store: Store) -> None:
    store_page(store, "crm", "deals", Page([deal("d1")], [], None), full=False)
    bad = deal("d1", minutes=5, amount=Decimal("NaN"))
    store_page(store, "crm", "deals", Page([bad], [], None), full=False)
    assert live_ids(store) == []
    store_page(store, "crm", "deals", Page([deal("d1")], [], None), full=False)  # a replayed old page
    assert live_ids(store) == []
    assert [q.record_id for q in filed(store)] == ["d1"]

    store_page(store, "crm", "deals", Page([deal("d1", minutes=9)], [], None), full=False)

    assert live_ids(store) == ["d1"]
    assert filed(store) == []


def test_seeing_a_bad_record_again_keeps_its_first_sighting(store: Store) -> None:
    bad = deal("d1", created_at=T0.replace(year=9999))
    store_page(store, "crm", "deals", Page([bad], [], None), full=False)
    [first] = filed(store)
    store_page(store, "crm", "deals", Page([bad], [], None), full=False)
    [again] = filed(store)

    assert again.first_seen == first.first_seen
    assert again.last_seen >= first.last_seen
    assert again.reason.startswith("created_at is outside the plausible dates")
    with store.sessions() as session:
        assert quarantine.top_reasons(session) == [quarantine.ReasonCount("crm", "deals", again.reason, 1)]


def test_a_record_the_store_refuses_is_found_alone(store: Store, store_url: str) -> None:
    """The last line of defence: PostgreSQL refuses a 17-character deal type, SQLite keeps it."""
    odd = deal("d2", type="x" * 17)  # type: ignore[arg-type]

    kept, refused = _storable(store, "deals", [deal("d1"), odd], full=False)

    if store_url.startswith("sqlite"):
        assert ([r.id for r in kept], refused) == (["d1", "d2"], [])
    else:
        assert [r.id for r in kept] == ["d1"]
        assert [(r.record_id, r.reason) for r in refused] == [
            ("d2", "the store refused the record (StringDataRightTruncation)")
        ]
    assert live_ids(store) == []  # trying stores nothing
