"""compute_key_results: periods → SQL measurements → scored key-result values.

Values are quantized after measuring (see `metrics.value_quantum`) and before scoring, so
progress, status and what write-back sends all agree with the number shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from syncer.config.models import KeyResult, Objective, Settings
from syncer.rollup import scoring
from syncer.rollup.expressions import SqlContext
from syncer.rollup.measure import measure
from syncer.rollup.metrics import Measurement, MetricQuery, Request, goal_quantum, value_quantum
from syncer.rollup.periods import elapsed_share, previous_period, resolve_period
from syncer.values import TOTAL, Direction, KeyResultValue, Period


@dataclass(frozen=True, slots=True)
class _Frame:
    """What every key result of one objective shares."""

    objective: Objective
    period: Period
    expected: float
    now: datetime


@dataclass(frozen=True, slots=True)
class _Scoring:
    """One key result within its objective's frame."""

    kr: KeyResult
    frame: _Frame


def compute_key_results(
    session: Session, settings: Settings, *, now: datetime, connections: int = 1
) -> list[KeyResultValue]:
    """Every key result's total and group values at `now`, in YAML order (total first).

    Reads the store only; `now` must be aware. Periods are resolved from `now` in the
    configured time zone and fiscal year. `connections` > 1 reads the streams side by side
    on that many connections, which see committed rows only (see `measure`).
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    ctx = SqlContext(dialect=session.get_bind().dialect.name, zone=settings.zone)
    scored: list[_Scoring] = []
    requests: list[Request] = []  # per key result: this period, then the baseline's if measured
    for objective in settings.objectives:
        period = resolve_period(
            objective.period, now=now, zone=ctx.zone, fiscal_year_start_month=settings.fiscal_year_start_month
        )
        frame = _Frame(objective, period, elapsed_share(period, now, ctx.zone), now)
        for kr in objective.key_results:
            query = MetricQuery(kr.metric, ctx, _pulling_sources(settings, kr), settings.teams)
            scored.append(_Scoring(kr, frame))
            requests.append(Request(query, period, kr.group_by))
            if kr.baseline == "previous_period":
                requests.append(Request(query, previous_period(period), kr.group_by))
    measured = iter(measure(session, requests, connections=connections))
    values: list[KeyResultValue] = []
    for item in scored:
        current = next(measured)
        previous = Measurement(total=None, groups={})
        if item.kr.baseline == "previous_period":
            # A baseline is shown as a value is; relative targets start from the number shown.
            previous = _rounded(next(measured), item.kr)
        values.extend(_key_result_values(item, current, previous))
    return values


def _pulling_sources(settings: Settings, kr: KeyResult) -> tuple[str, ...]:
    return tuple(name for name, source in settings.sources.items() if kr.metric.stream in source.streams)


def _key_result_values(item: _Scoring, current: Measurement, previous: Measurement) -> list[KeyResultValue]:
    kr = item.kr
    total = _quantized(kr, scoring.total_goal(kr, previous.total))
    direction = scoring.direction(kr, total)
    values = [_scored(item, direction, (TOTAL, ""), current.total, total)]
    for key, value in sorted(current.groups.items()):
        group = (kr.group_by or TOTAL, key)
        goal = scoring.group_goal(
            kr, total, group, previous=previous.groups.get(key), owners=len(current.groups)
        )
        values.append(_scored(item, direction, group, value, _quantized(kr, goal)))
    return values


def _rounded(measurement: Measurement, kr: KeyResult) -> Measurement:
    quantum = value_quantum(kr.metric)
    groups = {key: scoring.quantize(value, quantum) for key, value in measurement.groups.items()}
    return Measurement(total=scoring.quantize(measurement.total, quantum), groups=groups)


def _quantized(kr: KeyResult, goal: scoring.Goal) -> scoring.Goal:
    """Targets (and numeric or split baselines) to cents for money, six places otherwise."""
    quantum = goal_quantum(kr.metric)
    measured = kr.baseline == "previous_period"
    baseline = goal.baseline if measured else scoring.quantize(goal.baseline, quantum)
    return scoring.Goal(baseline, scoring.quantize(goal.target, quantum))


def _scored(
    scored: _Scoring, direction: Direction, group: tuple[str, str], raw: Decimal | None, goal: scoring.Goal
) -> KeyResultValue:
    kr, frame = scored.kr, scored.frame
    quantum = value_quantum(kr.metric)
    value = scoring.quantize(raw, quantum)
    start = scoring.progress_start(kr.metric.kind, direction, goal.baseline)
    grade = scoring.grade(
        value, start=start, target=goal.target, direction_=direction, expected=frame.expected
    )
    return KeyResultValue(
        objective=frame.objective.key,
        key_result=kr.key,
        group_kind=group[0],
        group_key=group[1],
        period=frame.period,
        value=value,
        baseline=goal.baseline,
        target=goal.target,
        direction=direction,
        progress=grade.progress,
        score=grade.score,
        expected=frame.expected,
        status=grade.status,
        projected=scoring.quantize(scoring.projected(kr.metric.kind, value, frame.expected), quantum),
        updated_at=frame.now,
        title=kr.title,
    )
