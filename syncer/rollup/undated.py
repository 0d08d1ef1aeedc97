"""Records a key result skips because its date field is empty: counted, not silently dropped.

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

from syncer.config.models import Metric, Settings
from syncer.rollup.expressions import SqlContext
from syncer.rollup.metrics import counted, date_field, stream_table


@dataclass(frozen=True, slots=True)
class Undated:
    """How many records in a key result's scope have no value in its date field."""

    objective: str
    key_result: str
    field: str
    records: int

    @property
    def note(self) -> str:
        return f"skipped: {self.records} record{'' if self.records == 1 else 's'} without {self.field}"


@dataclass(frozen=True, slots=True)
class _Wanted:
    objective: str
    key_result: str
    metric: Metric
    sources: tuple[str, ...]


def count_undated(session: Session, settings: Settings) -> list[Undated]:
    """Per key result (YAML order), the records its date field leaves out; reads the store only."""
    ctx = SqlContext(dialect=session.get_bind().dialect.name, zone=settings.zone)
    groups: dict[tuple[str, str], list[_Wanted]] = defaultdict(list)
    for objective in settings.objectives:
        for kr in objective.key_results:
            metric = kr.metric
            sources = tuple(name for name, s in settings.sources.items() if metric.stream in s.streams)
            groups[(metric.stream, date_field(metric))].append(
                _Wanted(objective.key, kr.key, metric, sources)
            )
    found: dict[tuple[str, str], Undated] = {}
    for (stream, field), wanted in groups.items():
        table = stream_table(stream)  # type: ignore[arg-type]
        counts: list[ColumnElement[int]] = []
        for item in wanted:
            scope: list[ColumnElement[bool]] = [table.c.source.in_(item.sources)]
            extra = counted(table, item.metric, ctx)
            if extra is not None:
                scope.append(extra)
            counts.append(func.count(case((and_(*scope), literal(1)))))
        row = session.execute(
            select(*counts).where(table.c.deleted == false(), table.c[field].is_(None))
        ).one()
        for item, records in zip(wanted, row, strict=True):
            found[(item.objective, item.key_result)] = Undated(
                item.objective, item.key_result, field, int(records)
            )
    return [
        found[(objective.key, kr.key)] for objective in settings.objectives for kr in objective.key_results
    ]
