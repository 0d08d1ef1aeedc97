"""Manual key results: their value is the latest check-in of the period, scored like any value.

README "Check-ins and manual key results": no check-in means no value (unknown, not zero: not
snapshotted, not written); a newer check-in supersedes, a note alone changes nothing; a rep of a
key result grouped by owner gets their own check-in against their own `owner_targets` number.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from syncer.rollup import compute_key_results
from syncer.store import checkins
from syncer.store.checkins import Checkin
from syncer.values import KeyResultValue, Period

from .builders import Rows, key_result_settings

NOW = datetime(2026, 11, 15, 17, 0, tzinfo=UTC)  # current quarter: 2026-10-01 .. 2026-12-31
QUARTER = Period(date(2026, 10, 1), date(2026, 12, 31))
MANUAL = {"kind": "manual"}


def _checkin(
    session: Session, value: str | None, *, group: str = "", hours_ago: int = 1, **extra: object
) -> None:
    period = extra.pop("period", QUARTER)
    assert isinstance(period, Period)
    checkins.record(
        session,
        Checkin(
            "o",
            "kr",
            group,
            period,
            None if value is None else Decimal(value),
            str(extra.pop("note", "")) or None,
            str(extra.pop("author", "dana")),
            NOW - timedelta(hours=hours_ago),
        ),
    )


def _values(session: Session, **key_result: object) -> list[KeyResultValue]:
    settings = key_result_settings(MANUAL, **{"target": 2, "baseline": 0, **key_result})
    return compute_key_results(session, settings, now=NOW)


def test_no_check_in_is_no_value_not_zero(session: Session) -> None:
    assert _values(session) == []


def test_a_check_in_is_scored_like_any_value(session: Session) -> None:
    _checkin(session, "1")
    (total,) = _values(session)
    assert (total.value, total.target, total.baseline) == (Decimal("1.000000"), Decimal(2), Decimal(0))
    assert total.progress == 0.5
    assert total.score == 0.5
    # 0.5 against an expected share of about 0.49: on track; projected is the value (not cumulative)
    assert 0.45 < total.expected < 0.5
    assert total.status == "on_track"
    assert total.projected == total.value


def test_the_latest_check_in_supersedes_and_a_note_changes_nothing(session: Session) -> None:
    _checkin(session, "1", hours_ago=30)
    _checkin(session, "2", hours_ago=5)
    _checkin(session, None, hours_ago=1, note="offer out to a third")
    (total,) = _values(session)
    assert total.value == Decimal(2)
    assert total.status == "done"
    assert len(checkins.history(session, "o", "kr", QUARTER)) == 3  # audited: all kept


def test_a_check_in_of_another_period_does_not_count(session: Session) -> None:
    _checkin(session, "2", period=Period(date(2026, 7, 1), date(2026, 9, 30)), hours_ago=24 * 50)
    assert _values(session) == []


def test_each_listed_rep_gets_their_own_check_in_against_their_own_target(session: Session) -> None:
    Rows(session).owner("005A", "ana@example.com")
    _checkin(session, "1", group="ana@example.com")
    _checkin(session, "3")
    values = _values(
        session,
        group_by="owner",
        owner_targets={"Ana@Example.com": 1, "bo@example.com": 2},
    )
    by_group = {v.group_key: v for v in values}
    assert set(by_group) == {"", "ana@example.com"}  # bo has not checked in: no value
    assert by_group["ana@example.com"].target == Decimal(1)
    assert by_group["ana@example.com"].status == "done"
    assert by_group[""].value == Decimal(3)
    assert by_group[""].target == Decimal(2)


def test_a_decrease_counts_from_the_baseline(session: Session) -> None:
    _checkin(session, "8")
    (total,) = _values(session, baseline=10, target=6)  # "open roles from 10 to 6"
    assert total.direction == "decrease"
    assert total.progress == 0.5
