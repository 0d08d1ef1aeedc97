"""Periods and key-result values: what the rollup computes and the store keeps.

Plain frozen dataclasses (and the local-midnight instant a period starts at). This module
imports nothing from the store or the rollup: `syncer.store.snapshots` imports these, and the
rollup imports the store, so the values sit below both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Literal

Direction = Literal["increase", "decrease"]
Status = Literal["done", "on_track", "at_risk", "off_track"]
TOTAL = "total"  # group_kind of the one value every key result has

AttributeValue = Decimal | float | str | date | datetime | None


@dataclass(frozen=True, slots=True)
class Period:
    """A span of calendar days in the configured time zone, both ends included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"a period cannot end ({self.end}) before it starts ({self.start})")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def day_after(self) -> date:
        return self.end + timedelta(days=1)


def local_midnight(day: date, zone: tzinfo) -> datetime:
    """The UTC instant at which `day` starts in `zone`."""
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class KeyResultValue:
    """One key result's value for one group (or the total) over one period, scored.

    `group_kind` is "total" (with `group_key` ""), "owner" (the owner_group_key), "team",
    "region" or "attributes.<name>". `title` is the key result's title when the rollup made
    the value; snapshots do not keep it.
    """

    objective: str
    key_result: str
    group_kind: str
    group_key: str
    period: Period
    value: Decimal | None
    baseline: Decimal | None
    target: Decimal | None
    direction: Direction
    progress: float | None
    score: float | None
    expected: float
    status: Status | None
    projected: Decimal | None
    updated_at: datetime
    title: str | None = None
    currency: str | None = None  # money (sum or avg of amount): the home currency of its sources
    confidence: float | None = None  # the YAML's `confidence:` (0..1) when the rollup made the value
    # The last frozen period's value and score of this key result and group (syncer.closing).
    final_value: Decimal | None = None
    final_score: float | None = None

    @property
    def is_total(self) -> bool:
        return self.group_kind == TOTAL

    @property
    def key(self) -> str:
        """ "objective.key_result" for the total, "objective.key_result.group_key" for a group:
        the unique value a keyed write-back target upserts on."""
        base = f"{self.objective}.{self.key_result}"
        return base if self.is_total else f"{base}.{self.group_key}"

    @property
    def progress_pct(self) -> float | None:
        return None if self.progress is None else round(self.progress * 100, 1)

    def attribute(self, name: str) -> AttributeValue:
        """The value a write-back expression names (`q-revenue.revenue.<name>`, `*.<name>`).

        Raises KeyError for a name that is not one of config.models' KR_VALUE_ATTRIBUTES or
        RECORD_ATTRIBUTES.
        """
        attributes: dict[str, AttributeValue] = {
            "value": self.value,
            "baseline": self.baseline,
            "target": self.target,
            "progress": self.progress,
            "progress_pct": self.progress_pct,
            "score": self.score,
            "expected": self.expected,
            "status": self.status,
            "projected": self.projected,
            "updated_at": self.updated_at,
            "currency": self.currency,
            "confidence": self.confidence,
            "final_value": self.final_value,
            "final_score": self.final_score,
            "key": self.key,
            "title": self.title or self.key_result,
            "group": TOTAL if self.is_total else self.group_key,
            "period_start": self.period.start,
            "period_end": self.period.end,
        }
        if name in attributes:
            return attributes[name]
        raise KeyError(f"key results have no attribute `{name}`")


@dataclass(frozen=True, slots=True)
class ObjectiveScore:
    """An objective's grade: the weighted mean of its key results' total scores."""

    objective: str
    score: float | None
