"""Group values: owners, teams, regions and attributes; who gets a value and against what."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from syncer.rollup import compute_key_results
from syncer.values import KeyResultValue

from .builders import Rows, key_result_settings

NOW = datetime(2026, 11, 15, 17, 0, tzinfo=UTC)  # current quarter: 2026-10-01 .. 2026-12-31
IN_QUARTER = date(2026, 11, 2)
LAST_QUARTER = date(2026, 8, 2)
WON_AMOUNT = {"kind": "sum", "stream": "deals", "field": "amount", "where": {"is_won": True}}


def _team(rows: Rows) -> None:
    rows.owner("005A", "ana@example.com", region="emea")
    rows.owner("005B", "bo@example.com", team="sales-na", region="na")
    rows.owner("005C", "cy@example.com", active=False, team="sales-na", region="na")  # left
    rows.owner("005D", None, region="na")  # no e-mail in the CRM
    rows.owner("100", "dee@example.com", source="hub", team="sales-na")  # hub pulls no calls


def _by_group(values: list[KeyResultValue]) -> dict[str, KeyResultValue]:
    return {v.group_key: v for v in values if not v.is_total}


def _compute(
    session: Session, metric: dict[str, Any], **key_result: Any
) -> tuple[KeyResultValue, dict[str, KeyResultValue]]:
    values = compute_key_results(session, key_result_settings(metric, **key_result), now=NOW)
    return values[0], _by_group(values)


def test_inactive_owner_counts_in_total_and_team_but_gets_no_value(session: Session) -> None:
    rows = Rows(session)
    _team(rows)
    rows.deal("d1", owner_id="005B", amount=100, close_date=IN_QUARTER)
    rows.deal("d2", owner_id="005C", amount=40, close_date=IN_QUARTER)
    total, owners = _compute(session, WON_AMOUNT, group_by="owner")
    assert total.value == Decimal("140.00")
    assert "cy@example.com" not in owners
    _, teams = _compute(session, WON_AMOUNT, group_by="team")
    assert teams["sales-na"].value == Decimal("140.00")


def test_every_active_owner_of_a_pulling_source_gets_a_value(session: Session) -> None:
    rows = Rows(session)
    _team(rows)
    rows.deal("d1", owner_id="005B", amount=100, close_date=IN_QUARTER)
    _, owners = _compute(session, WON_AMOUNT, group_by="owner")
    assert sorted(owners) == ["ana@example.com", "bo@example.com", "dee@example.com", "sfdc:005D"]
    assert owners["ana@example.com"].value == 0  # active, no records: 0 for a sum
    assert owners["sfdc:005D"].group_kind == "owner"
    # Calls are pulled from sfdc only: Dee (HubSpot) gets no call value.
    _, callers = _compute(session, {"kind": "count", "stream": "calls"}, group_by="owner")
    assert sorted(callers) == ["ana@example.com", "bo@example.com", "sfdc:005D"]
    assert {v.value for v in callers.values()} == {0}


@pytest.mark.parametrize(
    ("metric", "empty"),
    [
        ({"kind": "count", "stream": "deals"}, Decimal(0)),
        (WON_AMOUNT, Decimal(0)),
        ({"kind": "distinct_count", "stream": "deals", "field": "account_id"}, Decimal(0)),
        ({"kind": "avg", "stream": "deals", "field": "amount"}, None),
        ({"kind": "avg_days", "stream": "deals", "from": "created_at", "to": "close_date"}, None),
        ({"kind": "ratio", "stream": "deals", "numerator": {"is_won": True}}, None),
    ],
)
def test_no_records_is_zero_for_totals_and_none_for_averages(
    session: Session, metric: dict[str, Any], empty: Decimal | None
) -> None:
    rows = Rows(session)
    _team(rows)
    rows.deal("gone", owner_id="005A", amount=50, account_id="a", close_date=IN_QUARTER, deleted=True)
    total, owners = _compute(session, metric, group_by="owner")
    assert total.value == empty
    assert owners["ana@example.com"].value == empty
    assert total.progress is None if empty is None else total.progress == 0


def test_unknown_owner_counts_in_the_total_only(session: Session) -> None:
    rows = Rows(session)
    _team(rows)
    rows.deal("d1", owner_id="nobody", amount=70, close_date=IN_QUARTER)
    rows.deal("d2", owner_id=None, amount=30, close_date=IN_QUARTER)
    total, owners = _compute(session, WON_AMOUNT, group_by="owner")
    assert total.value == Decimal("100.00")
    assert sum(v.value or 0 for v in owners.values()) == 0


def test_teams_map_wins_over_the_owner_field_case_insensitively(session: Session) -> None:
    rows = Rows(session)
    _team(rows)
    rows.deal("d1", owner_id="005A", amount=10, close_date=IN_QUARTER)
    rows.deal("d2", owner_id="005B", amount=20, close_date=IN_QUARTER)
    rows.deal("d3", source="hub", owner_id="100", amount=40, close_date=IN_QUARTER)
    teams_yaml = {"emea": ["ANA@example.com", "Bo@Example.COM"]}
    total, teams = _compute(session, WON_AMOUNT, group_by="team", settings={"teams": teams_yaml})
    assert {k: v.value for k, v in teams.items()} == {"emea": Decimal("30.00"), "sales-na": Decimal("40.00")}
    assert total.value == Decimal("70.00")


def test_a_team_of_departed_reps_keeps_its_records(session: Session) -> None:
    rows = Rows(session)
    rows.owner("005C", "cy@example.com", active=False, team="legacy")
    rows.owner("005E", "eve@example.com", active=False, team="ghosts")  # no records, no one active
    rows.deal("d1", owner_id="005C", amount=40, close_date=IN_QUARTER)
    _, teams = _compute(session, WON_AMOUNT, group_by="team")
    assert {k: v.value for k, v in teams.items()} == {"legacy": Decimal("40.00")}


def test_a_departed_team_shows_with_records_in_scope_that_neither_side_of_its_ratio_counts(
    session: Session,
) -> None:
    """In scope (`where`) is what makes a team show, even when no record is in the ratio yet."""
    rows = Rows(session)
    rows.owner("005C", "cy@example.com", active=False, team="legacy")
    rows.deal("d1", owner_id="005C", type="new", is_won=False, stage="Open", close_date=IN_QUARTER)
    win_rate = {"kind": "ratio", "stream": "deals", "where": {"type": "new"},
                "numerator": {"is_won": True}, "denominator": {"stage": ["Won", "Lost"]}}  # fmt: skip
    total, teams = _compute(session, win_rate, group_by="team")
    assert set(teams) == {"legacy"}
    assert teams["legacy"].value is None
    assert total.value is None


def test_regions_come_from_the_owner(session: Session) -> None:
    rows = Rows(session)
    _team(rows)
    rows.deal("d1", owner_id="005A", amount=10, close_date=IN_QUARTER)
    rows.deal("d2", owner_id="005C", amount=20, close_date=IN_QUARTER)
    rows.deal("d3", owner_id="005D", amount=5, close_date=IN_QUARTER)
    _, regions = _compute(session, WON_AMOUNT, group_by="region")
    assert {k: v.value for k, v in regions.items()} == {"emea": Decimal("10.00"), "na": Decimal("25.00")}
    assert regions["na"].group_kind == "region"


def test_attribute_groups_are_the_values_in_scope(session: Session) -> None:
    rows = Rows(session)
    rows.deal("d1", amount=10, close_date=IN_QUARTER, attributes={"segment": "smb"})
    rows.deal("d2", amount=20, close_date=IN_QUARTER, attributes={"segment": "enterprise"})
    rows.deal("d3", amount=30, close_date=IN_QUARTER, attributes={"segment": "smb"})
    rows.deal("d4", amount=40, close_date=IN_QUARTER)  # no segment: total only
    rows.deal("d5", amount=50, close_date=LAST_QUARTER, attributes={"segment": "mid"})  # out of scope
    total, segments = _compute(session, WON_AMOUNT, group_by="attributes.segment")
    assert total.value == Decimal("100.00")
    assert {k: v.value for k, v in segments.items()} == {
        "enterprise": Decimal("20.00"),
        "smb": Decimal("40.00"),
    }
    assert segments["smb"].group_kind == "attributes.segment"


def test_even_split_divides_an_absolute_target_across_active_owners(session: Session) -> None:
    rows = Rows(session)
    _team(rows)
    rows.deal("d1", owner_id="005B", amount=100, close_date=IN_QUARTER)
    total, owners = _compute(
        session, {"kind": "count", "stream": "deals"}, target=50, group_by="owner", owner_targets="even"
    )
    assert total.target == 50
    assert {v.target for v in owners.values()} == {Decimal("12.500000")}  # 4 active owners
    assert owners["bo@example.com"].progress == pytest.approx(1 / 12.5)


def test_even_split_gives_an_average_target_to_everyone(session: Session) -> None:
    rows = Rows(session)
    _team(rows)
    metric = {"kind": "avg", "stream": "deals", "field": "amount"}
    _, owners = _compute(session, metric, baseline=900, target=1000, group_by="owner", owner_targets="even")
    assert {(v.baseline, v.target) for v in owners.values()} == {(Decimal("900.00"), Decimal("1000.00"))}


def test_explicit_owner_targets_leave_unlisted_owners_without_target(session: Session) -> None:
    rows = Rows(session)
    _team(rows)
    rows.deal("d1", owner_id="005A", amount=300, close_date=IN_QUARTER)
    rows.deal("d2", owner_id="005B", amount=100, close_date=IN_QUARTER)
    targets = {"Ana@Example.com": 600, "bo@example.com": 400, "nobody@example.com": 999}
    total, owners = _compute(session, WON_AMOUNT, target=1000, group_by="owner", owner_targets=targets)
    assert total.target == Decimal("1000.00")
    ana, bo, dee = owners["ana@example.com"], owners["bo@example.com"], owners["dee@example.com"]
    assert (ana.target, ana.progress, ana.status) == (Decimal("600.00"), 0.5, "on_track")
    assert (bo.target, bo.progress) == (Decimal("400.00"), 0.25)
    assert (dee.value, dee.target, dee.progress, dee.score, dee.status) == (0, None, None, None, None)
    assert "nobody@example.com" not in owners


def test_an_absolute_target_belongs_to_the_total(session: Session) -> None:
    rows = Rows(session)
    _team(rows)
    rows.deal("d1", owner_id="005A", amount=300, close_date=IN_QUARTER)
    rows.deal("d2", owner_id="005A", amount=100, close_date=LAST_QUARTER)
    total, owners = _compute(session, WON_AMOUNT, baseline="previous_period", target=1000, group_by="owner")
    assert (total.value, total.baseline, total.target) == (
        Decimal("300.00"),
        Decimal("100.00"),
        Decimal("1000.00"),
    )
    ana = owners["ana@example.com"]
    assert (ana.value, ana.baseline) == (Decimal("300.00"), Decimal("100.00"))
    assert (ana.target, ana.progress, ana.score, ana.status) == (None, None, None, None)


def test_a_relative_target_applies_to_each_groups_own_baseline(session: Session) -> None:
    rows = Rows(session)
    rows.deal("d1", amount=100, close_date=LAST_QUARTER, attributes={"segment": "smb"})
    rows.deal("d2", amount=300, close_date=LAST_QUARTER, attributes={"segment": "mid"})
    rows.deal("d3", amount=110, close_date=IN_QUARTER, attributes={"segment": "smb"})
    rows.deal("d4", amount=50, close_date=IN_QUARTER, attributes={"segment": "new"})
    total, segments = _compute(
        session, WON_AMOUNT, baseline="previous_period", target="+10%", group_by="attributes.segment"
    )
    assert (total.baseline, total.target) == (Decimal("400.00"), Decimal("440.00"))
    assert (segments["smb"].baseline, segments["smb"].target) == (Decimal("100.00"), Decimal("110.00"))
    assert segments["smb"].status == "done"
    assert (segments["new"].baseline, segments["new"].target, segments["new"].progress) == (0, 0, None)
    assert "mid" not in segments  # no record this quarter
