"""The check-ins table of the page and the report: newest first, the value holding now marked,
superseded ones struck but kept, notes escaped (people typed them)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from syncer.store.checkins import Checkin
from syncer.values import Period
from syncer.views import checkins, units

QUARTER = Period(date(2026, 10, 1), date(2026, 12, 31))


def _checkin(id: int, value: str | None, note: str | None, group: str = "", hour: int = 9) -> Checkin:
    when = datetime(2026, 11, 16, hour, tzinfo=UTC)
    return Checkin(
        "team", "hires", group, QUARTER, None if value is None else Decimal(value), note, "dana", when, id
    )


def test_the_latest_value_per_group_holds_and_older_ones_are_struck() -> None:
    newest_first = [
        _checkin(4, None, "offer out <b>to</b> a third", hour=12),
        _checkin(3, "2", "Lee signed", hour=11),
        _checkin(2, "1", None, group="ana@example.com", hour=10),
        _checkin(1, "1", "Sam signed", hour=9),
    ]
    assert checkins.current_ids(newest_first) == {3, 2}
    html = checkins.html_table(newest_first, units.PLAIN, zone=ZoneInfo("America/New_York"))
    rows = html.split("<tr class=")[1:]
    assert [row.split(">")[0] for row in rows] == ['"note"', '"current"', '"current"', '"superseded"']
    assert "offer out &lt;b&gt;to&lt;/b&gt; a third" in html
    assert "2026-11-16 06:00" in html  # 11:00 UTC in New York
    assert checkins.html_table([], units.PLAIN, zone=UTC) == ""
