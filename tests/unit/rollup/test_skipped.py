"""A deal closed before it was created still counts, except in a day-span average, which skips
it and says so (README "Plausibility"; syncer/rollup/undated.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from syncer.rollup import compute_key_results
from syncer.rollup.undated import count_backwards, count_undated

from .builders import Rows, settings_from

NOW = datetime(2026, 12, 16, 17, 0, tzinfo=UTC)  # quarter: 2026-10-01..12-31 (calendar year)
OBJECTIVES = """
- key: q
  period: current_quarter
  key_results:
    - key: revenue
      metric: {kind: sum, stream: deals, field: amount, where: {is_won: true}, date: close_date}
      target: 1000
    - key: cycle
      metric: {kind: avg_days, stream: deals, from: created_at, to: close_date, where: {is_won: true}, date: close_date}
      target: 10
"""


def test_a_backwards_span_counts_in_revenue_but_not_in_the_average(session: Session) -> None:
    rows = Rows(session)
    rows.owner("005A", "ana@example.com")
    # 20 days: created Nov 1 (New York), closed Nov 21.
    rows.deal("ok", owner_id="005A", amount=300, created_at=datetime(2026, 11, 1, 15, tzinfo=UTC),
              close_date=date(2026, 11, 21))  # fmt: skip
    # Logged on Dec 10 though won on Dec 1: its amount is real, its "-9 days" is no duration.
    rows.deal("late", owner_id="005A", amount=200, created_at=datetime(2026, 12, 10, 15, tzinfo=UTC),
              close_date=date(2026, 12, 1))  # fmt: skip
    rows.deal("undated", owner_id="005A", amount=50)  # no close date: in no period
    settings = settings_from(OBJECTIVES)

    values = {v.key_result: v.value for v in compute_key_results(session, settings, now=NOW) if v.is_total}

    assert values == {"revenue": Decimal("500.00"), "cycle": Decimal("20.00")}
    [backwards] = count_backwards(session, settings)
    assert (backwards.key_result, backwards.records) == ("cycle", 1)
    assert backwards.note == "skipped: 1 record with close_date before created_at (left out of the average)"
    undated = {u.key_result: u.records for u in count_undated(session, settings)}
    assert undated == {"revenue": 1, "cycle": 1}
