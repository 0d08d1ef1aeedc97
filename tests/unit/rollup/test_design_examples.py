"""The README's example OKRs end to end over a small org, with every number worked out by hand.

The clock: 2026-12-16 12:00 in New York. The fiscal year starts in February, so the current
quarter is 2026-11-01..2027-01-31 and the previous one 2026-08-01..2026-10-31. From local
midnight on Nov 1 (04:00 UTC, still EDT) to local midnight on Feb 1 (05:00 UTC, EST) is
2209 hours, of which 1093 have passed: expected = 1093 / 2209 ≈ 0.4948.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from syncer.rollup import compute_key_results, objective_scores
from syncer.values import KeyResultValue, Period

from .builders import Rows, settings_from

NOW = datetime(2026, 12, 16, 17, 0, tzinfo=UTC)
EXPECTED = 1093 / 2209
QUARTER = Period(date(2026, 11, 1), date(2027, 1, 31))

OBJECTIVES = """
- key: q-revenue
  title: Increase quarterly revenue
  period: current_quarter
  key_results:
    - key: revenue
      title: Reach $575,000 revenue, +15 % over last quarter
      metric: {kind: sum, stream: deals, field: amount, where: {is_won: true}, date: close_date}
      baseline: previous_period
      target: "+15%"
      group_by: owner
      owner_targets: even
      weight: 2
    - key: new-deals
      metric: {kind: count, stream: deals, where: {is_won: true, type: new}, date: close_date}
      target: 50
    - key: cycle
      metric: {kind: avg_days, stream: deals, from: created_at, to: close_date, where: {is_won: true}, date: close_date}
      baseline: 30
      target: 25.5
- key: retention
  title: Improve customer retention
  period: current_quarter
  key_results:
    - key: renewal-rate
      metric: {kind: ratio, stream: renewals, numerator: {status: renewed}, denominator: {status: [renewed, churned]}, date: due_date}
      target: 0.85
    - key: churn
      metric: {kind: ratio, stream: renewals, numerator: {status: churned}, weight: amount, date: due_date}
      baseline: previous_period
      target: "-5%"
- key: activity
  period: current_quarter
  key_results:
    - key: calls
      title: 20 % more calls than last quarter
      metric: {kind: count, stream: calls}
      baseline: previous_period
      target: "+20%"
"""


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _org(rows: Rows) -> None:
    rows.owner("005A", "ana@example.com")
    rows.owner("005B", "Bo@Example.com")
    rows.owner("005C", "cy@example.com", active=False, team="na")  # left the company
    rows.owner("100", "ana@example.com", source="hub")  # Ana again, in HubSpot
    rows.owner("101", "dee@example.com", source="hub")  # new rep, nothing closed yet


def _deals(rows: Rows) -> None:
    """Last quarter's."""
    # Previous quarter: 500,000 won (Ana 200,000, Bo 150,000, Cy 150,000).
    rows.deal("p1", owner_id="005A", amount=200_000, close_date=date(2026, 8, 15))
    rows.deal("p2", owner_id="005B", amount=150_000, close_date=date(2026, 10, 31))
    rows.deal("p3", owner_id="005C", amount=150_000, close_date=date(2026, 9, 30))


def _this_quarters_deals(rows: Rows) -> None:
    # This quarter: 480,000 won. Days from the local created date to close_date in brackets.
    rows.deal(
        "c1",
        owner_id="005A",
        amount=200_000,
        created_at=_utc("2026-10-21 14:00"),
        close_date=date(2026, 11, 20),
    )  # [30]
    rows.deal(
        "c2",
        source="hub",
        owner_id="100",
        amount=50_000,
        type="expansion",
        created_at=_utc("2026-11-02 15:00"),
        close_date=date(2026, 11, 22),
    )  # [20]
    # Created 2026-11-09 23:30 in New York (UTC says the 10th): 22 days, not 21.
    rows.deal(
        "c3",
        owner_id="005B",
        amount=120_000,
        created_at=_utc("2026-11-10 04:30"),
        close_date=date(2026, 12, 1),
    )  # [22]
    rows.deal(
        "c4",
        owner_id="005C",
        amount=80_000,
        created_at=_utc("2026-11-07 12:00"),
        close_date=date(2026, 12, 10),
    )  # [33]
    rows.deal(
        "c5", owner_id="005Z", amount=30_000, type="other", close_date=date(2026, 12, 5)
    )  # unknown owner, no created_at
    rows.deal("c6", owner_id="005B", amount=999, is_won=False, close_date=date(2026, 12, 2))  # lost
    rows.deal(
        "c7",
        owner_id="005A",
        amount=77_777,
        created_at=_utc("2026-12-01 12:00"),
        close_date=date(2026, 12, 3),
        deleted=True,
    )
    rows.deal(
        "c8", owner_id="005A", amount=5_000, is_won=False, is_closed=False, close_date=date(2027, 1, 20)
    )  # open


def _renewals(rows: Rows) -> None:
    # Previous quarter: 20,000 churned of 200,000 due → churn 0.1.
    rows.renewal("q1", owner_id="005A", status="churned", amount=20_000, due_date=date(2026, 9, 10))
    rows.renewal("q2", owner_id="005B", status="renewed", amount=80_000, due_date=date(2026, 10, 5))
    rows.renewal("q3", owner_id="005A", status="renewed", amount=100_000, due_date=date(2026, 8, 20))
    # This quarter: 2 renewed of 4 decided; 21,000 churned of 211,000 due.
    rows.renewal("r1", owner_id="005A", status="renewed", amount=100_000, due_date=date(2026, 11, 15))
    rows.renewal("r2", owner_id="005B", status="renewed", amount=50_000, due_date=date(2026, 12, 1))
    rows.renewal("r3", owner_id="005C", status="churned", amount=21_000, due_date=date(2026, 12, 10))
    rows.renewal("r4", owner_id="005B", status="open", amount=40_000, due_date=date(2027, 1, 15))
    rows.renewal(
        "r5", owner_id="005A", status="churned", amount=None, due_date=date(2026, 11, 20)
    )  # weighs 0
    rows.renewal("r6", status="churned", amount=500_000, due_date=date(2026, 11, 25), deleted=True)


def _calls(rows: Rows) -> None:
    # Previous quarter (local Aug 1 00:00 EDT = 04:00 UTC … Nov 1 00:00 EDT = 04:00 UTC): 4 calls.
    rows.call("k1", owner_id="005A", occurred_at=_utc("2026-08-01 04:00"))
    rows.call("k2", owner_id="005A", occurred_at=_utc("2026-10-31 20:00"))
    rows.call("k3", owner_id="005B", occurred_at=_utc("2026-11-01 03:30"))  # Oct 31, 23:30 local
    rows.call("k4", owner_id="005B", occurred_at=_utc("2026-09-15 12:00"))
    rows.call("k5", owner_id="005A", occurred_at=_utc("2026-08-01 03:59"))  # Jul 31 local: neither
    # This quarter: 4 calls.
    rows.call("k6", owner_id="005A", occurred_at=_utc("2026-11-01 04:00"))  # Nov 1, 00:00 local
    rows.call("k7", owner_id="005A", occurred_at=_utc("2026-12-01 15:00"))
    rows.call("k8", owner_id="005C", occurred_at=_utc("2026-12-02 15:00"))
    rows.call("k9", owner_id="005B", occurred_at=_utc("2026-12-03 15:00"), deleted=True)
    rows.call("k10", owner_id="005A", occurred_at=_utc("2027-02-01 04:30"))  # Jan 31, 23:30 local
    rows.call("k11", owner_id="005A", occurred_at=_utc("2027-02-01 05:00"))  # Feb 1 local: next quarter


@pytest.fixture
def values(session: Session) -> dict[tuple[str, str], KeyResultValue]:
    rows = Rows(session)
    _org(rows)
    _deals(rows)
    _this_quarters_deals(rows)
    _renewals(rows)
    _calls(rows)
    settings = settings_from(
        OBJECTIVES, fiscal_year_start_month=2, teams={"emea": ["Ana@Example.com", "bo@example.com"]}
    )
    computed = compute_key_results(session, settings, now=NOW)
    return {(v.key_result, v.group_key): v for v in computed}


def test_revenue_total_is_last_quarter_plus_15_percent(values: dict[tuple[str, str], KeyResultValue]) -> None:
    total = values[("revenue", "")]
    assert (total.group_kind, total.period) == ("total", QUARTER)
    assert total.value == Decimal("480000.00")  # lost, open and deleted deals left out
    assert total.baseline == Decimal("500000.00")
    assert total.target == Decimal("575000.00")
    assert total.direction == "increase"
    assert total.progress == pytest.approx(480_000 / 575_000)  # 412,000 of 575,000 style: from 0
    assert total.progress_pct == 83.5
    assert total.score == pytest.approx(0.834783, abs=1e-6)
    assert total.expected == pytest.approx(EXPECTED)
    assert total.status == "on_track"
    assert total.projected == Decimal("970100.64")  # 480,000 / 0.4948
    assert total.updated_at == NOW
    assert total.attribute("key") == "q-revenue.revenue"
    assert total.attribute("title") == "Reach $575,000 revenue, +15 % over last quarter"


def test_revenue_per_owner_splits_the_total_target_evenly(
    values: dict[tuple[str, str], KeyResultValue],
) -> None:
    owners = {key: v for (kr, key), v in values.items() if kr == "revenue" and key}
    # Cy left: no value of his own; Ana's Salesforce and HubSpot deals are one rep's.
    assert sorted(owners) == ["ana@example.com", "bo@example.com", "dee@example.com"]
    ana, bo, dee = owners["ana@example.com"], owners["bo@example.com"], owners["dee@example.com"]
    # `owner_targets: even` splits the total's 575,000 among the 3 active reps: 191,666.67 each,
    # not +15 % of each rep's own last quarter (Ana's would be 230,000). Baselines stay their own.
    assert (ana.value, ana.baseline, ana.target) == (
        Decimal("250000.00"),
        Decimal("200000.00"),
        Decimal("191666.67"),
    )
    assert (ana.progress, ana.score, ana.status) == (pytest.approx(250_000 / 191_666.67), 1.0, "done")
    assert (bo.value, bo.baseline, bo.target) == (
        Decimal("120000.00"),
        Decimal("150000.00"),
        Decimal("191666.67"),
    )
    assert (bo.progress, bo.status) == (pytest.approx(120_000 / 191_666.67), "on_track")  # 0.626 ≥ 0.4948
    # No records either quarter: 0 of 191,666.67 is 0 %, off track.
    assert (dee.value, dee.baseline, dee.target) == (0, 0, Decimal("191666.67"))
    assert (dee.progress, dee.score, dee.status) == (0.0, 0.0, "off_track")
    assert ana.group_kind == "owner"
    assert ana.attribute("key") == "q-revenue.revenue.ana@example.com"


def test_new_deals_count_against_an_absolute_target(values: dict[tuple[str, str], KeyResultValue]) -> None:
    new_deals = values[("new-deals", "")]
    assert (new_deals.value, new_deals.baseline, new_deals.target) == (3, None, 50)
    assert new_deals.progress == pytest.approx(0.06)
    assert new_deals.status == "off_track"  # 0.06 < 0.7 × 0.4948
    assert new_deals.projected == 6  # 3 / 0.4948 = 6.06, a whole number of deals
    assert [key for kr, key in values if kr == "new-deals"] == [""]  # no group_by: total only


def test_cycle_time_falls_from_30_to_25_5_days(values: dict[tuple[str, str], KeyResultValue]) -> None:
    cycle = values[("cycle", "")]
    # (30 + 20 + 22 + 33) / 4; the deal without created_at is skipped.
    assert cycle.value == Decimal("26.250000")
    assert (cycle.baseline, cycle.target, cycle.direction) == (30, Decimal("25.5"), "decrease")
    # (26.25 − 30) / (25.5 − 30): both differences negative.
    assert cycle.progress == pytest.approx(3.75 / 4.5)
    assert cycle.status == "on_track"
    assert cycle.projected == cycle.value  # an average does not accumulate


def test_renewal_rate_is_a_fraction(values: dict[tuple[str, str], KeyResultValue]) -> None:
    rate = values[("renewal-rate", "")]
    assert rate.value == Decimal("0.500000")  # 2 renewed of 4 decided; open and deleted left out
    assert rate.target == Decimal("0.85")
    assert rate.progress == pytest.approx(0.5 / 0.85)
    assert rate.status == "on_track"


def test_churn_weighs_by_amount_and_must_fall_5_percent(
    values: dict[tuple[str, str], KeyResultValue],
) -> None:
    churn = values[("churn", "")]
    assert churn.value == Decimal("0.099526")  # 21,000 / 211,000; the churn without amount weighs 0
    assert churn.baseline == Decimal("0.100000")  # 20,000 / 200,000 last quarter
    assert churn.target == Decimal("0.095000")
    assert churn.direction == "decrease"
    assert churn.progress == pytest.approx((0.099526 - 0.1) / (0.095 - 0.1))
    assert churn.status == "off_track"


def test_calls_are_placed_by_local_time(values: dict[tuple[str, str], KeyResultValue]) -> None:
    calls = values[("calls", "")]
    # Last quarter 4 calls (one at 03:30 UTC on Nov 1, still Oct 31 in New York); this quarter
    # 4 (one at 23:30 local on Jan 31, which UTC puts on Feb 1); the deleted call never counts.
    assert (calls.value, calls.baseline, calls.target) == (4, 4, Decimal("4.8"))
    assert calls.progress == pytest.approx(4 / 4.8)


def test_objective_scores_are_weighted_means_of_totals(values: dict[tuple[str, str], KeyResultValue]) -> None:
    settings = settings_from(OBJECTIVES, fiscal_year_start_month=2)
    scores = {s.objective: s.score for s in objective_scores(list(values.values()), settings)}
    revenue, new_deals, cycle = 480 / 575, 0.06, 3.75 / 4.5
    assert scores["q-revenue"] == pytest.approx((2 * revenue + new_deals + cycle) / 4, abs=1e-6)  # weight 2
    churn = (0.099526 - 0.1) / (0.095 - 0.1)
    assert scores["retention"] == pytest.approx((0.5 / 0.85 + churn) / 2, abs=1e-6)
    assert scores["activity"] == pytest.approx(4 / 4.8)
