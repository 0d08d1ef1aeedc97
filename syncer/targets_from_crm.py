"""Targets the CRM holds, read every cycle (README "Targets from the CRM").

After a source's pull, each key result with `target: {from: crm_quota | crm_goal}` that reads its
targets from that source (`config.crm_target_rules.target_sources`) has them read for its current
period (`contract.TargetReads`) and stored whole (`store.crm_targets`): quotas change mid-quarter,
and the next cycle picks the change up. A read that fails is one error of the cycle (exit 1) and
leaves the targets last read; the rollup turns the stored targets into goals (`rollup.crm_goals`).

`okrsync check` reads the same targets live and lists the active reps who have none.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from syncer.config.crm_target_rules import target_sources
from syncer.config.crm_targets import CrmTarget
from syncer.config.models import KeyResult, Objective, Settings
from syncer.contract import Connector, Finding, OwnerTargets, TargetReads, TargetRequest
from syncer.errors import CrmError
from syncer.rollup.periods import resolve_period
from syncer.store import crm_targets
from syncer.store.database import Store
from syncer.store.transaction import transaction
from syncer.values import Period

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Wanted:
    objective: Objective
    kr: KeyResult
    period: Period
    request: TargetRequest

    @property
    def key(self) -> str:
        return f"{self.objective.key}.{self.kr.key}"


def wanted(settings: Settings, source: str, *, now: datetime) -> Iterator[_Wanted]:
    """The key results whose targets `source` holds, with their current period's request."""
    for objective in settings.objectives:
        for kr in objective.key_results:
            if not isinstance(kr.target, CrmTarget) or source not in target_sources(settings, kr):
                continue
            period = resolve_period(
                objective.period,
                now=now,
                zone=settings.zone,
                fiscal_year_start_month=settings.fiscal_year_start_month,
            )
            request = TargetRequest(
                kr.target.from_, period.start, period.end, kr.target.name, kr.target.forecasting_type
            )
            yield _Wanted(objective, kr, period, request)


def read_targets(
    store: Store, settings: Settings, source: str, connector: Connector, *, now: datetime
) -> list[str]:
    """Read and store the CRM targets `source` holds; the errors, one per key result that failed."""
    errors: list[str] = []
    for item in wanted(settings, source, now=now):
        if not isinstance(connector, TargetReads):
            errors.append(f"{item.key}: source `{source}` cannot read CRM targets")
            continue
        try:
            read = connector.read_targets(item.request)
        except CrmError as exc:  # the last targets read stay; the cycle reports the failure
            log.error("targets not read", extra={"source": source, "key_result": item.key, "error": str(exc)})
            errors.append(f"{item.key}: targets not read from {source}: {exc}")
            continue

        def save(session: Session, item: _Wanted = item, read: OwnerTargets = read) -> None:
            crm_targets.replace(
                session, source, item.objective.key, item.kr.key, item.period, read.amounts, read_at=now
            )

        transaction(store, save)
        log.info("targets read", extra={"source": source, "key_result": item.key, "read": read.read})
    return errors


def check_findings(settings: Settings, source: str, connector: Connector, *, now: datetime) -> list[Finding]:
    """For `okrsync check`: per key result whose targets `source` holds, what was read and the
    active reps who have no quota (they get no target, progress, score or status)."""
    items = list(wanted(settings, source, now=now))
    if not items:
        return []
    if not isinstance(connector, TargetReads):
        return [Finding("error", item.key, f"source `{source}` cannot read CRM targets") for item in items]
    reps = {
        owner.id: owner.email or owner.name or owner.id
        for page in connector.pull_owners()
        for owner in page.owners
        if owner.active
    }
    findings: list[Finding] = []
    for item in items:
        try:
            read = connector.read_targets(item.request)
        except CrmError as exc:
            findings.append(Finding("error", f"{item.key}.target", str(exc)))
            continue
        missing = sorted(reps[owner] for owner in reps.keys() - read.amounts.keys())
        period = f"{item.period.start}..{item.period.end}"
        findings.append(Finding("ok", f"{item.key}.target", f"{read.read} for {period}"))
        if missing:
            findings.append(
                Finding(
                    "warning",
                    f"{item.key}.target",
                    f"{_reps(len(missing))} no quota for {period}, so no target, progress, score or "
                    f"status: {', '.join(missing)}",
                    fix="set their quotas in the CRM, or leave them without a target",
                )
            )
    return findings


def _reps(count: int) -> str:
    return "1 active rep has" if count == 1 else f"{count} active reps have"
