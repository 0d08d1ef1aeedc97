"""What the status page, the report and `okrsync status` show, read from the store.

`collect_status` reads it; `syncer.views.status_html` and `syncer.views.console` only format it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from syncer import staleness
from syncer.config.models import KeyResult, Objective, Settings
from syncer.rollup.burn_up import BURN_UP_KINDS, daily_running_total
from syncer.rollup.scoring import CUMULATIVE_KINDS, objective_scores, progress_start
from syncer.staleness import StaleKeyResult
from syncer.store import snapshots
from syncer.store.ledger import FailedWrite, failed_writes
from syncer.store.runs import RunInfo, recent
from syncer.values import KeyResultValue
from syncer.views import stale_key_results, units
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

    @property
    def pace_from(self) -> Decimal | None:
        """Where the chart's pace line starts: 0 for a count or sum, none for a rate or average.

        A running total starts each period at 0 whichever way it should go, so its pace runs from
        0 to the target; a rate or an average has no straight path from any start value.
        """
        return Decimal(0) if self.cumulative else None


@dataclass(frozen=True, slots=True)
class ObjectiveStatus:
    key: str
    title: str
    score: float | None
    key_results: Sequence[KeyResultStatus]


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


def collect_status(session: Session, settings: Settings, *, now: datetime) -> Status:
    """Read the latest values, chart series, recent runs and failed writes from the store."""
    today = now.astimezone(settings.zone).date()
    values = snapshots.latest_values(session)
    stale = staleness.load_stale(session, settings)
    scores = {s.objective: s.score for s in objective_scores(values, settings)}
    objectives = [
        ObjectiveStatus(
            key=objective.key,
            title=objective.title or objective.key,
            score=scores.get(objective.key),
            key_results=_key_results(session, settings, objective, values, stale=stale, today=today),
        )
        for objective in settings.objectives
    ]
    return Status(
        generated_at=now,
        objectives=objectives,
        runs=recent(session, limit=RECENT_RUNS),
        failed_writes=failed_writes(session, limit=50),
        quarantine=collect_quarantine(session, settings),
        stale=stale,
        today=today,
    )


def _key_results(
    session: Session,
    settings: Settings,
    objective: Objective,
    values: Sequence[KeyResultValue],
    *,
    stale: Sequence[StaleKeyResult] = (),
    today: date,
) -> list[KeyResultStatus]:
    found = []
    for kr in objective.key_results:
        mine = [v for v in values if v.objective == objective.key and v.key_result == kr.key]
        total = next((v for v in mine if v.is_total), None)
        if total is None:  # not computed yet (no cycle since it was added to the YAML)
            continue
        weeks = snapshots.weekly_series(session, objective.key, kr.key, zone=settings.zone)
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
                cumulative=kr.metric.kind in CUMULATIVE_KINDS,
                burn_up=_burn_up(session, settings, kr, total, today=today),
            )
        )
    return found


def _burn_up(
    session: Session, settings: Settings, kr: KeyResult, total: KeyResultValue, *, today: date
) -> list[tuple[date, Decimal | None]]:
    """The running total per day, or [] when the key result has none or it would contradict the
    value shown above the chart (which is the last cycle's: see KeyResultStatus)."""
    if kr.metric.kind not in BURN_UP_KINDS or total.value is None:
        return []
    days = daily_running_total(session, settings, kr.metric, total.period, today=today)
    return days if days and days[-1][1] == total.value else []
