"""Unknown is not zero: which key results read data that did not arrive.

A key result reads its metric's stream from every source that pulls that stream, narrowed by a
`source` entry in the metric's filters. When one of those streams has never completed a pull,
or its last pull failed (auth refused, retries exhausted, stream refused, interrupted…), the key
result is stale: the cycle neither snapshots nor writes it, so its CRM fields keep their last good
values, and `okrsync status`, the report, the page and `/metrics` show it with the source and why.

"Failed this cycle" is the stream's last known state: a cycle that pulls the source records it
(see `record_stream_status`); `okrsync run --only rollup|push` and `--source NAME` judge the
streams they do not pull by their last pull.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from syncer.config.models import (
    Comparison,
    Filter,
    FilterValue,
    KeyResult,
    ManualMetric,
    RatioMetric,
    Settings,
)
from syncer.config.object_streams import pulls
from syncer.errors import StoreError
from syncer.store import stream_status
from syncer.store.database import Store
from syncer.store.stream_status import StreamState
from syncer.store.transaction import transaction
from syncer.values import KeyResultValue

log = logging.getLogger(__name__)

NEVER_PULLED = "never_pulled"  # the stream has no completed pull yet (a fresh store, a new source)
PULL_FAILED = "pull_failed"  # the stream's last pull stopped with an error


@dataclass(frozen=True, slots=True)
class StaleKeyResult:
    """One key result that cannot be trusted because of one stream of one source."""

    objective: str
    key_result: str
    source: str
    stream: str
    reason: str  # NEVER_PULLED or PULL_FAILED
    error: str | None  # the pull's error, for PULL_FAILED
    last_good_at: datetime | None  # the stream's last completed pull

    @property
    def key(self) -> str:
        return f"{self.objective}.{self.key_result}"

    @property
    def explanation(self) -> str:
        """One line: which stream, why, and since when the data is good."""
        why = "has never completed a pull" if self.reason == NEVER_PULLED else f"pull failed: {self.error}"
        since = f" (last good pull {self.last_good_at:%Y-%m-%d %H:%M} UTC)" if self.last_good_at else ""
        return f"{self.source} {self.stream} {why}{since}"


def record_stream_status(
    store: Store, source: str, errors: Mapping[str, str | None], *, now: datetime, failing: bool = False
) -> None:
    """File each stream of one source's pull: `errors` maps it to None (completed) or its error.

    With `failing` an exception is on its way up: a store that cannot take the record is
    logged, not raised, so the first error is the one reported.
    """

    def work(session: Session) -> None:  # keyed by source and stream: filing twice is filing once
        for stream, error in errors.items():
            if error is None:
                stream_status.mark_completed(session, source, stream, now=now)
            else:
                stream_status.mark_failed(session, source, stream, error, now=now)

    try:
        transaction(store, work)
    except StoreError as exc:
        if not failing:
            raise
        log.error("stream status not recorded", extra={"source": source, "error": type(exc).__name__})


def record_unpulled(
    store: Store, settings: Settings, sources: Iterable[str], errors: Sequence[str], *, now: datetime
) -> None:
    """File every stream of `sources` as failed: the cycle could not pull them (their connection
    was refused before the pull began); each gets its source's error from `errors`."""
    for source in sorted(sources):
        error = next((e for e in errors if e.startswith(f"{source}: ")), f"{source}: not pulled")
        record_stream_status(store, source, dict.fromkeys(settings.sources[source].streams, error), now=now)


def reading_sources(settings: Settings, kr: KeyResult) -> list[str]:
    """The sources whose stream `kr` reads: those pulling it, narrowed by `source` filters.
    None for a manual key result: its value is a check-in, not a stream's (see syncer.store.checkins)."""
    metric = kr.metric
    if isinstance(metric, ManualMetric):
        return []
    names = [n for n, source in settings.sources.items() if pulls(source, metric.stream)]
    names = [n for n in names if _admits(metric.where, n)]
    if isinstance(metric, RatioMetric):  # read: where ∧ (numerator ∨ denominator)
        names = [n for n in names if _admits(metric.numerator, n) or _admits(metric.denominator, n)]
    return names


def find_stale(settings: Settings, states: Mapping[tuple[str, str], StreamState]) -> list[StaleKeyResult]:
    """Every (key result, untrusted stream) pair, in YAML order."""
    found: list[StaleKeyResult] = []
    for objective in settings.objectives:
        for kr in objective.key_results:
            if isinstance(kr.metric, ManualMetric):  # read from check-ins, never from a stream
                continue
            for source in reading_sources(settings, kr):
                state = states.get((source, kr.metric.stream))
                if state is None or not state.is_trusted:
                    found.append(_stale(objective.key, kr, source, state, kr.metric.stream))
    return found


def load_stale(session: Session, settings: Settings) -> list[StaleKeyResult]:
    """The stale key results as the store knows them now."""
    return find_stale(settings, stream_status.load_states(session))


def without_stale(
    values: Iterable[KeyResultValue], stale: Collection[StaleKeyResult]
) -> list[KeyResultValue]:
    """`values` minus every value (total and groups) of a stale key result."""
    keys = {(s.objective, s.key_result) for s in stale}
    return [v for v in values if (v.objective, v.key_result) not in keys]


def summary(stale: Sequence[StaleKeyResult]) -> str:
    """One line for the run record and the terminal."""
    keys = list(dict.fromkeys(s.key for s in stale))
    streams = list(dict.fromkeys(s.explanation for s in stale))
    return f"{len(keys)} key results stale, not written ({', '.join(keys)}): {'; '.join(streams)}"


def _stale(
    objective: str, kr: KeyResult, source: str, state: StreamState | None, stream: str
) -> StaleKeyResult:
    never = state is None or (state.completed_at is None and state.error is None)
    return StaleKeyResult(
        objective=objective,
        key_result=kr.key,
        source=source,
        stream=stream,
        reason=NEVER_PULLED if never else PULL_FAILED,
        error=None if state is None else state.error,
        last_good_at=None if state is None else state.completed_at,
    )


def _admits(where: Filter, source: str) -> bool:
    """Whether a record of `source` can pass the filter's `source` entry (no entry: yes)."""
    value = where.get("source")
    return True if "source" not in where else _matches(value, source)


def _matches(value: FilterValue, source: str) -> bool:
    if isinstance(value, Comparison):
        return _compares(value, source)
    if isinstance(value, list):
        return any(item is not None and str(item) == source for item in value)
    return value is not None and str(value) == source


def _compares(comparison: Comparison, source: str) -> bool:
    bounds = {"gt": comparison.gt, "gte": comparison.gte, "lt": comparison.lt, "lte": comparison.lte}
    tests = {
        "gt": lambda b: source > b,
        "gte": lambda b: source >= b,
        "lt": lambda b: source < b,
        "lte": lambda b: source <= b,
    }
    for name, bound in bounds.items():
        if bound is not None and not tests[name](str(bound)):
            return False
    if "not_" in comparison.model_fields_set:
        excluded = comparison.not_ if isinstance(comparison.not_, list) else [comparison.not_]
        return source not in {str(item) for item in excluded if item is not None}
    return True
