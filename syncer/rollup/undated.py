"""Records a key result skips, counted rather than silently dropped.

Two kinds:
- records without the key result's date field (below);
- for `avg_days`, records whose span ends before it starts (a deal closed before it was
  created: logged after the fact, or migrated). They count everywhere else; a negative number
  of days is no duration, so the average leaves them out (`rollup.metrics.terms`) and
  `count_backwards` says how many ("skipped: 2 records with close_date before created_at").

A record without the metric's date (a deal with no close date, a call with no timestamp)
belongs to no period, so no key result over that date counts it; it may well count for
another metric, so it is not quarantined. This side report says, per key result, how many
records in its scope were skipped that way ("skipped: 3 records without close_date").

One statement per stream and date field, with one conditional count per key result, over the
records whose date is NULL (the date columns are indexed, so this reads only those records).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import and_, case, false, func, literal, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from syncer.config.models import AvgDaysMetric, ManualMetric, Metric, Settings
from syncer.config.object_streams import pulls
from syncer.rollup.expressions import SqlContext, day_difference, prepare_connection
from syncer.rollup.metrics import counted, date_field, stream_table
from syncer.rollup.stream_tables import stream_scope


@dataclass(frozen=True, slots=True)
class Undated:
    """How many records in a key result's scope have no value in its date field."""

    objective: str
    key_result: str
    field: str
    records: int
    why: str = ""  # what is wrong with them; default: "without <field>"

    @property
    def note(self) -> str:
        plural = "" if self.records == 1 else "s"
        return f"skipped: {self.records} record{plural} {self.why or 'without ' + self.field}"


@dataclass(frozen=True, slots=True)
class _Wanted:
    objective: str
    key_result: str
    metric: Metric
    sources: tuple[str, ...]


def count_undated(session: Session, settings: Settings) -> list[Undated]:
    """Per key result (YAML order), the records its date field leaves out; reads the store only."""
    prepare_connection(session)  # local dates and numbers in SQLite call Python functions
    ctx = SqlContext(dialect=session.get_bind().dialect.name, zone=settings.zone)
    groups: dict[tuple[str, str], list[_Wanted]] = defaultdict(list)
    for objective in settings.objectives:
        for kr in objective.key_results:
            metric = kr.metric
            if isinstance(metric, ManualMetric):  # its value is a check-in: no record, no date field
                continue
            sources = tuple(name for name, s in settings.sources.items() if pulls(s, metric.stream))
            groups[(metric.stream, date_field(metric))].append(
                _Wanted(objective.key, kr.key, metric, sources)
            )
    found: dict[tuple[str, str], Undated] = {}
    for (stream, field), wanted in groups.items():
        table = stream_table(stream)
        counts: list[ColumnElement[int]] = []
        for item in wanted:
            scope: list[ColumnElement[bool]] = [table.c.source.in_(item.sources)]
            extra = counted(table, item.metric, ctx)
            if extra is not None:
                scope.append(extra)
            counts.append(func.count(case((and_(*scope), literal(1)))))
        row = session.execute(
            select(*counts).where(table.c.deleted == false(), *stream_scope(table), table.c[field].is_(None))
        ).one()
        for item, records in zip(wanted, row, strict=True):
            found[(item.objective, item.key_result)] = Undated(
                item.objective, item.key_result, field, int(records)
            )
    return [
        found[(objective.key, kr.key)]
        for objective in settings.objectives
        for kr in objective.key_results
        if not isinstance(kr.metric, ManualMetric)
    ]


def count_backwards(session: Session, settings: Settings) -> list[Undated]:
    """Per `avg_days` key result, the records in scope whose `to` is before their `from`.

    Over every stored record in scope, like `count_undated` (the periods are not applied).
    """
    prepare_connection(session)  # local dates and numbers in SQLite call Python functions
    ctx = SqlContext(dialect=session.get_bind().dialect.name, zone=settings.zone)
    found: list[Undated] = []
    for objective in settings.objectives:
        for kr in objective.key_results:
            metric = kr.metric
            if not isinstance(metric, AvgDaysMetric):
                continue
            table = stream_table(metric.stream)
            sources = tuple(name for name, s in settings.sources.items() if pulls(s, metric.stream))
            span = day_difference(table.c[metric.to], table.c[metric.from_], ctx)
            scope = [table.c.deleted == false(), *stream_scope(table), table.c.source.in_(sources), span < 0]
            extra = counted(table, metric, ctx)
            records = session.execute(
                select(func.count()).where(*scope, *([extra] if extra is not None else []))
            ).scalar_one()
            why = f"with {metric.to} before {metric.from_} (left out of the average)"
            found.append(Undated(objective.key, kr.key, metric.to, int(records), why))
    return found
