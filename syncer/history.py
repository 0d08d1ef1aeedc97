"""What a weekly history record holds (README "History as CRM records").

One record per key result, group and ISO week, upserted on `<objective.key_result>|<group>|<week>`
(`q-revenue.revenue|ana@example.com|2026-W49`; the total's group is `total`). The week is the one
the rollup ran in, in the YAML's zone, so a cycle only ever produces the current week's records:
a past week's key is never wanted again and its record is never rewritten, and the first cycle of
a new week creates new records. The ledger does the rest (syncer.writeback): an unchanged record
sends nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, timedelta, tzinfo

from syncer.config.history import keeps
from syncer.config.models import HistoryAttribute, HistoryTarget
from syncer.values import TOTAL, AttributeValue, KeyResultValue

NAME_LENGTH = 80  # a Salesforce Name holds 80 characters; the key itself is the External ID


def iso_week(day: date) -> str:
    """2026-12-02 → '2026-W49' (ISO 8601: the week with the year's first Thursday is W01)."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_start(day: date) -> date:
    """The Monday of `day`'s ISO week."""
    return day - timedelta(days=day.weekday())


def snapshot_key(value: KeyResultValue, week: str) -> str:
    group = TOTAL if value.is_total else value.group_key
    return f"{value.objective}.{value.key_result}|{group}|{week}"


def snapshot_rows(
    target: HistoryTarget, values: Sequence[KeyResultValue], zone: tzinfo
) -> Iterator[dict[HistoryAttribute, AttributeValue]]:
    """The current week's record of every value the target keeps: attribute → value."""
    for value in values:
        if not keeps(target, value.objective, value.key_result):
            continue
        day = value.updated_at.astimezone(zone).date()  # the rollup's clock, in the YAML's zone
        week = iso_week(day)
        key = snapshot_key(value, week)
        yield {
            "key": key,
            "name": key[:NAME_LENGTH],
            "key_result": f"{value.objective}.{value.key_result}",
            "group": TOTAL if value.is_total else value.group_key,
            "week": week,
            "week_start": week_start(day),
            "value": value.value,
            "target": value.target,
            "progress": value.progress_pct,
            "score": value.score,
            "status": value.status,
        }
