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
from syncer.config.models import Objective, Settings
from syncer.rollup.scoring import objective_scores, progress_start
from syncer.staleness import StaleKeyResult
from syncer.store import snapshots
from syncer.store.ledger import FailedWrite, failed_writes
from syncer.store.runs import RunInfo, recent
from syncer.values import KeyResultValue
from syncer.views import stale_key_results
from syncer.views.quarantined_records import QuarantineStatus, collect_quarantine

RECENT_RUNS = 10  # enough to see a pattern of failures without a long page


@dataclass(frozen=True, slots=True)
class KeyResultStatus:
    """A key result's total, its groups (per rep, team…), and its weekly series."""

    key: str
    title: str
    total: KeyResultValue
    groups: Sequence[KeyResultValue]
    weeks: Sequence[tuple[date, Decimal | None]]
    start_value: Decimal  # where progress (and the pace line) counts from
    stale: Sequence[StaleKeyResult] = ()  # why the value shown is not current (see syncer.staleness)


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


def collect_status(session: Session, settings: Settings, *, now: datetime) -> Status:
    """Read the latest values, weekly series, recent runs and failed writes from the store."""
    values = snapshots.latest_values(session)
    stale = staleness.load_stale(session, settings)
    scores = {s.objective: s.score for s in objective_scores(values, settings)}
    objectives = [
        ObjectiveStatus(
            key=objective.key,
            title=objective.title or objective.key,
            score=scores.get(objective.key),
            key_results=_key_results(session, settings, objective, values, stale=stale),
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
    )


def _key_results(
    session: Session,
    settings: Settings,
    objective: Objective,
    values: Sequence[KeyResultValue],
    *,
    stale: Sequence[StaleKeyResult] = (),
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
            )
        )
    return found
