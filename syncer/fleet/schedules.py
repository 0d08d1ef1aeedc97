"""Celery beat entries: one per org and source, on that source's own `schedule`.

The schedule is read as `okrsync serve` reads it (`syncer.serve.scheduler.build_trigger`: an
interval or a cron line in the org's `timezone`, with the same jitter), so an org moved from
`serve` to a fleet keeps its timing. As with `serve`, every source runs once when beat starts,
then on its trigger. A cycle not started within one period expires in the queue: the next one
is already on its way, and a backlog of missed cycles would only run the same work again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from celery.schedules import BaseSchedule

from syncer.config.sources import Schedule
from syncer.fleet.fleet_file import Fleet
from syncer.serve.scheduler import build_trigger, describe_schedule

CYCLE_TASK = "okrsync.fleet.cycle"
# Entries start as if last run long ago: due at once, like `serve`'s first run.
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


class SourceSchedule(BaseSchedule):  # type: ignore[misc]  # celery ships no type hints
    """A beat schedule driven by the APScheduler trigger `serve` would use for the same source."""

    def __init__(
        self,
        schedule: Schedule,
        zone: ZoneInfo,
        *,
        app: Any = None,
        nowfun: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(nowfun=nowfun, app=app)
        self.schedule = schedule
        self.trigger: BaseTrigger
        self.trigger, self.period = build_trigger(schedule, zone=zone, now=datetime.now(zone))
        # The jittered fire time that follows each last run, drawn once: beat asks again and again.
        self._due: dict[datetime, datetime] = {}

    def _after(self, moment: datetime) -> datetime:
        if moment not in self._due:
            self._due = {moment: self.trigger.get_next_fire_time(moment, moment)}
        return self._due[moment]

    def is_due(self, last_run_at: datetime) -> tuple[bool, float]:
        """(due now, seconds until beat should ask again), as celery.schedules.schedule answers."""
        now = self.now()
        due_at = self._after(last_run_at)
        if now >= due_at:
            following = self.trigger.get_next_fire_time(now, now)
            return True, max((following - now).total_seconds(), 0.0)
        return False, (due_at - now).total_seconds()

    def remaining_estimate(self, last_run_at: datetime) -> timedelta:
        remaining: timedelta = self._after(last_run_at) - self.now()
        return max(remaining, timedelta(0))

    def __repr__(self) -> str:
        return f"<{describe_schedule(self.schedule)}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SourceSchedule) and other.schedule == self.schedule

    def __hash__(self) -> int:
        return hash(repr(self))


def beat_schedule(fleet: Fleet, *, app: Any = None) -> dict[str, dict[str, Any]]:
    """Celery's `beat_schedule`: `ORG.SOURCE` → a cycle of that source, on its schedule."""
    entries: dict[str, dict[str, Any]] = {}
    for org in fleet.orgs.values():
        zone = ZoneInfo(org.settings.timezone)
        for source_name, source in org.settings.sources.items():
            schedule = SourceSchedule(source.schedule, zone, app=app)
            entries[f"{org.name}.{source_name}"] = {
                "task": CYCLE_TASK,
                "schedule": schedule,
                "args": (org.name, [source_name]),
                "options": {"queue": fleet.queue, "expires": max(schedule.period.total_seconds(), 1.0)},
                "last_run_at": LONG_AGO,
            }
    return entries


def schedule_lines(fleet: Fleet) -> list[str]:
    """What `okrsync fleet beat` prints at start: each org's sources and their schedules."""
    return [
        f"  {org.name}.{name}: {describe_schedule(source.schedule)}"
        for org in fleet.orgs.values()
        for name, source in org.settings.sources.items()
    ]
