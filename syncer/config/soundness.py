"""Rules that values make sense, not only have the right type: what `validate` can catch offline.

- targets, baselines and owner targets are finite numbers a metric can reach (no `.nan`, no
  negative count, no ratio above 1, no `-100%`);
- `fields:` of a stream names fields okrsync maps for that CRM;
- write-back field names are CRM API names;
- a filter on a number, date or true/false field compares with a value of that kind.

Each rule yields `Violation`s with the YAML path they belong to; every message says what to write.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import cast

from syncer.config.conditions import where_problem
from syncer.config.models import (
    RELATIVE_TARGET,
    Comparison,
    Filter,
    FilterValue,
    HistoryTarget,
    HubSpotSource,
    KeyResult,
    ManualMetric,
    SalesforceSource,
    Settings,
)
from syncer.config.violations import Path, Violation, suggest
from syncer.records import DATE_FIELDS, NUMBER_FIELDS, STREAMS, StreamName

# The largest target or baseline: the store keeps key-result values below 10^20 (Numeric(28, 8)),
# and no sales metric comes near a quadrillion.
MAX_TARGET = 1e15
# Kinds whose value is never negative (a sum or average of canonical amounts and durations too).
GROWING = ("count", "sum", "distinct_count")  # period totals: they count from 0

# Canonical names a stream's `fields:` may map, per CRM: the keys the connectors read (a test keeps
# these equal to connectors/*/ mappings, which syncer may not import).
SALESFORCE_FIELDS: dict[StreamName, tuple[str, ...]] = {
    "deals": (
        "id", "owner_id", "account_id", "amount", "currency", "stage", "pipeline", "type", "is_closed",
        "is_won", "created_at", "close_date", "modified_at", "deleted",
    ),
    "calls": (
        "id", "owner_id", "occurred_at", "duration_seconds", "outcome", "direction", "modified_at", "deleted",
    ),
    "renewals": (
        "id", "owner_id", "account_id", "amount", "due_date", "is_closed", "is_won", "modified_at", "deleted",
    ),
}  # fmt: skip
HUBSPOT_FIELDS: dict[StreamName, tuple[str, ...]] = {
    "deals": (
        "owner_id", "amount", "amount_fallback", "currency", "stage", "pipeline", "type", "created_at",
        "close_date", "is_won",
    ),
    "calls": ("owner_id", "occurred_at", "duration_ms", "outcome", "direction"),
    "renewals": ("owner_id", "amount", "amount_fallback", "stage", "pipeline", "type", "due_date"),
}  # fmt: skip
BOOLEAN_FIELDS: dict[StreamName, tuple[str, ...]] = {
    "deals": ("is_closed", "is_won", "deleted"),
    "calls": ("deleted",),
    "renewals": ("deleted",),
}
# Salesforce API names: letters, digits and single underscores (custom ones end in __c, a managed
# package's start with its namespace and __). HubSpot internal property names: lower case.
SALESFORCE_NAME = re.compile(
    r"^[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*(?:__[A-Za-z0-9]+(?:_[A-Za-z0-9]+)*)*(?:__c)?\Z"
)
HUBSPOT_NAME = re.compile(r"^[a-z][a-z0-9_]*\Z")


def check_soundness(settings: Settings) -> list[Violation]:
    """Every value that has the right type but cannot mean what ops intended, in file order."""
    return [*_sources(settings), *_key_results(settings), *_writebacks(settings)]


# ---------------------------------------------------------------- targets


def _key_results(settings: Settings) -> Iterator[Violation]:
    for i, objective in enumerate(settings.objectives):
        for j, kr in enumerate(objective.key_results):
            path: Path = ("objectives", i, "key_results", j)
            yield from _goal_numbers(kr, path)
            yield from _relative_target(kr.target, (*path, "target"))
            yield from _relative_target(kr.stretch, (*path, "stretch"))
            if isinstance(kr.metric, ManualMetric):  # no records: nothing to filter
                continue
            for part in ("where", "numerator", "denominator"):
                where = getattr(kr.metric, part, None)
                if where:
                    yield from _filter_values(kr.metric.stream, where, (*path, "metric", part))


def _goal_numbers(kr: KeyResult, path: Path) -> Iterator[Violation]:
    numbers: list[tuple[Path, float, str]] = []
    if isinstance(kr.target, float | int) and not isinstance(kr.target, bool):
        numbers.append(((*path, "target"), kr.target, "target"))
    if isinstance(kr.stretch, float | int) and not isinstance(kr.stretch, bool):
        numbers.append(((*path, "stretch"), kr.stretch, "stretch"))
    if isinstance(kr.baseline, float | int) and not isinstance(kr.baseline, bool):
        numbers.append(((*path, "baseline"), kr.baseline, "baseline"))
    if isinstance(kr.owner_targets, dict):
        owners = kr.owner_targets.items()
        numbers += [((*path, "owner_targets", email), value, f"target of {email}") for email, value in owners]
    for where, number, what in numbers:
        message = _number_problem(kr, number, what)
        if message:
            yield Violation(where, message)
    if isinstance(kr.target, float | int) and kr.target == 0 and kr.metric.kind in GROWING:
        yield Violation(
            (*path, "target"),
            f"a {kr.metric.kind} target of 0 can never show progress (period totals count from 0): "
            "write the number to reach",
        )
    if isinstance(kr.weight, float) and not math.isfinite(kr.weight):
        yield Violation((*path, "weight"), "the weight must be a finite number, like 1 or 2.5")


def _number_problem(kr: KeyResult, number: float, what: str) -> str | None:
    kind = kr.metric.kind
    if not math.isfinite(number):
        return f"the {what} `{number}` is not a number: write a finite number like 575000"
    if abs(number) > MAX_TARGET:
        return f"the {what} {number:g} is beyond any metric (at most {MAX_TARGET:g}): check the number"
    if number < 0 and not _may_be_negative(kr):
        return f"the {what} {number:g} is negative, which a {kind} metric never is: write a number ≥ 0"
    if kind == "ratio" and number > 1:
        return (
            f"the {what} {number:g} is above 1, but a ratio is a fraction 0..1: "
            f"write {number / 100:g} for {number:g} %"
        )
    return None


def _may_be_negative(kr: KeyResult) -> bool:
    """A sum or average over a custom attribute (a margin, a delta) may be below zero; so may a
    number checked in by hand (a net score)."""
    if isinstance(kr.metric, ManualMetric):
        return True
    field = getattr(kr.metric, "field", None)
    numbers = NUMBER_FIELDS.get(cast(StreamName, kr.metric.stream), ())  # a declared stream: none
    return kr.metric.kind in ("sum", "avg") and field not in numbers


def _relative_target(spec: object, where: Path) -> Iterator[Violation]:
    """A relative target (or stretch, at `where`) that no value can reach."""
    match = RELATIVE_TARGET.match(spec.strip()) if isinstance(spec, str) else None
    if match is None:
        return
    sign, amount, unit = match[1], float(match[2]), match[3]
    if unit == "%" and sign == "-" and amount >= 100:
        yield Violation(
            where,
            f"`{spec}` would bring the value to {'zero' if amount == 100 else 'below zero'}: "
            "a decrease must stay above -100%"
            + ("; for a target of zero write `target: 0`" if where[-1] == "target" else ""),
        )
    elif unit == "%" and amount > 10_000:
        yield Violation(where, f"`{spec}` is more than a hundredfold: check the number")
    elif unit == "pp" and amount > 100:
        yield Violation(
            where,
            f"`{spec}` moves a ratio by more than 100 percentage points: write at most ±100pp",
        )


# ---------------------------------------------------------------- filters


def _filter_values(stream: str, where: Filter, path: Path) -> Iterator[Violation]:
    for name, value in where.items():
        kind = _field_kind(stream, name)
        if kind is None:
            continue
        for item in _scalars(value):
            if item is not None and not _is_kind(item, kind):
                yield Violation((*path, name), _kind_message(name, item, kind))
                break


def _field_kind(stream: str, name: str) -> str | None:
    if stream not in STREAMS:  # a declared stream (README "Any object as a stream"): attributes only
        return None
    if name in NUMBER_FIELDS[stream]:
        return "number"
    if name in DATE_FIELDS[stream]:
        return "date"
    if name in BOOLEAN_FIELDS[stream]:
        return "boolean"
    return None  # text fields and attributes take any value


def _scalars(value: FilterValue) -> Iterator[object]:
    if isinstance(value, Comparison):
        yield from (value.gt, value.gte, value.lt, value.lte)
        yield from value.not_ if isinstance(value.not_, list) else [value.not_]
    elif isinstance(value, list):
        yield from value
    else:
        yield value


def _is_kind(value: object, kind: str) -> bool:
    """What the rollup's filters can compare: also "true"/"false" and numbers written as text."""
    if kind == "boolean":
        return isinstance(value, bool) or (
            isinstance(value, str) and value.strip().lower() in ("true", "false")
        )
    if isinstance(value, bool):
        return False
    if kind == "number":
        if isinstance(value, str):
            try:
                return Decimal(value.strip()).is_finite()
            except InvalidOperation:
                return False
        return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))
    if isinstance(value, date):
        return True
    try:
        datetime.fromisoformat(str(value).strip())  # a date, or an instant with its time
    except ValueError:
        return False
    return True


def _kind_message(name: str, value: object, kind: str) -> str:
    shown = str(value)[:40]
    expected = {
        "number": "a number, like {gt: 10000}",
        "date": "a date, like {gte: 2026-01-01}",
        "boolean": "true or false",
    }[kind]
    return f"`{name}` is a {kind} field, but the filter compares it with `{shown}`: write {expected}"


# ---------------------------------------------------------------- field names


def _sources(settings: Settings) -> Iterator[Violation]:
    for name, source in settings.sources.items():
        known = SALESFORCE_FIELDS if isinstance(source, SalesforceSource) else HUBSPOT_FIELDS
        if isinstance(source, SalesforceSource):
            yield from _conditions(name, source)
        for stream, config in source.streams.items():
            for canonical in config.fields:
                if canonical not in known[stream]:
                    choices = known[stream]
                    yield Violation(
                        ("sources", name, "streams", stream, "fields", canonical),
                        f"`{canonical}` is not a field okrsync maps for {stream}; use one of: "
                        f"{', '.join(choices)}, or list it under `attributes:`.{suggest(canonical, choices)}",
                    )


def _conditions(name: str, source: SalesforceSource) -> Iterator[Violation]:
    """Each `where:` is one SOQL condition: the connector refuses anything else at run time."""
    wheres: list[tuple[Path, str | None]] = [
        (("sources", name, "streams", stream, "where"), config.where)
        for stream, config in source.streams.items()
    ]
    wheres.append((("sources", name, "owners", "where"), source.owners.where))
    for path, where in wheres:
        problem = where_problem(where) if where is not None else None
        if problem:
            yield Violation(
                path,
                f"this `where` is refused: {problem}; write one SOQL condition, like \"TaskSubtype = 'Call'\"",
            )


def _writebacks(settings: Settings) -> Iterator[Violation]:
    for i, target in enumerate(settings.writeback):
        source = settings.sources.get(target.source)
        if source is None:
            continue  # rules.py reports the unknown source
        names: Mapping[str, Path]
        if isinstance(target, HistoryTarget):  # the YAML names only the fields it renames
            fields = target.history.fields
            names = {name: ("writeback", i, "history", "fields", a) for a, name in fields.items()}
        else:
            names = {name: ("writeback", i, "fields", name) for name in target.fields}
        upsert_on = getattr(target, "upsert_on", None)
        if upsert_on is not None:
            names = {upsert_on: ("writeback", i, "upsert_on"), **names}
        for name, path in names.items():
            message = _field_name_problem(name, hubspot=isinstance(source, HubSpotSource))
            if message:
                yield Violation(path, message)


def _field_name_problem(name: str, *, hubspot: bool) -> str | None:
    if hubspot and not HUBSPOT_NAME.match(name):
        return (
            f"`{name}` is not a HubSpot property name: use its internal name, lower-case letters, "
            "digits and `_` (like okr_value)"
        )
    if not hubspot and (not SALESFORCE_NAME.match(name) or len(name) > 80):
        return (
            f"`{name}` is not a Salesforce field API name: letters, digits and single `_`, "
            "custom fields ending in __c (like Q_Revenue__c)"
        )
    return None
