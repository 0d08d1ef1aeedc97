"""What the status page, the report and `okrsync status` show, read from the store.

`collect_status` reads it; `syncer.views.status_html` and `syncer.views.console` only format it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal

from sqlalchemy.orm import Session

from syncer import closing, staleness
from syncer.config.models import KeyResult, ManualMetric, Objective, Settings
from syncer.rollup.burn_up import BURN_UP_KINDS, daily_running_total
from syncer.rollup.objective_tree import tree_order
from syncer.rollup.periods import local_today, resolve_period
from syncer.rollup.scoring import CUMULATIVE_KINDS, objective_scores, progress_start
from syncer.staleness import StaleKeyResult
from syncer.store import checkins, snapshots
from syncer.store.checkins import Checkin
from syncer.store.ledger import FailedWrite, failed_writes
from syncer.store.runs import RunInfo, recent
from syncer.values import KeyResultValue
from syncer.views import stale_key_results, units
from syncer.views.grading import Grading, grading_of
from syncer.views.quarantined_records import QuarantineStatus, collect_quarantine
from syncer.views.units import Unit

RECENT_RUNS = 10  # enough to see a pattern of failures without a long page


@dataclass(frozen=True, slots=True)
class KeyResultStatus:
    """A key result's total, its groups (per rep, team…), and its series for the chart.

    `burn_up` is a count or sum's running total per day (`rollup.burn_up`), empty for the other
    kinds or when it does not end at the value shown (records changed since the last cycle, or
    a stale source): the chart then draws the weekly snapshots, `weeks`.
    """

    key: str
    title: str
    total: KeyResultValue
    groups: Sequence[KeyResultValue]
    weeks: Sequence[tuple[date, Decimal | None]]
    start_value: Decimal  # where progress counts from
    stale: Sequence[StaleKeyResult] = ()  # why the value shown is not current (see syncer.staleness)
    unit: Unit = units.PLAIN
    cumulative: bool = False  # a count or sum: 0 where the period starts, growing towards the target
    burn_up: Sequence[tuple[date, Decimal | None]] = ()
    checkins: Sequence[Checkin] = ()  # this period's, newest first (values of a manual one, notes)
    grading: Grading | None = None  # its type, stretch and confidence (syncer.views.grading)

    @property
    def pace_from(self) -> Decimal | None:
        """Where the chart's pace line starts: 0 for a count or sum, none for a rate or average.

        A running total starts each period at 0 whichever way it should go, so its pace runs from
        0 to the target; a rate or an average has no straight path from any start value.
        """
        return Decimal(0) if self.cumulative else None


@dataclass(frozen=True, slots=True)
class AwaitingCheckin:
    """A manual key result with no value yet this period: unknown, not zero, until a check-in."""

    key: str  # objective.key_result, as `okrsync checkin` takes it
    title: str
    checkins: Sequence[Checkin] = ()  # notes only, or values of reps but none of the total


@dataclass(frozen=True, slots=True)
class ObjectiveStatus:
    key: str
    title: str
    score: float | None
    key_results: Sequence[KeyResultStatus]
    awaiting: Sequence[AwaitingCheckin] = ()
    # Its place in the objective tree (README "Objective tree"); `Status.objectives` is in tree order.
    depth: int = 0
    parent: str | None = None
    from_children: str | None = None  # mean or weighted: the score counts the children's
    children: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class Status:
    """Everything the status page, the report and `okrsync status` show."""

    generated_at: datetime
    objectives: Sequence[ObjectiveStatus]
    runs: Sequence[RunInfo]
    failed_writes: Sequence[FailedWrite]
    quarantine: QuarantineStatus | None = None  # quarantined and undated records
    stale: Sequence[StaleKeyResult] = ()  # key results not written: their data did not arrive
    today: date | None = None  # the local date (configured time zone) the charts mark as today
    zone: tzinfo | None = None  # the configured time zone, in which check-ins' times are shown
    closed_periods: Sequence[closing.PeriodState] = ()  # closing or frozen, with late data


def collect_status(session: Session, settings: Settings, *, now: datetime, series: bool = True) -> Status:
    """Read the latest values, chart series, recent runs and failed writes from the store.

    `series=False` leaves the charts' series out (`okrsync status` draws no chart).
    """
    today = local_today(now, settings.zone)
    values = snapshots.latest_values(session)
    stale = staleness.load_stale(session, settings)
    scores = {s.objective: s.score for s in objective_scores(values, settings)}
    checked = _checkins(session, settings, now=now)
    objectives = [
        ObjectiveStatus(
            key=objective.key,
            title=objective.title or objective.key,
            score=scores.get(objective.key),
            key_results=_key_results(
                session, settings, objective, values, stale=stale, today=today, checked=checked, series=series
            ),
            awaiting=[
                AwaitingCheckin(
                    f"{objective.key}.{kr.key}", kr.title or kr.key, checked.get((objective.key, kr.key), ())
                )
                for kr in objective.key_results
                if isinstance(kr.metric, ManualMetric) and not _has_total(values, objective.key, kr.key)
            ],
            depth=node.depth,
            parent=node.parent,
            from_children=objective.from_children,
            children=node.children,
        )
        for node in tree_order(settings.objectives)
        for objective in (node.objective,)
    ]
    return Status(
        generated_at=now,
        objectives=objectives,
        runs=recent(session, limit=RECENT_RUNS),
        failed_writes=failed_writes(session, limit=50),
        quarantine=collect_quarantine(session, settings),
        stale=stale,
        today=today,
        zone=settings.zone,
        closed_periods=closing.states(session, settings),
    )


def _key_results(
    session: Session,
    settings: Settings,
    objective: Objective,
    values: Sequence[KeyResultValue],
    *,
    stale: Sequence[StaleKeyResult] = (),
    today: date,
    checked: Mapping[tuple[str, str], Sequence[Checkin]] | None = None,
    series: bool = True,
) -> list[KeyResultStatus]:
    found = []
    for kr in objective.key_results:
        mine = [v for v in values if v.objective == objective.key and v.key_result == kr.key]
        total = next((v for v in mine if v.is_total), None)
        if total is None:  # not computed yet (no cycle since it was added to the YAML)
            continue
        burn_up = _burn_up(session, settings, kr, total, today=today) if series else []
        # Weekly snapshots draw the chart only where there is no burn-up: read them only then.
        weeks = (
            []
            if burn_up or not series
            else snapshots.weekly_series(session, objective.key, kr.key, zone=settings.zone)
        )
        found.append(
            KeyResultStatus(
                key=kr.key,
                title=kr.title or kr.key,
                total=total,
                groups=[v for v in mine if not v.is_total],
                weeks=weeks,
                start_value=progress_start(kr.metric.kind, total.direction, total.baseline),
                stale=stale_key_results.stale_of(stale, objective.key, kr.key),
                unit=units.unit_of(kr.metric.kind, total.currency),
                grading=grading_of(objective, kr, total, units.unit_of(kr.metric.kind, total.currency)),
                cumulative=kr.metric.kind in CUMULATIVE_KINDS,
                burn_up=burn_up,
                checkins=(checked or {}).get((objective.key, kr.key), ()),
            )
        )
    return found


def _checkins(session: Session, settings: Settings, *, now: datetime) -> dict[tuple[str, str], list[Checkin]]:
    """(objective, key result) → its check-ins of the period it is in now, newest first."""
    found: dict[tuple[str, str], list[Checkin]] = {}
    for objective in settings.objectives:
        period = resolve_period(
            objective.period,
            now=now,
            zone=settings.zone,
            fiscal_year_start_month=settings.fiscal_year_start_month,
        )
        for kr in objective.key_results:
            listed = checkins.history(session, objective.key, kr.key, period)
            if listed:
                found[(objective.key, kr.key)] = listed
    return found


def _has_total(values: Sequence[KeyResultValue], objective: str, key_result: str) -> bool:
    return any(v.is_total and (v.objective, v.key_result) == (objective, key_result) for v in values)


def _burn_up(
    session: Session, settings: Settings, kr: KeyResult, total: KeyResultValue, *, today: date
) -> list[tuple[date, Decimal | None]]:
    """The running total per day, or [] when the key result has none or it would contradict the
    value shown above the chart (which is the last cycle's: see KeyResultStatus)."""
    if isinstance(kr.metric, ManualMetric) or kr.metric.kind not in BURN_UP_KINDS or total.value is None:
        return []
    days = daily_running_total(session, settings, kr.metric, total.period, today=today)
    return days if days and days[-1][1] == total.value else []
