"""The sample org: deterministic, realistic, and the current quarter always has business."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from sandbox.sample_calendar import quarter_start
from sandbox.sample_org import SampleOrg, SampleScale, generate_sample_org

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
SMALL = SampleScale(deals=300, renewals=60, calls=500, emails=50)


@pytest.fixture(scope="module")
def org() -> SampleOrg:
    return generate_sample_org(now=NOW)


def test_same_inputs_give_the_same_org() -> None:
    assert generate_sample_org(now=NOW, scale=SMALL) == generate_sample_org(now=NOW, scale=SMALL)


def test_another_seed_gives_another_org() -> None:
    first = generate_sample_org(now=NOW, seed=1, scale=SMALL)
    second = generate_sample_org(now=NOW, seed=2, scale=SMALL)
    assert [d.amount for d in first.deals] != [d.amount for d in second.deals]


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        generate_sample_org(now=datetime(2026, 11, 15))


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 10, 1, 0, 0, 0, tzinfo=UTC),  # the first second of a quarter
        datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC),  # its last second
        datetime(2028, 2, 29, 7, 30, tzinfo=UTC),  # a leap day, before working hours
        NOW,
    ],
)
def test_current_quarter_always_has_won_lost_and_open_business(now: datetime) -> None:
    org = generate_sample_org(now=now, scale=SMALL)
    first_day = quarter_start(now.date())
    in_quarter = [
        d for d in org.deals if first_day <= d.close_date and d.close_date <= org.calendar.quarter_end
    ]
    won = [d for d in in_quarter if d.is_won and d.kind != "renewal" and not d.deleted]
    assert len(won) >= 8
    assert all(d.close_date <= now.date() and d.closed_at is not None and d.closed_at <= now for d in won)
    renewals = {d.stage for d in in_quarter if d.kind == "renewal"}
    assert {"won", "lost"} <= renewals
    assert renewals - {"won", "lost"}, "some renewals due this quarter are still open"
    assert any(c.occurred_at >= datetime.combine(first_day, datetime.min.time(), UTC) for c in org.calls)


def test_nothing_happens_after_now(org: SampleOrg) -> None:
    stamps = (
        [d.modified_at for d in org.deals]
        + [c.modified_at for c in org.calls]
        + [e.modified_at for e in org.emails]
    )
    assert max(stamps) <= NOW
    assert all(d.created_at <= d.modified_at for d in org.deals)
    assert all(d.closed_at is None or d.created_at <= d.closed_at <= d.modified_at for d in org.deals)


def test_open_deals_close_today_or_later_and_closed_ones_before(org: SampleOrg) -> None:
    for deal in org.deals:
        if deal.kind == "renewal":
            continue
        if deal.is_closed:
            assert deal.close_date <= NOW.date()
        else:
            assert NOW.date() <= deal.close_date <= org.calendar.horizon_end


def test_sales_org_has_three_teams_a_manager_and_one_rep_who_left(org: SampleOrg) -> None:
    reps = [u for u in org.users if u.team is not None]
    assert {(u.team, u.region) for u in reps} == {("East", "NA"), ("West", "NA"), ("EMEA", "EMEA")}
    assert len(reps) == 12
    manager = next(u for u in org.users if u.team is None)
    assert all(u.manager_key == manager.key for u in reps)
    assert len({u.email for u in org.users}) == len(org.users)
    gone = [u for u in org.users if not u.active]
    assert len(gone) == 1
    assert gone[0].deactivated_at is not None


def test_rep_who_left_still_owns_only_business_closed_before_leaving(org: SampleOrg) -> None:
    gone = next(u for u in org.users if not u.active)
    owned = [d for d in org.deals if d.owner_key == gone.key]
    assert owned, "the rep who left keeps their past deals"
    assert all(d.is_closed and d.closed_at is not None and d.closed_at < gone.deactivated_at for d in owned)
    assert all(a.owner_key != gone.key for a in org.accounts)


def test_deals_look_like_a_real_pipeline(org: SampleOrg) -> None:
    deals = [d for d in org.deals if d.kind != "renewal"]
    amounts_usd = [d.amount / org.currency_rates[d.currency] for d in deals if d.amount is not None]
    assert min(amounts_usd) >= Decimal(4_900)
    assert max(amounts_usd) <= Decimal(150_100)
    assert any(d.amount is None for d in deals)
    assert {d.kind for d in deals} == {"new", "expansion"}
    assert {d.pipeline for d in deals} == {"sales", "partner"}
    assert {d.currency for d in deals} == {"USD", "EUR", "GBP"}
    cycles = [(d.close_date - d.created_at.date()).days for d in deals if d.is_closed]
    assert min(cycles) >= 9
    assert max(cycles) <= 121
    win_rate = sum(d.is_won for d in deals if d.is_closed) / sum(d.is_closed for d in deals)
    assert 0.15 < win_rate < 0.6
    assert any(d.deleted for d in deals)


def test_renewals_renew_churn_or_stay_open(org: SampleOrg) -> None:
    renewals = [d for d in org.deals if d.kind == "renewal"]
    assert {d.pipeline for d in renewals} == {"renewals"}
    stages = [d.stage for d in renewals]
    assert stages.count("won") > stages.count("lost") > 0
    assert any(not d.is_closed for d in renewals)


def test_calls_have_durations_outcomes_and_directions(org: SampleOrg) -> None:
    assert {c.direction for c in org.calls} == {"inbound", "outbound", "internal"}
    assert {c.outcome for c in org.calls} == {
        "connected",
        "left_voicemail",
        "no_answer",
        "busy",
        "wrong_number",
    }
    durations = [c.duration_seconds for c in org.calls if c.duration_seconds is not None]
    assert min(durations) >= 0
    assert max(durations) <= 3_600
    assert any(c.duration_seconds is None for c in org.calls)
    deal_keys = {d.key for d in org.deals}
    assert all(c.deal_key is None or c.deal_key in deal_keys for c in org.calls)


def test_scale_sets_the_volumes() -> None:
    org = generate_sample_org(
        now=NOW, scale=SampleScale(reps=6, accounts=30, deals=50, renewals=7, calls=40, emails=3)
    )
    assert (len(org.users), len(org.accounts), len(org.deals), len(org.calls), len(org.emails)) == (
        7,
        30,
        57,
        40,
        3,
    )


def test_some_records_share_a_modification_instant(org: SampleOrg) -> None:
    """Connectors must break ties on equal timestamps by id: the sample org has such ties."""
    stamps = [a.modified_at for a in org.accounts]
    assert len(set(stamps)) < len(stamps)


def test_history_spans_six_quarters(org: SampleOrg) -> None:
    assert org.calendar.history_start == date(2025, 7, 1)
    assert min(d.close_date for d in org.deals) >= org.calendar.history_start
    assert min(d.close_date for d in org.deals) < org.calendar.history_start + timedelta(days=30)
