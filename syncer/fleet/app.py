"""The fleet's Celery app: the broker, one queue, and the cycle task.

Delivery (README "Deployment", "One org or many"):
- Tasks are acknowledged late (`task_acks_late`) and rejected back to the queue when their worker
  dies (`task_reject_on_worker_lost`), and a worker takes one task per free thread
  (`worker_prefetch_multiplier = 1`). A worker killed mid-cycle leaves its task unacknowledged:
  RabbitMQ hands it to another worker as soon as the connection drops; Redis after
  `redelivery_after`. The rerun is exact because a cycle resumes from the store's cursors and
  diffs against its ledger: what the killed cycle committed is not pulled or written twice, and
  a write the CRM took but the ledger never heard of is sent again with the same value.
- Workers run cycles on threads in one process (`pool=threads`). A cycle waits on CRMs and the
  database far more than it computes, and a lease names its holder's process: a SIGKILLed worker
  takes its cycles with it, and the redelivered task on this host sees the holder gone and takes
  the lease over at once (`lease.is_orphaned`). Scale out with more worker processes or hosts.
- A task that finds its org's lease held is skipped (another cycle of the org is running, and
  will do the work). A redelivered one is deferred instead, up to LEASE_RETRIES times, by a third
  of the lease's lifetime: its first delivery died with a worker on another host, whose lease
  expires by itself (`lease.LEASE_TTL`).
- No result backend: each cycle records itself in its org's store (`runs`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from celery import Celery, Task

from syncer.errors import LeaseHeldError
from syncer.fleet.fleet_file import Fleet
from syncer.fleet.org_cycles import OrgCycles, UnknownOrgError
from syncer.fleet.schedules import CYCLE_TASK
from syncer.store.lease import LEASE_TTL

log = logging.getLogger(__name__)

LEASE_RETRIES = 4  # × a third of LEASE_TTL: longer than a dead holder's lease lasts


def build_app(fleet: Fleet, cycles: OrgCycles | None = None) -> Celery:
    """The app `beat`, `send` and `worker` share; only a worker passes `cycles` (what runs a task)."""
    app = Celery("okrsync-fleet", set_as_current=False)
    app.conf.update(
        broker_url=fleet.broker,
        broker_connection_retry_on_startup=True,
        task_default_queue=fleet.queue,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        timezone="UTC",
        enable_utc=True,
        worker_hijack_root_logger=False,  # okrsync's JSON log lines, secrets masked (syncer/logs.py)
        worker_redirect_stdouts=False,
        worker_send_task_events=False,
        beat_scheduler="celery.beat:Scheduler",  # in memory: beat runs on a read-only filesystem
    )
    if fleet.broker_is_redis:
        after = fleet.redelivery_after.total_seconds()
        app.conf.broker_transport_options = {
            "visibility_timeout": after,
            # kombu looks for overdue tasks every interval × throttle seconds (100 s by default):
            # look every fifth of `redelivery_after` (1 to 10 s), so a redelivery is not late by more.
            "unacked_restore_interval": max(1.0, min(10.0, after / 5)),
            "unacked_restore_throttle": 1,
        }
    if cycles is not None:
        _register_cycle_task(app, cycles)
    return app


def _register_cycle_task(app: Celery, cycles: OrgCycles) -> None:
    @app.task(
        name=CYCLE_TASK, bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=LEASE_RETRIES
    )  # type: ignore[untyped-decorator]
    def cycle(task: Task, org: str, sources: Sequence[str] | None = None) -> str:
        try:
            return cycles.run(org, sources)
        except UnknownOrgError as exc:  # a fleet file out of step with beat's: said once, not retried
            log.error("cycle refused", extra={"org": org, "error": str(exc)})
            return "unknown_org"
        except LeaseHeldError as exc:
            redelivered = bool((task.request.delivery_info or {}).get("redelivered"))
            if (redelivered or task.request.retries) and task.request.retries < LEASE_RETRIES:
                log.info("cycle deferred", extra={"org": org, "reason": str(exc)})
                cycles.telemetry.record_skipped(org, "deferred")
                raise task.retry(countdown=LEASE_TTL.total_seconds() / 3) from None
            log.info("cycle skipped", extra={"org": org, "reason": str(exc)})
            cycles.telemetry.record_skipped(org, "lease_held")
            return "skipped"


def send_cycles(app: Celery, fleet: Fleet, orgs: Sequence[str]) -> list[tuple[str, Any]]:
    """Queue one cycle of each org now (`okrsync fleet send`); (org, task id) pairs."""
    return [(org, app.send_task(CYCLE_TASK, args=(org, None), queue=fleet.queue).id) for org in orgs]
