"""Closing a period (README "Closing a period"): recompute an ended period for `close_after`, then
freeze its final values, and report records of a frozen period that change later (late data).

Which periods a cycle closes, per objective whose close_after is not `off`:
- a relative period (`current_quarter`, …) that just rolled over: the one before the period it
  resolves to now (after 2026-09-30, 2026-Q3 while `current_quarter` is 2026-Q4);
- the period it resolves to, once that has ended (a fixed period such as `2026-Q3`, or
  `previous_quarter`): it keeps being shown, with its frozen values once frozen;
- a period reopened on purpose (`okrsync period reopen`).
Each is recomputed every cycle until its end + close_after has passed; the first cycle after that
freezes it, unless one of its key results is stale (unknown is not zero: docs/decisions.md D3),
then it waits. A frozen period is never recomputed: its values stand for every view, for
`previous_period` baselines (`rollup/keyresults.py`) and for the `final_value` / `final_score`
write-back values, which each value of the objective carries from its latest frozen period.

Late data is counted cheaply from the pull cursors: a frozen period keeps, per source and stream,
the cursor its values were computed up to, and a record of the period's streams dated in the
period and modified at or after that cursor is late (a deal booked late, or edited, or deleted).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from syncer import currencies, staleness
from syncer.config.closing import close_after_of
from syncer.config.models import DateRange, KeyResult, ManualMetric, Objective, Settings
from syncer.rollup import compute_key_results
from syncer.rollup.expressions import SqlContext
from syncer.rollup.metrics import date_field, in_period, stream_table
from syncer.rollup.periods import add_months, previous_period, resolve_period
from syncer.rollup.scoring import objective_scores
from syncer.rollup.stream_tables import stream_scope
from syncer.staleness import StaleKeyResult
from syncer.store import closed_periods, cursors
from syncer.store.closed_periods import ClosedPeriod
from syncer.values import KeyResultValue, Period, local_midnight

Known = dict[tuple[str, Period], ClosedPeriod]


@dataclass(frozen=True, slots=True)
class PeriodState:
    """One objective's closed period as a cycle left it (or as the store holds it)."""

    objective: str
    period: Period
    label: str  # 2026-Q3, FY2027-Q1, 2026-09, 2026, or 2026-07-01..2026-09-30
    closes_at: datetime
    frozen_at: datetime | None
    late_records: int = 0
    score: float | None = None  # the objective's total scores, weighted (final once frozen)


@dataclass
class ClosingReport:
    """What a cycle did with ended periods: recomputed, frozen, and late data on frozen ones."""

    closing: list[PeriodState] = field(default_factory=list)
    frozen: list[PeriodState] = field(default_factory=list)
    late: list[PeriodState] = field(default_factory=list)

    def details(self) -> dict[str, object]:
        """For the run row: late records per "objective period", and what closed or froze."""
        return {
            "late_data": {f"{s.objective} {s.label}": s.late_records for s in self.late},
            "closing": [f"{s.objective} {s.label}" for s in self.closing],
            "frozen": [f"{s.objective} {s.label}" for s in self.frozen],
        }


# ---------------------------------------------------------------- naming periods


def period_label(period: Period, fiscal_year_start_month: int = 1) -> str:
    """How `status`, the page and `okrsync period reopen` name a period: as the YAML names it when
    it is a whole quarter or year (calendar `2026-Q3`, fiscal `FY2027-Q1`), `2026-09` for a month,
    else `start..end`."""
    months = _whole_months(period)
    start = period.start
    fiscal = fiscal_year_start_month != 1
    into_year = (start.month - fiscal_year_start_month) % 12
    if months == 1:
        return f"{start:%Y-%m}"
    if months == 3 and fiscal and into_year % 3 == 0:
        return f"FY{_fiscal_year(start, fiscal_year_start_month)}-Q{into_year // 3 + 1}"
    if months == 3 and start.month % 3 == 1:
        return f"{start.year}-Q{start.month // 3 + 1}"
    if months == 12 and fiscal and into_year == 0:
        return f"FY{_fiscal_year(start, fiscal_year_start_month)}"
    if months == 12 and start.month == 1:
        return str(start.year)
    return range_label(period)


def range_label(period: Period) -> str:
    return f"{period.start.isoformat()}..{period.end.isoformat()}"


def _fiscal_year(start: date, fiscal_year_start_month: int) -> int:
    """Named by its ending year (`syncer.rollup.periods`)."""
    return start.year + 1 if start.month >= fiscal_year_start_month else start.year


def _whole_months(period: Period) -> int:
    if period.start.day != 1 or period.day_after.day != 1:
        return 0
    months = (period.day_after.year - period.start.year) * 12 + period.day_after.month - period.start.month
    return months if add_months(period.start, months) == period.day_after else 0


# ---------------------------------------------------------------- which periods


def shown_period(settings: Settings, objective: Objective, now: datetime) -> Period:
    """The period the objective's values are of at `now` (what the rollup resolves)."""
    return resolve_period(
        objective.period,
        now=now,
        zone=settings.zone,
        fiscal_year_start_month=settings.fiscal_year_start_month,
    )


def _ended(settings: Settings, period: Period, now: datetime) -> bool:
    return now >= local_midnight(period.day_after, settings.zone)


def _closable(settings: Settings, objective: Objective, now: datetime, known: Known) -> list[Period]:
    """The objective's ended periods not frozen yet (module docstring)."""
    shown = shown_period(settings, objective, now)
    periods: list[Period] = []
    if isinstance(objective.period, str) and objective.period.startswith("current_"):
        periods.append(previous_period(shown))
    if _ended(settings, shown, now):
        periods.append(shown)
    periods += [p for (o, p) in known if o == objective.key and p not in periods]
    return [p for p in periods if not (known.get((objective.key, p)) and known[(objective.key, p)].frozen)]


def live_settings(session: Session, settings: Settings, *, now: datetime) -> Settings:
    """`settings` without the objectives whose shown period is frozen: the rollup leaves them be."""
    known = closed_periods.load(session)
    live = [
        o
        for o in settings.objectives
        if not _frozen(known, o.key, shown_period(settings, o, now)) or close_after_of(settings, o) is None
    ]
    return (
        settings
        if len(live) == len(settings.objectives)
        else settings.model_copy(update={"objectives": live})
    )


def _frozen(known: Known, objective: str, period: Period) -> bool:
    closed = known.get((objective, period))
    return closed is not None and closed.frozen


# ---------------------------------------------------------------- the cycle's step


def close_periods(
    session: Session,
    settings: Settings,
    values: Sequence[KeyResultValue],
    stale: Sequence[StaleKeyResult],
    *,
    now: datetime,
    connections: int = 1,
    save: bool = True,
) -> tuple[list[KeyResultValue], ClosingReport]:
    """The cycle's values (those of `live_settings`, scored) with frozen shown periods' values put
    back and final values attached; recomputes, stores and freezes the ended periods that are due
    (only when `save`: a push-only cycle changes nothing), and counts late data."""
    known = closed_periods.load(session)
    report = ClosingReport()
    due = [
        (objective, period, after)
        for objective in settings.objectives
        if (after := close_after_of(settings, objective)) is not None
        for period in _closable(settings, objective, now, known)
    ]
    if save and due:
        computed = _recompute(session, settings, due, values, stale, now=now, connections=connections)
        for objective, period, after in due:
            kept = computed[(objective.key, period)]
            _store(session, settings, objective, period, after, kept, stale, now=now)
        # Scored once every due period is stored: a parent's score counts its children's.
        known = closed_periods.load(session)
        scores = _scores(settings, closed_periods.values(session, frozen_only=False))
        for objective, period, _after in due:
            state = _state(settings, known[(objective.key, period)], scores)
            (report.frozen if state.frozen_at else report.closing).append(state)
    frozen = closed_periods.values(session)
    report.late = _late_data(session, settings, known, save=save)
    return _shown_values(settings, values, frozen, now), report


def _recompute(
    session: Session,
    settings: Settings,
    due: list[tuple[Objective, Period, timedelta]],
    values: Sequence[KeyResultValue],
    stale: Sequence[StaleKeyResult],
    *,
    now: datetime,
    connections: int,
) -> dict[tuple[str, Period], list[KeyResultValue]]:
    """The due periods' values: the cycle's own for a shown period, else computed here in one
    rollup (each objective pinned to the period), minus stale and mixed-currency key results."""
    found: dict[tuple[str, Period], list[KeyResultValue]] = {}
    pinned: list[Objective] = []
    for objective, period, _after in due:
        if period == shown_period(settings, objective, now):
            found[(objective.key, period)] = [v for v in values if v.objective == objective.key]
        else:
            fixed = DateRange(start=period.start, end=period.end)
            pinned.append(objective.model_copy(update={"period": fixed}))
    if pinned:
        computed = compute_key_results(
            session, settings.model_copy(update={"objectives": pinned}), now=now, connections=connections
        )
        computed, _mixed = currencies.with_currencies(
            session, settings, staleness.without_stale(computed, stale)
        )
        for value in computed:
            found.setdefault((value.objective, value.period), []).append(value)
    for objective, period, _after in due:
        found.setdefault((objective.key, period), [])
    return found


def _store(
    session: Session,
    settings: Settings,
    objective: Objective,
    period: Period,
    after: timedelta,
    kept: list[KeyResultValue],
    stale: Sequence[StaleKeyResult],
    *,
    now: datetime,
) -> None:
    closes_at = local_midnight(period.day_after, settings.zone) + after
    complete = not any(s.objective == objective.key for s in stale)
    frozen_at = now if now >= closes_at and complete else None
    through = _through(session, settings, objective) if frozen_at else {}
    closed_periods.save(
        session, ClosedPeriod(objective.key, period, closes_at, frozen_at, through), kept, now=now
    )


def _through(session: Session, settings: Settings, objective: Objective) -> dict[str, datetime]:
    """The cursors of the streams the objective reads: its values include every record before."""
    streams = {kr.metric.stream for kr in objective.key_results if not isinstance(kr.metric, ManualMetric)}
    return {
        f"{source}.{stream}": cursor.modified_at
        for (source, stream), cursor in cursors.all_cursors(session).items()
        if stream in streams
    }


def _state(
    settings: Settings, closed: ClosedPeriod, scores: dict[tuple[str, Period], float | None]
) -> PeriodState:
    return PeriodState(
        closed.objective,
        closed.period,
        period_label(closed.period, settings.fiscal_year_start_month),
        closed.closes_at,
        closed.frozen_at,
        closed.late_records,
        scores.get((closed.objective, closed.period)),
    )


def _scores(
    settings: Settings, stored: dict[tuple[str, Period], list[KeyResultValue]]
) -> dict[tuple[str, Period], float | None]:
    """Each objective's score per period over the stored values, as `objective_scores` gives it:
    its key results' total scores, weighted, and its children's of the same period when it has
    `from_children` (a parent of a company objective tree has no key results of its own). Scored
    once per period, every objective at once."""
    by_period: dict[Period, list[KeyResultValue]] = {}
    for (_objective, period), kept in stored.items():
        by_period.setdefault(period, []).extend(kept)
    return {
        (score.objective, period): score.score
        for period, values in by_period.items()
        for score in objective_scores(values, settings)
    }


def _shown_values(
    settings: Settings,
    values: Sequence[KeyResultValue],
    frozen: dict[tuple[str, Period], list[KeyResultValue]],
    now: datetime,
) -> list[KeyResultValue]:
    """In YAML order: each objective's values, or its frozen ones when its shown period is frozen,
    each with the final value and score of its latest frozen period."""
    shown: list[KeyResultValue] = []
    for objective in settings.objectives:
        period = shown_period(settings, objective, now)
        krs = {kr.key: kr for kr in objective.key_results}
        if (objective.key, period) in frozen and close_after_of(settings, objective) is not None:
            mine = [
                _titled(v, krs.get(v.key_result))
                for v in frozen[(objective.key, period)]
                if v.key_result in krs
            ]
        else:
            mine = [v for v in values if v.objective == objective.key]
        latest = max(
            (p for (o, p) in frozen if o == objective.key and p.end <= period.end),
            key=lambda p: p.end,
            default=None,
        )
        finals = {_identity(v): v for v in frozen.get((objective.key, latest), [])} if latest else {}
        shown += [_with_final(v, finals.get(_identity(v))) for v in mine]
    return shown


def _identity(value: KeyResultValue) -> tuple[str, str, str]:
    return (value.key_result, value.group_kind, value.group_key)


def _titled(value: KeyResultValue, kr: KeyResult | None) -> KeyResultValue:
    if kr is None:
        return value
    return dataclasses.replace(value, title=kr.title, confidence=kr.confidence)


def _with_final(value: KeyResultValue, final: KeyResultValue | None) -> KeyResultValue:
    if final is None:
        return value
    return dataclasses.replace(value, final_value=final.value, final_score=final.score)


# ---------------------------------------------------------------- late data


def _late_data(session: Session, settings: Settings, known: Known, *, save: bool) -> list[PeriodState]:
    """Frozen periods of the YAML's objectives with records changed since the freeze."""
    ctx = SqlContext(dialect=session.get_bind().dialect.name, zone=settings.zone)
    objectives = {o.key: o for o in settings.objectives}
    late = []
    for (key, period), closed in sorted(known.items(), key=lambda item: (item[0][0], item[0][1].start)):
        objective = objectives.get(key)
        if objective is None or not closed.frozen:
            continue
        count = _changed_since(session, objective, closed, ctx)
        if save:
            closed_periods.note_late(session, closed, count)
        if count:
            label = period_label(period, settings.fiscal_year_start_month)
            late.append(PeriodState(key, period, label, closed.closes_at, closed.frozen_at, count))
    return late


def _changed_since(session: Session, objective: Objective, closed: ClosedPeriod, ctx: SqlContext) -> int:
    """Records dated in the period (by any of the objective's date fields of their stream) and
    modified at or after the cursor the frozen values were computed up to: one count per stream
    and source, on the stream's date indexes."""
    dates: dict[str, set[str]] = {}
    for kr in objective.key_results:
        if not isinstance(kr.metric, ManualMetric):
            dates.setdefault(kr.metric.stream, set()).add(date_field(kr.metric))
    count = 0
    for key, through in closed.through.items():
        source, _, stream = key.rpartition(".")
        if stream not in dates:
            continue
        table = stream_table(stream)  # a stream name the YAML pulls
        dated = or_(*(in_period(table.c[name], closed.period, ctx) for name in sorted(dates[stream])))
        statement = select(func.count()).select_from(table)
        count += (
            session.scalar(
                statement.where(
                    table.c.source == source, *stream_scope(table), table.c.modified_at >= through, dated
                )
            )
            or 0
        )
    return count


# ---------------------------------------------------------------- reading them back


def states(session: Session, settings: Settings) -> list[PeriodState]:
    """Every closed period of the YAML's objectives as the store holds it, newest first."""
    objectives = {o.key for o in settings.objectives}
    scores = _scores(settings, closed_periods.values(session, frozen_only=False))
    found = [
        _state(settings, closed, scores)
        for closed in closed_periods.load(session).values()
        if closed.objective in objectives
    ]
    return sorted(found, key=lambda s: (-s.period.end.toordinal(), s.objective))


def find_period(text: str, known: Sequence[PeriodState]) -> Period | None:
    """The closed period `text` names: its label (2026-Q3) or `start..end`."""
    wanted = text.strip()
    for state in known:
        if wanted in (state.label, range_label(state.period)):
            return state.period
    return None
