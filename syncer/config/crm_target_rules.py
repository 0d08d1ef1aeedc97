"""Cross-field rules of `target: {from: crm_quota | crm_goal}` (README "Targets from the CRM"), and
which sources hold a key result's CRM targets (the engine reads them from those: targets_from_crm).

- crm_quota reads Salesforce, crm_goal HubSpot: the key result must read a source of that CRM (its
  stream pulled there, and that source not left out by `where: {source: …}`).
- A quota is a period total: only count, sum and distinct_count key results can have one.
- Each rep's target is their own quota, so `owner_targets` does not go with it; a manual key result
  has no CRM to read it from.
"""

from __future__ import annotations

from collections.abc import Iterator

from syncer.config.crm_targets import CrmTarget
from syncer.config.models import Comparison, KeyResult, ManualMetric, Settings
from syncer.config.object_streams import pulls
from syncer.config.violations import Path, Violation

QUOTA_KINDS = ("count", "sum", "distinct_count")
CRM_NAMES = {"salesforce": "Salesforce", "hubspot": "HubSpot"}


def target_sources(settings: Settings, kr: KeyResult) -> list[str]:
    """The sources a key result with a CRM target reads its targets from, in YAML order."""
    if not isinstance(kr.target, CrmTarget) or isinstance(kr.metric, ManualMetric):
        return []
    return [name for name in _metric_sources(settings, kr) if settings.sources[name].kind == kr.target.crm]


def _metric_sources(settings: Settings, kr: KeyResult) -> list[str]:
    """Sources that pull the key result's stream, narrowed by its `where: {source: …}`."""
    if isinstance(kr.metric, ManualMetric):
        return []
    pulling = [name for name, source in settings.sources.items() if pulls(source, kr.metric.stream)]
    chosen = kr.metric.where.get("source")
    if isinstance(chosen, str):
        return [name for name in pulling if name == chosen]
    if isinstance(chosen, list):
        return [name for name in pulling if name in chosen]
    if isinstance(chosen, Comparison) and chosen.not_ is not None:
        left_out = chosen.not_ if isinstance(chosen.not_, list) else [chosen.not_]
        return [name for name in pulling if name not in left_out]
    return pulling


def check_crm_targets(settings: Settings) -> list[Violation]:
    """Every misuse of a CRM target, in file order."""
    return [
        violation
        for i, objective in enumerate(settings.objectives)
        for j, kr in enumerate(objective.key_results)
        if isinstance(kr.target, CrmTarget)
        for violation in _problems(settings, kr, kr.target, ("objectives", i, "key_results", j))
    ]


def _problems(settings: Settings, kr: KeyResult, target: CrmTarget, path: Path) -> Iterator[Violation]:
    crm = CRM_NAMES[target.crm]
    if isinstance(kr.metric, ManualMetric):
        yield Violation(
            (*path, "target"),
            f"a manual key result reads no CRM, so `from: {target.from_}` has nothing to read: write "
            "the target as a number",
        )
        return
    if not target_sources(settings, kr):
        other = "crm_goal (HubSpot goals)" if target.crm == "salesforce" else "crm_quota (Salesforce quotas)"
        read = ", ".join(f"`{name}`" for name in _metric_sources(settings, kr)) or "no source"
        yield Violation(
            (*path, "target", "from"),
            f"`from: {target.from_}` reads {crm}, but this key result reads {read}: use `from: {other}` "
            f"for that CRM, or measure a {crm} source's `{kr.metric.stream}`",
        )
    if kr.metric.kind not in QUOTA_KINDS:
        yield Violation(
            (*path, "target"),
            f"a quota is a period total, so it fits count, sum or distinct_count, not {kr.metric.kind}: "
            "write the target as a number",
        )
    if kr.owner_targets is not None:
        yield Violation(
            (*path, "owner_targets"),
            f"each rep's target is their own {crm} quota: drop `owner_targets` (to fix the total, write "
            f"`target: {{from: {target.from_}, total: 500000}}`)",
        )
