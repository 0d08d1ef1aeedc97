"""The Settings schema seen from outside: the JSON schema editors use, and pydantic's validation errors
explained against it (a `loc` → the YAML path it names, and a sentence ops can act on).

Nothing here reads files or the environment; `loading.py` does. Regenerate the committed JSON schema:
    python -c "from syncer.config.schema import write_schema; write_schema('config/okrsync.schema.json')"
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, SecretStr, Tag
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from syncer.config.models import (
    KEY_PATTERN,
    AvgDaysMetric,
    AvgMetric,
    DistinctCountMetric,
    KeyResult,
    RatioMetric,
    Settings,
    SumMetric,
)
from syncer.config.violations import Path as KeyPath

SCHEMA_COMMAND = (
    "python -c \"from syncer.config.schema import write_schema; write_schema('config/okrsync.schema.json')\""
)

# Error types that mean "the wrong kind of value". A union reports one per branch, so they are merged.
_EXPECTED = {
    "string_type": "a text",
    "float_type": "a number",
    "float_parsing": "a number",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "date_type": "a date like 2026-10-01",
    "date_parsing": "a date like 2026-10-01",
    "date_from_datetime_parsing": "a date like 2026-10-01",
    "date_from_datetime_inexact": "a date like 2026-10-01",
    "list_type": "a list",
    "dict_type": "a mapping (`key: value` lines)",
    "model_type": "a mapping (`key: value` lines)",
    "model_attributes_type": "a mapping (`key: value` lines)",
    "literal_error": "",  # the allowed values come from the error's context
    "string_pattern_mismatch": "",  # described by _PATTERNS
}
# The patterns of models.py, in words.
_PATTERNS = {
    KEY_PATTERN: "a name of lowercase letters, digits, `-` and `_` (like q-revenue)",
    r"^[A-Za-z][A-Za-z0-9_]*$": "an API name of letters, digits and `_` (like Opportunity)",
    r"^https://[^/\s]+/?$": "the org's https:// address (like https://acme.my.salesforce.com)",
    r"^https?://[^/\s]+/?$": "a base URL (like https://api.hubapi.com)",
    r"^\d{2}\.0$": "an API version like 59.0",
    r"^attributes\.\w+$": "`attributes.<name>`",
}
_BOUNDS = {"greater_than": "more than", "greater_than_equal": "at least", "less_than": "less than"}
_BOUNDS |= {"less_than_equal": "at most"}
# Why a required key matters, for those ops most often leave out; other keys' descriptions are used.
_NEEDED_FOR: dict[tuple[type[BaseModel], str], str] = {
    (SumMetric, "field"): "a `sum` metric needs the field it adds up",
    (AvgMetric, "field"): "an `avg` metric needs the field it averages",
    (DistinctCountMetric, "field"): "a `distinct_count` metric needs the field whose values it counts",
    (AvgDaysMetric, "from"): "an `avg_days` metric needs the date field it counts days from",
    (AvgDaysMetric, "to"): "an `avg_days` metric needs the date field it counts days to",
    (RatioMetric, "numerator"): "a `ratio` metric needs the filter of its numerator",
    (KeyResult, "target"): "a key result needs a number or a change like '+15%'",
    (Settings, "version"): "write `version: 1`",
    (Settings, "sources"): "okrsync needs at least one CRM to read from",
}


def render_schema() -> str:
    """`Settings.model_json_schema()`, pretty-printed with sorted keys, as committed."""
    return json.dumps(Settings.model_json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_schema(path: str | Path) -> None:
    """Write the JSON schema editors use to validate and complete the YAML."""
    Path(path).write_text(render_schema(), encoding="utf-8")


def dotted(path: KeyPath) -> str:
    """('sources', 'sfdc', 'auth') → 'sources.sfdc.auth'; list indexes as [0]."""
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path).lstrip(".")


# ---------------------------------------------------------------- where an error points


@dataclass(frozen=True, slots=True)
class _Place:
    path: KeyPath  # the loc without union tags: YAML keys and indexes
    expected: Any  # the annotation expected at `path`; None once the walk loses track
    discriminator: Any  # the discriminator of a union at `path`, if any
    model: type[BaseModel] | None  # the model whose key `path[-1]` is (or should be)
    is_key: bool = False  # the mapping key itself is wrong, not its value


def _locate(loc: tuple[int | str, ...]) -> _Place:
    """Follow `loc` through the Settings annotations, dropping the union tags pydantic inserts."""
    expected: Any = Settings
    discriminator: Any = None
    keys: Any = None
    path: list[int | str] = []
    model: type[BaseModel] | None = None
    for segment in loc:
        inner, members, discriminator = _unwrap(expected, discriminator)
        if members:  # pydantic names the union branch it tried: a tag, not a YAML key
            expected, discriminator = _branch(members, discriminator, str(segment)), None
        elif segment == "[key]":  # the previous segment is a mapping key that failed
            return _Place(tuple(path), keys, None, model, is_key=True)
        else:
            path.append(segment)
            model = inner if _is_model(inner) else None
            keys = get_args(inner)[0] if get_origin(inner) is dict else None
            expected, discriminator = _child(inner, segment)
    return _Place(tuple(path), expected, discriminator, model)


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _unwrap(annotation: Any, discriminator: Any) -> tuple[Any, tuple[Any, ...], Any]:
    """(type without Annotated or None, the union members when it is a union, its discriminator)."""
    while get_origin(annotation) is Annotated:
        annotation, *metadata = get_args(annotation)
        discriminator = next(
            (m.discriminator for m in metadata if isinstance(m, FieldInfo) and m.discriminator), discriminator
        )
    if get_origin(annotation) in (Union, UnionType):
        members = tuple(m for m in get_args(annotation) if m is not type(None))
        if len(members) > 1:
            return annotation, members, discriminator
        return _unwrap(members[0], discriminator)  # `X | None`: pydantic adds no tag
    return annotation, (), discriminator


def _field(model: type[BaseModel], key: int | str) -> FieldInfo | None:
    return next((f for name, f in model.model_fields.items() if key in (name, f.alias)), None)


def _child(annotation: Any, segment: int | str) -> tuple[Any, Any]:
    if _is_model(annotation):
        info = _field(annotation, segment)
        return (info.annotation, info.discriminator) if info else (None, None)
    if get_origin(annotation) in (dict, list):
        return get_args(annotation)[-1], None
    return None, None


def _branch(members: tuple[Any, ...], discriminator: Any, segment: str) -> Any:
    """The member a union tag names: a Tag, a discriminator value, or pydantic's name of the type."""
    for member in members:
        names = _branch_names(member, discriminator)
        if {segment, segment.split("[")[0]} & names or segment.endswith(tuple(f", {n}]" for n in names)):
            return member
    return None


def _branch_names(member: Any, discriminator: Any) -> set[str]:
    inner, *metadata = get_args(member) if get_origin(member) is Annotated else (member,)
    names = {m.tag for m in metadata if isinstance(m, Tag)}
    if inner is str and metadata:
        names.add("constrained-str")
    origin = get_origin(inner)
    if origin is Literal:
        names.add("literal")
    elif origin is not None or isinstance(inner, type):
        names.add(getattr(origin or inner, "__name__", ""))
    if _is_model(inner) and isinstance(discriminator, str):
        names |= set(map(str, _tag_values(inner, discriminator)))
    return names


def _tag_values(model: type[BaseModel], discriminator: str) -> tuple[Any, ...]:
    info = _field(model, discriminator)
    return get_args(info.annotation) if info else ()


# ---------------------------------------------------------------- in words


def explain_errors(errors: Sequence[ErrorDetails]) -> list[tuple[KeyPath, str]]:
    """(YAML path, message) for every pydantic error, the branches of a union merged into one."""
    placed = [(error, _locate(error["loc"])) for error in errors]
    shapes: dict[tuple[KeyPath, bool], list[tuple[ErrorDetails, _Place]]] = {}
    explained: list[tuple[KeyPath, str]] = []
    for error, place in placed:
        if error["type"] in _EXPECTED:
            shapes.setdefault((place.path, place.is_key), []).append((error, place))
        else:
            explained.append(_describe(error, place))
    for (path, is_key), group in shapes.items():
        if is_key or not _taken_by_a_branch(path, placed):
            explained.append((path, _shape_message(group)))
    return explained


def _taken_by_a_branch(path: KeyPath, placed: list[tuple[ErrorDetails, _Place]]) -> bool:
    """A union branch accepted the value's shape and failed inside it: that error is the real one."""
    return any(
        place.path[: len(path)] == path
        and not place.is_key
        and (len(place.path) > len(path) or error["type"] not in _EXPECTED)
        for error, place in placed
    )


def _shape_message(group: list[tuple[ErrorDetails, _Place]]) -> str:
    error, place = group[0]
    choices: list[str] = []
    for err, _ in group:
        choices += [choice for choice in _expectations(err) if choice not in choices]
    literals = [value for err, _ in group for value in _literal_values(err)]
    hint = _closest(error["input"], literals) if isinstance(error["input"], str) else ""
    if place.is_key:
        return f"unknown key `{place.path[-1]}`: use {_either(choices)}{hint}"
    got = "" if _unwrap(place.expected, None)[0] is SecretStr else f", got {_show(error['input'])}"
    return f"`{_name(place.path)}` must be {_either(choices)}{got}{hint}"


def _expectations(error: ErrorDetails) -> list[str]:
    if error["type"] == "literal_error":
        return [f"`{value}`" for value in _literal_values(error)]
    if error["type"] == "string_pattern_mismatch":
        pattern = str(error.get("ctx", {}).get("pattern", ""))
        return [_PATTERNS.get(pattern, f"a text matching {pattern}")]
    return [_EXPECTED[error["type"]]]


def _literal_values(error: ErrorDetails) -> list[str]:
    if error["type"] != "literal_error":
        return []
    expected = str(error.get("ctx", {}).get("expected", ""))
    return [value.strip("'") for value in re.split(r", | or ", expected) if value]


def _describe(error: ErrorDetails, place: _Place) -> tuple[KeyPath, str]:
    kind, ctx, name = error["type"], error.get("ctx", {}), _name(place.path)
    if kind == "extra_forbidden":
        return place.path, _unknown_key(place)
    if kind == "missing":
        return place.path[:-1], _missing_key(place)
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return _tag_problem(error, place)
    if kind in _BOUNDS:
        return (
            place.path,
            f"`{name}` must be {_BOUNDS[kind]} {next(iter(ctx.values()))}, got {_show(error['input'])}",
        )
    if kind in ("too_short", "too_long", "string_too_short", "string_too_long"):
        least = kind.endswith("short")
        count = ctx.get("min_length" if least else "max_length")
        unit = "characters" if kind.startswith("string") else "entries" if count != 1 else "entry"
        return place.path, f"`{name}` must have at {'least' if least else 'most'} {count} {unit}"
    text = error["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return place.path, f"`{name}`: {text}" if place.path else text


def _unknown_key(place: _Place) -> str:
    key = str(place.path[-1])
    allowed = [info.alias or name for name, info in place.model.model_fields.items()] if place.model else []
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if close:
        return f"unknown key `{key}`; did you mean `{close[0]}`?"
    return (
        f"unknown key `{key}`; allowed keys here: {', '.join(allowed)}" if allowed else f"unknown key `{key}`"
    )


def _missing_key(place: _Place) -> str:
    key, parent = str(place.path[-1]), place.path[:-1]
    where = f"under `{dotted(parent)}`" if parent else "at the top level"
    info = _field(place.model, key) if place.model else None
    why = _NEEDED_FOR.get((place.model, key)) if place.model else None
    why = why or (info.description if info else None)
    return f"missing key `{key}` {where}" + (f" ({why})" if why else "")


def _tag_problem(error: ErrorDetails, place: _Place) -> tuple[KeyPath, str]:
    ctx = error.get("ctx", {})
    key = str(ctx.get("discriminator", place.discriminator)).strip("'")
    _, members, _ = _unwrap(place.expected, place.discriminator)
    tags = [str(value) for member in members for value in _tag_values(_unwrap(member, None)[0], key)]
    if error["type"] == "union_tag_not_found":
        where = f"under `{dotted(place.path)}`" if place.path else "at the top level"
        return place.path, f"missing key `{key}` {where}: use one of {', '.join(tags)}"
    tag = str(ctx.get("tag"))
    message = f"unknown {key} `{tag}` for `{_name(place.path)}`: use one of {', '.join(tags)}"
    return (*place.path, key), message + _closest(tag, tags)


def _name(path: KeyPath) -> str:
    if not path:
        return "the top level"
    return f"{_name(path[:-1])}[{path[-1]}]" if isinstance(path[-1], int) else path[-1]


def _closest(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean `{close[0]}`?" if close else ""


def _either(choices: list[str]) -> str:
    return choices[0] if len(choices) == 1 else f"{', '.join(choices[:-1])} or {choices[-1]}"


def _show(value: Any) -> str:
    """A value as ops wrote it, short: containers by their kind, never their content."""
    if isinstance(value, dict | list):
        return "a mapping" if isinstance(value, dict) else "a list"
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "nothing"}[value]
    return repr(value) if isinstance(value, str) else str(value)
