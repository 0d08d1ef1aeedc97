"""compute_key_results: periods → SQL measurements → scored key-result values.

Values are quantized after measuring (see `metrics.value_quantum`) and before scoring, so
progress, status and what write-back sends all agree with the number shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from syncer.config.crm_targets import CrmTarget
from syncer.config.models import KeyResult, ManualMetric, Metric, Objective, Settings
from syncer.config.object_streams import pulls
from syncer.rollup import crm_goals, scoring
from syncer.rollup.expressions import SqlContext
from syncer.rollup.measure import measure
from syncer.rollup.metrics import FINE, Measurement, MetricQuery, Request, goal_quantum, value_quantum
from syncer.rollup.periods import elapsed_share, previous_period, resolve_period
from syncer.store import checkins, closed_periods
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
    frozen = closed_periods.values(session)  # a frozen period is a baseline as it was frozen
    scored: list[_Scoring] = []
    requests: list[Request] = []  # per key result: this period, then the baseline's if measured
    for objective in settings.objectives:
        period = resolve_period(
            objective.period, now=now, zone=ctx.zone, fiscal_year_start_month=settings.fiscal_year_start_month
        )
        frame = _Frame(objective, period, elapsed_share(period, now, ctx.zone), now)
        for kr in objective.key_results:
            scored.append(_Scoring(kr, frame))
            if isinstance(kr.metric, ManualMetric):  # its check-ins, read below: nothing to measure
                continue
            query = MetricQuery(kr.metric, ctx, _pulling_sources(settings, kr.metric), settings.teams)
            requests.append(Request(query, period, kr.group_by))
            if kr.baseline == "previous_period" and not _kept(frozen, frame, kr):
                requests.append(Request(query, previous_period(period), kr.group_by))
    measured = iter(measure(session, requests, connections=connections))
    values: list[KeyResultValue] = []
    for item in scored:
        if isinstance(item.kr.metric, ManualMetric):
            values.extend(_manual_values(session, item))
            continue
        current = next(measured)
        previous = Measurement(total=None, groups={})
        kept = _kept(frozen, item.frame, item.kr)
        if item.kr.baseline == "previous_period" and kept:  # README "Closing a period"
            previous = _frozen_baseline(kept, item.kr)
        elif item.kr.baseline == "previous_period":
            # A baseline is shown as a value is; relative targets start from the number shown.
            previous = _rounded(next(measured), item.kr)
        values.extend(_key_result_values(item, current, previous, _crm_goals(session, settings, item)))
    return values


def _crm_goals(session: Session, settings: Settings, item: _Scoring) -> crm_goals.CrmGoals | None:
    """The CRM's targets of a key result with `target: {from: crm_quota | crm_goal}` (else None)."""
    if not isinstance(item.kr.target, CrmTarget):
        return None
    return crm_goals.load_goals(session, settings, item.frame.objective.key, item.kr, item.frame.period)


def _kept(
    frozen: Mapping[tuple[str, Period], list[KeyResultValue]], frame: _Frame, kr: KeyResult
) -> list[KeyResultValue]:
    """`kr`'s frozen values of the period before the frame's (none: that period is not frozen)."""
    kept = frozen.get((frame.objective.key, previous_period(frame.period)), [])
    return [v for v in kept if v.key_result == kr.key]


def _frozen_baseline(kept: list[KeyResultValue], kr: KeyResult) -> Measurement:
    """Last period's frozen total and groups of `kr` (none for a group it had no value in)."""
    total = next((v.value for v in kept if v.is_total), None)
    return Measurement(total, {v.group_key: v.value for v in kept if v.group_kind == kr.group_by})


def _pulling_sources(settings: Settings, metric: Metric) -> tuple[str, ...]:
    return tuple(name for name, source in settings.sources.items() if pulls(source, metric.stream))


def _manual_values(session: Session, item: _Scoring) -> list[KeyResultValue]:
    """A manual key result's total and reps, each its latest check-in of this period
    (`syncer.store.checkins`), scored like any value. One without a check-in gets no value at
    all, so it is neither snapshotted nor written: unknown, not zero (as a stale source's)."""
    kr, frame = item.kr, item.frame
    checked = checkins.current_values(session, frame.objective.key, kr.key, frame.period)
    # config.rules: a manual key result grouped by owner lists its reps in owner_targets.
    reps = (
        {email.strip().lower() for email in kr.owner_targets} if isinstance(kr.owner_targets, dict) else set()
    )
    groups: dict[str, Decimal | None] = (
        {rep: checked.get(rep) for rep in reps} if kr.group_by == "owner" else {}
    )
    values = _key_result_values(item, Measurement(checked.get(""), groups), Measurement(None, {}))
    return [value for value in values if value.value is not None]


def _key_result_values(
    item: _Scoring, current: Measurement, previous: Measurement, crm: crm_goals.CrmGoals | None = None
) -> list[KeyResultValue]:
    kr = item.kr
    total = scoring.total_goal(kr, previous.total)
    total = _quantized(kr, crm.total_goal(total) if crm else total)
    direction = crm.direction if crm else scoring.direction(kr, total)
    values = [_scored(item, direction, (TOTAL, ""), current.total, total)]
    for key, value in sorted(current.groups.items()):
        group = (kr.group_by or TOTAL, key)
        before, owners = previous.groups.get(key), len(current.groups)
        goal = scoring.group_goal(kr, total, group, previous=before, owners=owners)
        goal = scoring.stretched(kr, total, group, goal, previous=before, owners=owners)
        goal = crm.group_goal(group, goal) if crm else goal
        values.append(_scored(item, direction, group, value, _quantized(kr, goal)))
    return values


def _value_quantum(kr: KeyResult) -> Decimal:
    """A checked-in number keeps six places, like a rate (`metrics.value_quantum` for the rest)."""
    return FINE if isinstance(kr.metric, ManualMetric) else value_quantum(kr.metric)


def _rounded(measurement: Measurement, kr: KeyResult) -> Measurement:
    quantum = _value_quantum(kr)
    groups = {key: scoring.quantize(value, quantum) for key, value in measurement.groups.items()}
    return Measurement(total=scoring.quantize(measurement.total, quantum), groups=groups)


def _quantized(kr: KeyResult, goal: scoring.Goal) -> scoring.Goal:
    """Targets (and numeric or split baselines) to cents for money, six places otherwise."""
    quantum = FINE if isinstance(kr.metric, ManualMetric) else goal_quantum(kr.metric)
    measured = kr.baseline == "previous_period"
    baseline = goal.baseline if measured else scoring.quantize(goal.baseline, quantum)
    return scoring.Goal(
        baseline, scoring.quantize(goal.target, quantum), scoring.quantize(goal.stretch, quantum)
    )


def _scored(
    scored: _Scoring, direction: Direction, group: tuple[str, str], raw: Decimal | None, goal: scoring.Goal
) -> KeyResultValue:
    kr, frame = scored.kr, scored.frame
    quantum = _value_quantum(kr)
    value = scoring.quantize(raw, quantum)
    start = scoring.progress_start(kr.metric.kind, direction, goal.baseline)
    grade = scoring.grade(
        value,
        start=start,
        target=goal.target,
        direction_=direction,
        expected=frame.expected,
        stretch=goal.stretch,
        type_=scoring.okr_type(frame.objective, kr),
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
        confidence=kr.confidence,
    )
