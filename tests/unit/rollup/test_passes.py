"""Passes: each stream is read once per date column and set of non-overlapping periods.

The values themselves are checked against the reference in test_properties.py; here: how
many statements a rollup runs, and that reading on several connections changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from syncer.rollup import compute_key_results, passes
from syncer.store.database import Store

from .builders import Rows, settings_from

NOW = datetime(2026, 11, 15, 17, 0, tzinfo=UTC)  # Q4 2026

# Seven key results: four on deals by close date (one a distinct count, one grouped by an
# attribute), one on deals by created_at, two on calls; a quarter objective with
# previous-period baselines and a year objective that overlaps it.
OBJECTIVES = """
- key: quarter
  period: current_quarter
  key_results:
    - {key: revenue, target: "+15%", baseline: previous_period, group_by: owner,
       metric: {stream: deals, kind: sum, field: amount, where: {is_won: true}}}
    - {key: win_rate, target: "+5pp", baseline: previous_period, group_by: team,
       metric: {stream: deals, kind: ratio, numerator: {is_won: true}, denominator: {is_closed: true}}}
    - {key: customers, target: "+10%", baseline: previous_period, group_by: owner,
       metric: {stream: deals, kind: distinct_count, field: account_id, where: {is_won: true}}}
    - {key: by_segment, target: 10, group_by: attributes.segment,
       metric: {stream: deals, kind: count}}
    - {key: created, target: 10, group_by: region,
       metric: {stream: deals, kind: count, date: created_at}}
    - {key: connects, target: "+20%", baseline: previous_period, group_by: owner,
       metric: {stream: calls, kind: count, where: {outcome: connected}}}
- key: year
  period: current_year
  key_results:
    - {key: talk_time, target: 100000, group_by: owner,
       metric: {stream: calls, kind: sum, field: duration_seconds}}
"""


def _fill(rows: Rows) -> None:
    rows.owner("005A", "ana@example.com", team="east", region="na")
    rows.owner("005B", "bo@example.com", team="west", region="emea")
    rows.owner("005C", "cy@example.com", active=False, team="west", region="na")
    owners = ["005A", "005B", "005C", None]
    for n in range(120):
        day = date(2026, 5, 1) + timedelta(days=2 * n)  # May 2026 to Jan 2027: three quarters
        rows.deal(
            f"d{n}",
            owner_id=owners[n % 4],
            account_id=f"a{n % 7}",
            amount=100 + n,
            is_won=n % 3 != 0,
            is_closed=n % 5 != 0,
            close_date=day,
            created_at=datetime.combine(day, datetime.min.time(), tzinfo=UTC) - timedelta(days=20, hours=n),
            attributes={"segment": ["smb", "ent"][n % 2]} if n % 6 else {},
        )
        rows.call(f"c{n}", owner_id=owners[n % 4], duration_seconds=n * 10,
                  outcome=["connected", "voicemail"][n % 2],
                  occurred_at=datetime(2026, 5, 1, 12, tzinfo=UTC) + timedelta(days=2 * n, hours=n))  # fmt: skip


@pytest.fixture
def filled(store: Store) -> Store:
    """The rows above, committed (another connection sees only committed rows)."""
    with store.sessions.begin() as session:
        _fill(Rows(session))
    return store


@pytest.fixture
def statements(store: Store) -> Iterator[list[str]]:
    """Every SELECT the store's engine runs from here on."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", record)
    yield seen
    event.remove(store.engine, "before_cursor_execute", record)


def test_each_stream_is_read_once_per_date_column_and_period_set(
    filled: Store, statements: list[str]
) -> None:
    with filled.sessions() as session:
        compute_key_results(session, settings_from(OBJECTIVES), now=NOW)
    reads = [s for s in statements if " FROM (SELECT " in s or "JOIN" in s or "GROUP BY" in s]
    deals = [s for s in reads if "FROM deals" in s or "JOIN deals" in s]
    calls = [s for s in reads if "FROM calls" in s]
    # deals: one pass by close date over this quarter and the last for revenue, win rate and
    # the attribute key result's total; one distinct pass for customers; one pass by created_at;
    # customers by owner (this quarter and the last) and by_segment's groups: statements of
    # their own, as distinct counts and attribute groups do not add up across owners.
    assert len(deals) == 1 + 1 + 1 + 2 + 1
    # calls: the quarter pass (with its baseline) and the year pass (it overlaps the quarter).
    assert len(calls) == 2


def test_several_connections_give_the_same_values_as_one(filled: Store) -> None:
    settings = settings_from(OBJECTIVES)
    with filled.sessions() as session:
        alone = compute_key_results(session, settings, now=NOW)
    with filled.sessions() as session:
        together = compute_key_results(session, settings, now=NOW, connections=3)
    assert together == alone
    assert {v.key_result for v in alone} == {
        "revenue", "win_rate", "customers", "by_segment", "created", "connects", "talk_time"
    }  # fmt: skip
    assert all(v.value is not None for v in alone if v.is_total and v.key_result != "win_rate")


def test_uncommitted_rows_are_seen_with_one_connection(session: Session) -> None:
    """The default reads in the caller's transaction, uncommitted rows included."""
    _fill(Rows(session))
    values = compute_key_results(session, settings_from(OBJECTIVES), now=NOW)
    revenue = next(v for v in values if v.key_result == "revenue" and v.is_total)
    assert revenue.value is not None
    assert revenue.value > 0


def test_passes_read_in_rowid_parts_add_up_to_the_whole(
    filled: Store, statements: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite: passes over most of a table are read in rowid ranges on several connections."""
    settings = settings_from(OBJECTIVES)
    with filled.sessions() as session:
        whole = compute_key_results(session, settings, now=NOW, connections=2)
    monkeypatch.setattr(passes, "PART_ROWS", 7)  # 120 deals and calls: parts of 7 rows
    monkeypatch.setattr(passes, "SCAN_SHARE", 0.0)  # every period holds "most" rows: every pass scans
    statements.clear()
    with filled.sessions() as session:
        parted = compute_key_results(session, settings, now=NOW, connections=2)
    assert parted == whole
    ranged = [s for s in statements if "rowid BETWEEN" in s]
    if filled.dialect == "sqlite":
        # deals by close date, deals by created_at, calls by quarter and by year: 18 parts each
        assert len(ranged) == 4 * 18
        assert not any("count(DISTINCT" in s for s in ranged)  # a distinct pass is read whole
    else:
        assert ranged == []  # PostgreSQL splits a statement across cores itself
