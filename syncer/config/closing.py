"""`close_after:` in the YAML (README "Closing a period"): how long an ended period keeps being
recomputed before its final values are frozen, at the top level and per objective. Field-level
reading here; `check_closing` holds the rules that compare it with the periods and write-backs.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from syncer.config.sources import to_timedelta
from syncer.config.violations import Path, Violation

if TYPE_CHECKING:  # models imports this module for the field readers; rules run on the built model
    from syncer.config.models import Objective, Settings

DEFAULT_CLOSE_AFTER = "14d"
NEVER = "off"  # no period of the objective is ever frozen
CLOSE_AFTER_DESCRIPTION = (
    "how long after its end a period's key results keep being recomputed (late-booked deals, "
    "corrections) before their final value and score are frozen: 14d (default), 36h, 0d, or off "
    "to never freeze; an objective's own close_after overrides the top level's"
)
FINAL_ATTRIBUTES = ("final_value", "final_score")  # write-back values of the last frozen period
# The shortest span of each relative period: a period must be frozen before the next one ends.
_SHORTEST = {"month": timedelta(days=28), "quarter": timedelta(days=89), "year": timedelta(days=365)}
_FIX = "write a duration like 14d, 36h or 0d, or `off` to never freeze a period"


def read_close_after(value: Any) -> Any:
    """The YAML's `close_after:` as written (`14d`, `off`), or ValueError saying what to write."""
    if value is None:
        return None
    if value is False:  # YAML 1.1 reads a bare `off` as false
        return NEVER
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"`{value}` is not a duration: {_FIX}")
    text = str(value).strip()
    if text == NEVER:
        return NEVER
    if text.startswith("-"):
        raise ValueError(f"close_after `{text}` is negative: a period is frozen after it ends; {_FIX}")
    if isinstance(value, int):
        raise ValueError(f"close_after `{value}` has no unit: write {value}d for {value} days")
    try:
        to_timedelta(text)
    except ValueError:
        raise ValueError(f"`{text}` is not a duration: {_FIX}") from None
    return text


def close_after_of(settings: Settings, objective: Objective) -> timedelta | None:
    """The objective's close_after, else the top level's; None when its periods never freeze."""
    written = objective.close_after or settings.close_after
    return None if written == NEVER else to_timedelta(written)


def check_closing(settings: Settings) -> list[Violation]:
    """A close_after as long as its relative period, and final values no period will give."""
    return [*_too_long(settings), *_final_without_closing(settings)]


def _too_long(settings: Settings) -> Iterator[Violation]:
    for i, objective in enumerate(settings.objectives):
        after = close_after_of(settings, objective)
        if after is None or not isinstance(objective.period, str) or "_" not in objective.period:
            continue  # a fixed period has no next one to overlap
        unit = objective.period.split("_", 1)[1]
        shortest = _SHORTEST[unit]
        if after >= shortest:
            where: Path = ("objectives", i, "close_after") if objective.close_after else ("close_after",)
            written = objective.close_after or settings.close_after
            yield Violation(
                where,
                f"close_after {written} is as long as a {unit} (objective `{objective.key}`, "
                f"{objective.period}): the {unit} before would still be closing when the next one "
                f"ends; use less than {shortest.days}d",
            )


def _final_without_closing(settings: Settings) -> Iterator[Violation]:
    from syncer.config.models import HistoryTarget  # models imports this module

    closing = {o.key for o in settings.objectives if close_after_of(settings, o) is not None}
    for i, target in enumerate(settings.writeback):
        if isinstance(target, HistoryTarget):
            continue
        for field, expression in target.fields.items():
            parts = expression.split(".")
            if parts[-1] not in FINAL_ATTRIBUTES:
                continue
            objective = parts[0]
            never = (
                not closing if objective == "*" else objective not in closing and _known(settings, objective)
            )
            if never:
                whose = "no objective" if objective == "*" else f"objective `{objective}`"
                yield Violation(
                    ("writeback", i, "fields", field),
                    f"`{expression}`: {whose} ever closes a period (close_after: off), so there is no "
                    f"final value to write: set close_after (e.g. 14d), or drop this field",
                )


def _known(settings: Settings, objective: str) -> bool:
    return any(o.key == objective for o in settings.objectives)
