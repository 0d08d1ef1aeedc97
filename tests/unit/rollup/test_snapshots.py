"""Snapshots: history of key-result values (tests for syncer/store/snapshots.py).

They live here until the store fixtures move to tests/conftest.py.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from syncer.store.snapshots import latest_values, save_snapshot, weekly_series
from syncer.store.tables import SnapshotRow
from syncer.values import KeyResultValue, Period

QUARTER = Period(date(2026, 10, 1), date(2026, 12, 31))  # starts on a Thursday
TOTAL = KeyResultValue(
    objective="q-revenue",
    key_result="revenue",
    group_kind="total",
    group_key="",
    period=QUARTER,
    value=Decimal("412000.00"),
    baseline=Decimal("500000.00"),
    target=Decimal("575000.00"),
    direction="increase",
    progress=0.716522,
    score=0.716522,
    expected=0.5,
    status="on_track",
    projected=Decimal("824000.00"),
    updated_at=datetime(2026, 11, 15, 12, 0, tzinfo=UTC),
    title="Revenue",
)


def _at(when: datetime, value: int, **changes: object) -> KeyResultValue:
    return replace(TOTAL, updated_at=when, value=Decimal(value), **changes)  # type: ignore[arg-type]


def test_one_statement_saves_every_value_and_latest_reads_them_back(session: Session) -> None:
    ana = replace(TOTAL, group_kind="owner", group_key="ana@example.com", value=Decimal("100.50"))
    cycle = replace(
        TOTAL,
        key_result="cycle",
        value=Decimal("26.25"),
        baseline=Decimal(30),
        target=Decimal("25.5"),
        direction="decrease",
        status=None,
        progress=None,
        score=None,
        projected=None,
    )
    save_snapshot(session, 7, [TOTAL, ana, cycle])
    later = _at(TOTAL.updated_at + timedelta(hours=1), 415000)
    save_snapshot(session, 8, [later])
    assert session.scalar(select(func.count()).select_from(SnapshotRow)) == 4
    latest = {v.key: v for v in latest_values(session)}
    assert sorted(latest) == ["q-revenue.cycle", "q-revenue.revenue", "q-revenue.revenue.ana@example.com"]
    assert latest["q-revenue.revenue"] == replace(later, title=None)
    assert latest["q-revenue.revenue.ana@example.com"].value == Decimal("100.5")
    assert latest["q-revenue.cycle"] == replace(cycle, title=None)  # direction read back from the numbers


def test_nothing_to_save_is_fine(session: Session) -> None:
    save_snapshot(session, None, [])
    assert latest_values(session) == []


def test_weekly_series_keeps_the_last_snapshot_of_each_week(session: Session) -> None:
    start = datetime(2026, 10, 1, 4, 0, tzinfo=UTC)  # local midnight in New York
    snapshots = [
        _at(start + timedelta(hours=1), 10),
        _at(start + timedelta(days=6, hours=19, minutes=59), 20),  # Oct 7, 23:59 local: week 1
        _at(start + timedelta(days=7), 30),  # Oct 8, 00:00 local: week 2
        _at(start + timedelta(days=20), 40),  # week 3; week 4 has nothing
        _at(start + timedelta(days=29), 50),
        _at(start + timedelta(days=29, hours=1), 55),
        replace(_at(start + timedelta(days=30), 999), group_kind="owner", group_key="ana@example.com"),
        replace(_at(start - timedelta(days=3), 888), period=Period(date(2026, 7, 1), date(2026, 9, 30))),
    ]
    save_snapshot(session, 1, snapshots)
    series = weekly_series(session, "q-revenue", "revenue", zone=ZoneInfo("America/New_York"))
    assert series == [
        (date(2026, 10, 7), Decimal(20)),
        (date(2026, 10, 14), Decimal(30)),
        (date(2026, 10, 21), Decimal(40)),
        (date(2026, 11, 4), Decimal(55)),
    ]
    assert weekly_series(session, "q-revenue", "revenue", "owner", "ana@example.com") == [
        (date(2026, 11, 4), Decimal(999))
    ]
    assert weekly_series(session, "q-revenue", "nothing") == []


def test_the_last_week_ends_with_the_period(session: Session) -> None:
    save_snapshot(session, 1, [_at(datetime(2026, 12, 31, 12, 0, tzinfo=UTC), 77)])
    assert weekly_series(session, "q-revenue", "revenue") == [(date(2026, 12, 31), Decimal(77))]
