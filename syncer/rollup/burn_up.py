"""A count or sum key result's running total, day by day, rebuilt from its records' own dates.

The charts of the status page and the report show how a key result grew over its period. Key-result
snapshots (`store/snapshots.py`) only exist from the first cycle on, one per run; but a count or a
sum is the total of its records, and each record is dated, so its whole history in the period can
be read back from the store: the running total at the end of day d is the metric over the records
dated up to d. Only count and sum add up day by day this way (`scoring.CUMULATIVE_KINDS`); a
distinct count, an average or a ratio at day d is no sum of the days before, so those keep their
weekly snapshots.

The records in scope are exactly those the rollup counts (`metrics.scope_clause`: not deleted,
dated in the period in the configured time zone, matching `where`), each contributing the same
term (`metrics.terms`, `metrics.aggregates`), so the last day's running total is the key result's
value. One statement aggregates by local date (`expressions.local_date`): at most one row per day
of the period reaches Python, never the records.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import null, select
from sqlalchemy.orm import Session

from syncer.config.models import Metric, Settings
from syncer.rollup.expressions import SqlContext, local_date, prepare_connection
from syncer.rollup.metrics import (
    aggregates,
    date_field,
    scope_clause,
    stream_table,
    terms,
    to_decimal,
    value_quantum,
)
from syncer.rollup.scoring import CUMULATIVE_KINDS, quantize
from syncer.values import Period

BURN_UP_KINDS = CUMULATIVE_KINDS  # count and sum: a day's records add to the days before


def daily_running_total(
    session: Session, settings: Settings, metric: Metric, period: Period, *, today: date
) -> list[tuple[date, Decimal | None]]:
    """(day, running total at the end of that day) for each day from the period's start to `today`.

    Records dated after `today` but within the period (a renewal due next month, a close date
    set ahead) count in the key result's value, so they count on `today`: the last point is
    the value the key result shows. A period that ended has its every day; one that has not
    started has none. Raises ValueError for a metric that does not add up day by day.
    """
    if metric.kind not in BURN_UP_KINDS:
        raise ValueError(f"a {metric.kind} metric has no running total by day")
    last = min(today, period.end)
    if last < period.start:
        return []
    prepare_connection(session)
    ctx = SqlContext(dialect=session.get_bind().dialect.name, zone=settings.zone)
    per_day = {
        _as_date(row.day): to_decimal(row.num) for row in session.execute(_by_local_date(metric, period, ctx))
    }
    ahead = sum((n for day, n in per_day.items() if n is not None and day > last), Decimal(0))
    quantum, running = value_quantum(metric), Decimal(0)
    series: list[tuple[date, Decimal | None]] = []
    for offset in range((last - period.start).days + 1):
        day = period.start + timedelta(days=offset)
        running += (per_day.get(day) or 0) + (ahead if day == last else 0)
        series.append((day, quantize(running, quantum)))
    return series


def _by_local_date(metric: Metric, period: Period, ctx: SqlContext) -> Any:
    """day, num: the metric's numerator over the records in scope, per local date of its date field."""
    table = stream_table(metric.stream)
    num, _den = terms(table, metric, ctx)  # count and sum have no denominator
    day = local_date(table.c[date_field(metric)], ctx)
    rows = (
        select(day.label("day"), num.label("num")).where(scope_clause(table, metric, period, ctx)).subquery()
    )
    total, _ = aggregates(rows.c.num, null(), metric)
    return select(rows.c.day, total.label("num")).group_by(rows.c.day)


def _as_date(value: date | str) -> date:
    """SQLite hands a computed local date back as ISO text when it cannot type it."""
    return value if isinstance(value, date) else date.fromisoformat(value)
