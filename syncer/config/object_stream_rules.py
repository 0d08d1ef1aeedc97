"""The rules of metrics on declared streams (README "Any object as a stream"): the dates and fields
a metric names must be the stream's own. `rules.py` runs them with the built-in streams' rules.
"""

from __future__ import annotations

from collections.abc import Iterator

from syncer.config.models import (
    AvgDaysMetric,
    AvgMetric,
    DistinctCountMetric,
    Metric,
    RatioMetric,
    SumMetric,
)
from syncer.config.object_streams import StreamLayout
from syncer.config.violations import Path, Violation, suggest

# The columns of every declared stream's records that metrics and filters may name, beside its
# dates and mapped fields (syncer.object_records).
COMMON_FIELDS = ("source", "id", "owner_id", "modified_at")


def check_metric(metric: Metric, layout: StreamLayout, path: Path) -> Iterator[Violation]:
    """The names a metric on a declared stream uses: dates among its `dates:`, fields among its
    `fields:` (or the common columns)."""
    stream = layout.name
    dates = (*layout.dates, "modified_at")
    fields = (*COMMON_FIELDS, *layout.dates, *sorted(layout.attributes))

    def check(name: str, where: Path, allowed: tuple[str, ...], what: str, hint: str) -> Iterator[Violation]:
        if name.removeprefix("attributes.") in allowed:
            return
        yield Violation(
            where,
            f"`{name}` is not a {what} of the stream {stream}; use one of: {', '.join(allowed)} "
            f"({hint}).{suggest(name, allowed)}",
        )

    def named_date(name: str, where: Path) -> Iterator[Violation]:
        yield from check(name, where, dates, "date", f"its `dates:`, or add `{name}` there")

    def field(name: str, where: Path) -> Iterator[Violation]:
        yield from check(name, where, fields, "field", f"its `fields:`, or map `{name}` there")

    if metric.date is not None:
        yield from named_date(metric.date, (*path, "date"))
    if isinstance(metric, AvgDaysMetric):
        yield from named_date(metric.from_, (*path, "from"))
        yield from named_date(metric.to, (*path, "to"))
    for name in metric.where:
        yield from field(name, (*path, "where", name))
    if isinstance(metric, RatioMetric):
        for part in ("numerator", "denominator"):
            for name in getattr(metric, part):
                yield from field(name, (*path, part, name))
        if metric.weight is not None:
            yield from field(metric.weight, (*path, "weight"))
    elif isinstance(metric, SumMetric | AvgMetric | DistinctCountMetric):
        yield from field(metric.field, (*path, "field"))
