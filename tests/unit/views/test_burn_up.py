"""A count or sum key result's running total per day (syncer/rollup/burn_up.py), which the charts
draw: local dates in the configured zone, the rollup's scope, and a last day equal to the value."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from syncer.rollup.burn_up import daily_running_total
from syncer.rollup.keyresults import compute_key_results
from syncer.values import Period
from tests.unit.rollup.builders import Rows, key_result_settings

QUARTER = Period(date(2026, 10, 1), date(2026, 12, 31))
TODAY = date(2026, 10, 4)
NOW = datetime(2026, 10, 4, 16, 0, tzinfo=UTC)  # noon in New York


def test_calls_count_on_their_local_date_and_later_ones_on_today(session: Session) -> None:
    rows = Rows(session)
    rows.call("before", occurred_at=datetime(2026, 10, 1, 3, 30, tzinfo=UTC))  # Sep 30, 23:30 New York
    rows.call("first", occurred_at=datetime(2026, 10, 1, 4, 30, tzinfo=UTC))  # Oct 1, 00:30
    rows.call("late", occurred_at=datetime(2026, 10, 2, 3, 59, tzinfo=UTC))  # Oct 1, 23:59
    rows.call("gone", occurred_at=datetime(2026, 10, 2, 15, 0, tzinfo=UTC), deleted=True)
    rows.call("third", occurred_at=datetime(2026, 10, 3, 15, 0, tzinfo=UTC))
    rows.call("ahead", occurred_at=datetime(2026, 11, 20, 15, 0, tzinfo=UTC))  # booked for later
    settings = key_result_settings({"kind": "count", "stream": "calls"}, period="current_quarter")
    metric = settings.objectives[0].key_results[0].metric

    series = daily_running_total(session, settings, metric, QUARTER, today=TODAY)

    assert series == [(QUARTER.start + timedelta(days=n), total) for n, total in enumerate((2, 2, 3, 4))]
    [total, *_] = compute_key_results(session, settings, now=NOW)
    assert total.value == series[-1][1]  # the last day is the value the key result shows


def test_a_sum_of_amounts_by_close_date_ends_at_the_key_results_value(session: Session) -> None:
    rows = Rows(session)
    for n, (closed, amount) in enumerate(
        (
            (date(2026, 9, 30), 999),
            (date(2026, 10, 1), 100.25),
            (date(2026, 10, 3), 50),
            (date(2026, 12, 1), 7),
        )
    ):
        rows.deal(f"D{n}", amount=amount, close_date=closed)
    rows.deal("lost", amount=1000, close_date=date(2026, 10, 2), is_won=False)
    settings = key_result_settings(
        {"kind": "sum", "stream": "deals", "field": "amount", "where": {"is_won": True}},
        period="current_quarter",
    )
    metric = settings.objectives[0].key_results[0].metric

    series = daily_running_total(session, settings, metric, QUARTER, today=TODAY)

    assert [str(total) for _, total in series] == ["100.25", "100.25", "150.25", "157.25"]
    [total, *_] = compute_key_results(session, settings, now=NOW)
    assert total.value == series[-1][1]


def test_periods_not_started_or_over_and_kinds_that_do_not_add_up(session: Session) -> None:
    settings = key_result_settings({"kind": "count", "stream": "calls"})
    metric = settings.objectives[0].key_results[0].metric
    assert daily_running_total(session, settings, metric, QUARTER, today=date(2026, 9, 30)) == []
    over = daily_running_total(session, settings, metric, QUARTER, today=date(2027, 2, 1))
    assert len(over) == QUARTER.days
    assert over[-1] == (QUARTER.end, 0)
    ratio = (
        key_result_settings({"kind": "ratio", "stream": "renewals", "numerator": {"status": "renewed"}})
        .objectives[0]
        .key_results[0]
        .metric
    )
    with pytest.raises(ValueError, match="ratio"):
        daily_running_total(session, settings, ratio, QUARTER, today=TODAY)
