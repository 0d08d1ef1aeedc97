"""Deal pipelines and their stages, kept between runs and read again only when due or wrong.

Deals map to won/closed and renewals to renewed/churned through the portal's stage metadata
(`GET /crm/v3/pipelines/deals`, docs/crm-apis.md §3.5). The kept copy (kept.py) is read again
sooner than `every` when it cannot be right: a first or full pull, a configured pipeline it does
not name, or a deal in a pipeline or stage it does not hold.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from connectors.hubspot import mapping
from connectors.hubspot.kept import KeptAnswer
from connectors.hubspot.mapping import Pipelines, StreamPlan
from syncer.contract import MetadataCache

KEY = "deal pipelines"  # this source's key in the metadata cache


class StageMetadata(KeptAnswer[Pipelines]):
    """The deal pipelines one connector maps with: a kept copy, or the portal's answer of this run."""

    def __init__(self, fetch: Callable[[], Any], cache: MetadataCache | None, *, every: timedelta) -> None:
        super().__init__(fetch, cache, key=KEY, parse=mapping.to_pipelines, every=every)


def unknown_stages(rows: Iterable[Any], plans: Sequence[StreamPlan], pipelines: Pipelines) -> bool:
    """Whether a live deal in `rows` names a (pipeline, stage) pair `pipelines` does not hold: a
    pipeline or stage added since the copy was read. Calls name none."""
    keys = [
        (plan.fields.get("pipeline"), plan.fields.get("stage"))
        for plan in plans
        if plan.object_type == "deals"
    ]
    for row in rows:
        props = row.get("properties") if isinstance(row, Mapping) and not row.get("archived") else None
        if not isinstance(props, Mapping):
            continue
        for pipeline_property, stage_property in keys:
            pipeline = props.get(pipeline_property) if pipeline_property else None
            stage = props.get(stage_property) if stage_property else None
            named = pipeline not in (None, "") and stage not in (None, "")
            if named and (str(pipeline), str(stage)) not in pipelines.stages:
                return True
    return False
