"""Deal pipelines and their stages, kept between runs and read again only when due or wrong.

Deals map to won/closed and renewals to renewed/churned through the portal's stage metadata
(`GET /crm/v3/pipelines/deals`, docs/crm-apis.md §3.5). That API cannot say what changed since a
time, so a copy kept in the engine's store (`contract.MetadataCache`) is trusted for `every` (the
source's `deletes_every`, README) from the cycle that read it. It is read again sooner when it
cannot be right: a first or full pull, a configured pipeline it does not name, or a deal in a
pipeline or stage it does not hold. The portal is asked at most once per connector (one run).

A copy is dated by the cycle that read it (the pull's `until`), not by the wall clock, so the
interval runs on the same clock as the cursors and the archived sweep.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from connectors.hubspot import mapping
from connectors.hubspot.mapping import Pipelines, StreamPlan
from syncer.contract import CachedMetadata, MetadataCache

KEY = "deal pipelines"  # this source's key in the metadata cache


class StageMetadata:
    """The deal pipelines one connector maps with: a kept copy, or the portal's answer of this run."""

    def __init__(self, fetch: Callable[[], Any], cache: MetadataCache | None, *, every: timedelta) -> None:
        self._fetch = fetch  # one `GET /crm/v3/pipelines/deals`, its JSON body
        self._cache = cache
        self._every = every
        self._current: Pipelines | None = None
        self._as_of: datetime | None = None  # the cycle that read the copy in use
        self._unkept: Any = None  # read in this run and not yet kept (no cycle to date it yet)
        self.fresh = False  # the copy in use is the portal's answer of this run

    def current(self) -> Pipelines:
        """The copy in use: the kept one if there is one, else the portal's (read now)."""
        if self._current is not None:
            return self._current
        kept = self._kept()
        if kept is None:
            return self.refresh()
        self._current = kept
        return kept

    def refresh(self) -> Pipelines:
        """The portal's pipelines, read in this run (once: later calls return that answer)."""
        if not self.fresh:
            raw = self._fetch()
            self._current, self._unkept, self._as_of, self.fresh = mapping.to_pipelines(raw), raw, None, True
        assert self._current is not None
        return self._current

    def for_pull(self, until: datetime, *, full: bool) -> Pipelines:
        """The copy a pull up to `until` maps with: read again on a full pull or once `every` has
        passed since the kept copy's cycle; a copy read in this run is kept, dated `until`."""
        current = self.current()
        if not self.fresh and (full or self._as_of is None or until - self._as_of >= self._every):
            current = self.refresh()
        self.keep(until)
        return current

    def keep(self, until: datetime) -> None:
        """Keep the answer read in this run for later runs, as current at the cycle `until`."""
        if self._unkept is None:
            return
        if self._cache is not None:
            self._cache.put(KEY, CachedMetadata(body=json.dumps(self._unkept), as_of=until))
        self._unkept, self._as_of = None, until

    def _kept(self) -> Pipelines | None:
        entry = self._cache.get(KEY) if self._cache is not None else None
        if entry is None:
            return None
        try:
            raw = json.loads(entry.body)
        except ValueError:  # not ours, or cut short: read the portal instead
            return None
        self._as_of = entry.as_of
        return mapping.to_pipelines(raw)


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
