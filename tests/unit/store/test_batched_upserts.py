"""A page is one upsert statement (issue #14); the rules a row-by-row upsert kept still hold.

Each test runs on SQLite and, with OKRSYNC_TEST_PG_SERVER, on PostgreSQL: `executemany` and
`INSERT … SELECT FROM unnest(…)` must store the same rows and count the same changes.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from syncer.contract import Cursor, Page
from syncer.pull import store_page
from syncer.records import Call, Renewal
from syncer.store import cursors, quarantine, upserts
from syncer.store.database import Store, open_store
from syncer.store.tables import CallRow, DealRow, RenewalRow
from tests.fakes import T0, deal

pytestmark = pytest.mark.store


@pytest.fixture
def store(store_url: str) -> Store:
    opened = open_store(store_url)
    yield opened  # type: ignore[misc]
    opened.close()


def stored(store: Store) -> dict[str, tuple[str | None, Decimal | None, bool]]:
    with store.sessions() as session:
        rows = session.execute(select(DealRow.id, DealRow.stage, DealRow.amount, DealRow.deleted)).all()
    return {r.id: (r.stage, r.amount, r.deleted) for r in rows}


def page(*records: object, cursor: Cursor | None = None) -> Page:
    return Page(list(records), [], cursor)  # type: ignore[arg-type]


def test_an_older_copy_in_a_later_page_leaves_the_newer_one(store: Store) -> None:
    first = store_page(
        store, "crm", "deals", page(deal("d1", minutes=5, stage="New"), deal("d2")), full=False
    )
    second = store_page(
        store,
        "crm",
        "deals",
        page(deal("d1", minutes=1, stage="Old"), deal("d2", minutes=2, stage="B")),
        full=False,
    )

    assert (first.changed, second.changed) == (2, 1)  # only d2's newer copy counts
    assert stored(store)["d1"][0] == "New"
    assert stored(store)["d2"][0] == "B"


def test_within_one_page_the_newest_copy_wins_in_any_order(store: Store) -> None:
    copies = [deal("d1", minutes=m, stage=f"v{m}") for m in (2, 7, 4)]

    result = store_page(store, "crm", "deals", page(*copies, deal("d2")), full=False)

    assert result.changed == 2  # two records, whatever the copies
    assert stored(store)["d1"][0] == "v7"


def test_a_same_age_copy_is_skipped_unless_the_pull_is_full(store: Store) -> None:
    store_page(store, "crm", "deals", page(deal("d1", stage="A")), full=False)

    again = store_page(store, "crm", "deals", page(deal("d1", stage="B")), full=False)
    assert (again.changed, stored(store)["d1"][0]) == (0, "A")

    full = store_page(store, "crm", "deals", page(deal("d1", stage="B")), full=True)
    assert (full.changed, stored(store)["d1"][0]) == (1, "B")


def test_a_delete_removes_a_live_row_and_an_older_live_copy_does_not_bring_it_back(store: Store) -> None:
    store_page(store, "crm", "deals", page(deal("d1"), deal("d2")), full=False)

    removed = store_page(
        store, "crm", "deals", page(deal("d1", minutes=3, deleted=True), deal("d3")), full=False
    )
    replayed = store_page(store, "crm", "deals", page(deal("d1", minutes=1, stage="Back")), full=False)

    assert (removed.changed, removed.removed) == (2, 1)  # d3 new, d1 deleted
    assert (replayed.changed, replayed.removed) == (0, 0)
    assert stored(store)["d1"] == ("Closed Won", Decimal("1000.00"), True)


def test_a_delete_of_a_record_never_held_is_kept_but_counts_as_nothing(store: Store) -> None:
    result = store_page(store, "crm", "deals", page(deal("d9", deleted=True)), full=False)

    assert (result.changed, result.removed) == (0, 0)
    assert stored(store)["d9"][2] is True
    late = store_page(store, "crm", "deals", page(deal("d9", minutes=-1)), full=False)
    assert late.changed == 0
    assert stored(store)["d9"][2] is True


def test_a_bad_record_in_a_page_is_quarantined_and_the_rest_is_one_batch(store: Store) -> None:
    bad = deal("d2", minutes=2, amount=Decimal("1e17"))  # beyond Numeric(18, 2): admission refuses it
    result = store_page(
        store,
        "crm",
        "deals",
        page(deal("d1"), bad, deal("d3"), cursor=Cursor(T0 + timedelta(minutes=2))),
        full=False,
    )

    assert result.changed == 2
    assert [r.record_id for r in result.rejections] == ["d2"]
    assert set(stored(store)) == {"d1", "d3"}
    with store.sessions() as session:
        assert [q.record_id for q in quarantine.top(session)] == ["d2"]
        assert cursors.load(session, "crm", "deals") == Cursor(T0 + timedelta(minutes=2))


def test_a_newer_good_copy_releases_the_quarantined_one(store: Store) -> None:
    store_page(store, "crm", "deals", page(deal("d1", amount=Decimal("1e17"))), full=False)

    result = store_page(store, "crm", "deals", page(deal("d1", minutes=1)), full=False)

    assert result.changed == 1
    assert not result.rejections
    with store.sessions() as session:
        assert quarantine.top(session) == []


def test_a_thousand_rows_are_stored_as_an_orm_insert_would_store_them(store: Store) -> None:
    deals = [
        deal(f"d{i:04d}", minutes=i, amount=Decimal(i) / 4, attributes={"seats": i, "tier": None})
        for i in range(1_000)
    ]

    result = store_page(store, "crm", "deals", page(*deals), full=False)

    assert result.changed == 1_000
    with store.sessions() as session:
        row = session.get(DealRow, ("crm", "d0999"))
        assert row is not None
        assert (row.amount, row.attributes, row.close_date) == (Decimal("249.75"), {"seats": 999, "tier": None},
                                                                 date(2026, 10, 5))  # fmt: skip
        assert row.modified_at == T0 + timedelta(minutes=999)
        assert row.modified_at.tzinfo is not None
        assert row.is_won is True
        assert row.deleted is False


def test_calls_and_renewals_take_the_same_one_statement_path(store: Store) -> None:
    call = Call("crm", "c1", "u1", T0, 300, "connected", "outbound", T0)
    renewal = Renewal("crm", "r1", "u1", "a1", Decimal("5.50"), date(2026, 11, 1), "open", None, T0)
    older_call = Call("crm", "c1", "u1", T0, 1, "no_answer", "outbound", T0 - timedelta(seconds=1))

    with store.sessions.begin() as session:
        assert upserts.upsert_records(session, "calls", [call, older_call]) == 1
        assert upserts.upsert_records(session, "renewals", [renewal]) == 1
    with store.sessions() as session:
        stored_call = session.get(CallRow, ("crm", "c1"))
        stored_renewal = session.get(RenewalRow, ("crm", "r1"))
        assert stored_call is not None
        assert stored_call.duration_seconds == 300
        assert stored_renewal is not None
        assert stored_renewal.amount == Decimal("5.50")


@pytest.mark.parametrize("dialect_name", ["sqlite", "postgresql"])
def test_the_shortcut_bind_processors_give_what_sqlalchemys_own_give(dialect_name: str) -> None:
    """Each column's shortcut (issue #14) sends exactly the value its SQLAlchemy processor sends."""
    from datetime import UTC, datetime, timezone

    from sqlalchemy.dialects import postgresql, sqlite

    dialect = sqlite.dialect() if dialect_name == "sqlite" else postgresql.psycopg.dialect()  # type: ignore[attr-defined]
    instants = [
        T0,
        datetime(2026, 3, 1, 4, 5, 6, 789, tzinfo=UTC),
        datetime(1001, 1, 1, tzinfo=UTC),
        datetime(2026, 3, 1, 23, 30, tzinfo=timezone(timedelta(hours=-5))),  # not UTC: converted
        None,
    ]
    samples = [*instants, date(2026, 2, 28), date(999, 12, 31), True, False, None, {}, {"a": 1}, []]
    checked = 0
    for table in (DealRow.__table__, CallRow.__table__, RenewalRow.__table__):
        for column in table.columns:
            process = upserts._bind_processor(column, dialect)
            fast = upserts._fast_path(column.type, dialect, process)
            if fast is process:
                continue
            assert process is not None
            assert fast is not None
            for value in samples:
                try:
                    expected = process(value)
                except (TypeError, ValueError, AttributeError) as exc:
                    with pytest.raises(type(exc)):
                        fast(value)
                    continue
                assert fast(value) == expected, (column, value)
                assert type(fast(value)) is type(expected), (column, value)
                checked += 1
    assert checked > 20


def test_text_that_array_syntax_gives_meaning_to_is_stored_as_it_is(store: Store) -> None:
    """PostgreSQL reads each page as array input text: quotes, backslashes, braces, commas,
    `NULL` and blanks in a value stay the value."""
    stages = ['say "hi"', "back\\slash\\", "{a,b}", "NULL", "", "  padded  ", "Zürich ✓", 'a\\"b']
    deals = [deal(f"d{i}", stage=stage, pipeline=None) for i, stage in enumerate(stages)]
    attributes = {"quote": 'x"y', "slash": "c:\\tmp", "nested": {"list": [1, None, "}"]}}
    deals.append(deal("dj", amount=Decimal("-0.01"), attributes=attributes))

    store_page(store, "crm", "deals", page(*deals), full=False)

    assert {i: stored(store)[f"d{i}"][0] for i in range(len(stages))} == dict(enumerate(stages))
    with store.sessions() as session:
        row = session.get(DealRow, ("crm", "dj"))
        assert row is not None
        assert (row.amount, row.attributes, row.pipeline) == (Decimal("-0.01"), attributes, None)
