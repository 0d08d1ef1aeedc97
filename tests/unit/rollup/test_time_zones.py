"""A record falls in a period by its date field read in the configured time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from syncer.rollup import compute_key_results
from syncer.rollup.expressions import (
    SqlContext,
    day_difference,
    local_date,
    offset_changes,
    prepare_connection,
)
from syncer.store.tables import CallRow

from .builders import Rows, key_result_settings

NOW = datetime(2026, 11, 15, 17, 0, tzinfo=UTC)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _value(session: Session, metric: dict[str, Any], zone: str, period: Any = "2026-Q4") -> Decimal | None:
    settings = key_result_settings(metric, period=period, settings={"timezone": zone})
    return compute_key_results(session, settings, now=NOW)[0].value


@pytest.fixture
def renewals(session: Session) -> Session:
    rows = Rows(session)
    rows.renewal("r1", status="renewed", amount=1, closed_at=_utc("2027-01-01 04:30"))  # NY: Dec 31, 23:30
    rows.renewal("r2", status="renewed", amount=10, closed_at=_utc("2026-10-01 02:00"))  # NY: Sep 30, 22:00
    rows.renewal("r3", status="renewed", amount=100, closed_at=_utc("2026-10-01 04:00"))  # NY: Oct 1, 00:00
    rows.renewal("r4", status="renewed", amount=1000, closed_at=_utc("2027-01-01 05:00"))  # NY: Jan 1, 00:00
    rows.renewal("r5", status="renewed", amount=10000, closed_at=_utc("2026-12-31 15:30"))  # Tokyo: Jan 1
    return session


CLOSED_AMOUNT = {"kind": "sum", "stream": "renewals", "field": "amount", "date": "closed_at"}


@pytest.mark.parametrize(
    ("zone", "amount"),
    [
        ("America/New_York", Decimal("10101.00")),  # r1 (23:30 on the last day), r3, r5
        ("UTC", Decimal("10110.00")),  # r2, r3, r5
        ("Asia/Tokyo", Decimal("110.00")),  # r2 (11:00 on Oct 1) and r3; r5 is Jan 1 there
    ],
)
def test_instants_fall_in_the_quarter_of_their_local_date(
    renewals: Session, zone: str, amount: Decimal
) -> None:
    assert _value(renewals, CLOSED_AMOUNT, zone) == amount


def test_a_date_column_compares_calendar_days(session: Session) -> None:
    rows = Rows(session)
    rows.deal("first", amount=1, close_date=date(2026, 10, 1))
    rows.deal("last", amount=10, close_date=date(2026, 12, 31))
    rows.deal("after", amount=100, close_date=date(2027, 1, 1))
    metric = {"kind": "sum", "stream": "deals", "field": "amount"}
    assert _value(session, metric, "Pacific/Kiritimati") == _value(session, metric, "Pacific/Pago_Pago") == 11


def test_days_between_instants_count_local_dates(session: Session) -> None:
    rows = Rows(session)
    # Created 23:30 on Oct 31 in New York (Nov 1 in UTC), modified at 07:00 on Nov 1 local.
    rows.deal(
        "d",
        close_date=date(2026, 11, 1),
        created_at=_utc("2026-11-01 03:30"),
        modified_at=_utc("2026-11-01 12:00"),
    )
    metric = {"kind": "avg_days", "stream": "deals", "from": "created_at", "to": "modified_at"}
    assert _value(session, metric, "America/New_York") == 1
    assert _value(session, metric, "UTC") == 0


def test_a_date_filter_on_an_instant_reads_its_local_date(session: Session) -> None:
    rows = Rows(session)
    rows.deal("late", close_date=date(2026, 11, 1), created_at=_utc("2026-10-01 02:00"))  # NY: Sep 30
    rows.deal("early", close_date=date(2026, 11, 1), created_at=_utc("2026-10-01 04:00"))  # NY: Oct 1
    count = {"kind": "count", "stream": "deals", "where": {"created_at": {"gte": date(2026, 10, 1)}}}
    assert _value(session, count, "America/New_York") == 1
    assert _value(session, count, "UTC") == 2
    on_day = {"kind": "count", "stream": "deals", "where": {"created_at": "2026-09-30"}}
    assert _value(session, on_day, "America/New_York") == 1


def test_deleted_records_never_count(session: Session) -> None:
    rows = Rows(session)
    rows.call("kept", occurred_at=_utc("2026-11-02 12:00"))
    rows.call("gone", occurred_at=_utc("2026-11-02 13:00"), deleted=True)
    calls = {"kind": "count", "stream": "calls", "where": {"deleted": {"not": False}}}
    assert _value(session, {"kind": "count", "stream": "calls"}, "UTC") == 1
    assert _value(session, calls, "UTC") == 0  # not even when a filter asks for them


# Zones with daylight saving time, a 30-minute DST, a 45-minute offset, a skipped day (Apia,
# 2011-12-30), DST abolished (São Paulo, 2019) and no change at all.
ZONES = [
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "Pacific/Apia",
    "America/Sao_Paulo",
    "UTC",
]


@pytest.mark.parametrize("zone", ZONES)
def test_local_date_in_sql_equals_python_around_every_offset_change(session: Session, zone: str) -> None:
    """SQLite reads local dates from a CASE tree of the zone's offsets; PostgreSQL from AT TIME ZONE."""
    info = ZoneInfo(zone)
    instants = [
        change + timedelta(seconds=shift)
        for change, _offset in offset_changes(zone)
        for shift in (-86_400, -3_601, -1, 0, 1, 3_599, 86_400)
    ]
    instants += [
        _utc(text) for text in ("1969-12-31 23:59:59", "1901-06-01 12:00", "2100-01-01", "2230-07-04")
    ]
    instants.append(_utc("2026-11-15 17:00") + timedelta(microseconds=999_999))
    rows = Rows(session)
    for n, instant in enumerate(instants):
        rows.call(f"c{n:05d}", occurred_at=instant)
    calls = CallRow.__table__
    ctx = SqlContext(dialect=session.get_bind().dialect.name, zone=info)
    prepare_connection(session)  # the Python fallback outside 1970-2100
    got = session.execute(select(local_date(calls.c.occurred_at, ctx)).order_by(calls.c.id)).scalars().all()
    assert got == [instant.astimezone(info).date() for instant in instants]


@pytest.mark.parametrize("zone", ZONES)
def test_days_between_in_sql_equal_python_around_every_offset_change(session: Session, zone: str) -> None:
    """SQLite counts days on julianday()'s milliseconds with the zone's offset added (one parse
    per value), falling back to the Python local date outside 1970-2100; both must agree with
    Python on each side of every change, at local midnight and a microsecond before it."""
    info = ZoneInfo(zone)
    instants = [
        change + timedelta(seconds=shift)
        for change, _offset in offset_changes(zone)
        for shift in (-86_400, -1, 0, 1, 86_400)
    ]
    midnight = datetime(2026, 3, 8, tzinfo=info).astimezone(UTC)
    instants += [midnight, midnight - timedelta(microseconds=1), midnight + timedelta(microseconds=1)]
    instants += [
        _utc(text) for text in ("1969-12-31 23:59:59", "1970-01-01 03:00", "1901-06-01 12:00", "2230-07-04")
    ]
    later = _utc("2026-11-15 17:00")
    rows = Rows(session)
    for n, instant in enumerate(instants):
        rows.call(f"c{n:05d}", occurred_at=instant, modified_at=later)
    calls = CallRow.__table__
    ctx = SqlContext(dialect=session.get_bind().dialect.name, zone=info)
    prepare_connection(session)
    span = day_difference(calls.c.modified_at, calls.c.occurred_at, ctx)
    got = session.execute(select(span).order_by(calls.c.id)).scalars().all()
    today = later.astimezone(info).date()
    assert [int(days) for days in got] == [
        (today - instant.astimezone(info).date()).days for instant in instants
    ]
