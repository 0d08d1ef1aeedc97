"""Goals of a key result whose targets the CRM holds (README "Targets from the CRM").

The quotas were read from the CRM by this cycle's pull (`syncer.targets_from_crm`) into the store
(`store.crm_targets`); here they become goals, with the rollup's owners (`owner_groups`):
- a rep's target is the sum of the quotas of their CRM users (merged by e-mail, as their values
  are); a rep without a quota has no target, hence no progress, score or status;
- a team's or region's target is the sum of its active reps' quotas (none when none has one);
- the total's target is the YAML's `total:` when given, else the sum over the active reps in scope.
Only active reps of the sources the targets are read from count: a rep who left keeps their
records in the total but not their quota. Baselines are the rollup's (`scoring.group_goal`); the
direction is the YAML's, else increase (a quota is a number to reach).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from syncer.config.crm_target_rules import target_sources
from syncer.config.crm_targets import CrmTarget
from syncer.config.models import KeyResult, Settings
from syncer.rollup.owner_groups import load_owners
from syncer.rollup.scoring import Goal
from syncer.store import crm_targets
from syncer.values import Direction, Period


@dataclass(frozen=True, slots=True)
class CrmGoals:
    """The targets of one key result: the total's and each group's (owner, team or region key)."""

    total: Decimal | None
    groups: dict[tuple[str, str], Decimal]  # (group_kind, group_key) → target
    direction: Direction

    def total_goal(self, goal: Goal) -> Goal:
        """The rollup's total goal with the CRM's target (no stretch: validate refuses one)."""
        return Goal(goal.baseline, self.total)

    def group_goal(self, group: tuple[str, str], goal: Goal) -> Goal:
        return Goal(goal.baseline, self.groups.get(group))


def load_goals(
    session: Session, settings: Settings, objective: str, kr: KeyResult, period: Period
) -> CrmGoals:
    """The goals of `kr` (whose target is a CrmTarget) for `period`, from the stored quotas."""
    if not isinstance(kr.target, CrmTarget):
        raise ValueError(f"{objective}.{kr.key} has no CRM target")
    sources = set(target_sources(settings, kr))
    owners = load_owners(session, settings.teams)
    per_rep: dict[str, Decimal] = {}
    teams: dict[tuple[str, str], Decimal] = {}
    for ref, amount in crm_targets.targets_of(session, objective, kr.key, period).items():
        owner = owners.get(ref)
        if owner is None or not owner.active or ref[0] not in sources:
            continue  # not a rep in scope (filtered out of owners, left, another source)
        per_rep[owner.key] = per_rep.get(owner.key, Decimal(0)) + amount
        for kind in ("team", "region"):
            key = owner.group(kind)
            if key is not None:
                teams[(kind, key)] = teams.get((kind, key), Decimal(0)) + amount
    groups = {("owner", key): amount for key, amount in per_rep.items()} | teams
    total = sum(per_rep.values(), Decimal(0)) if per_rep else None
    if kr.target.total is not None:
        total = Decimal(str(kr.target.total))
    return CrmGoals(total, groups, kr.direction or "increase")
