"""`POST /crm/v3/objects/{type}/search`: filter groups, one sort, paging by offset (docs/crm-apis.md §3.2).

Filters in a group are ANDed, groups are ORed; archived records never match. Paging stops at
10,000 results the way HubSpot stops it: a page reaching past the cap is a 400, whatever `total` says.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sandbox.hubspot.exchange import ApiRequest, ApiResponse, validation_error
from sandbox.hubspot.portal import HsRecord, ObjectType
from sandbox.hubspot.state import SandboxState
from sandbox.hubspot.values import parse_instant, parse_number, to_epoch_ms

SEARCH_RESULT_CAP = 10_000  # docs/crm-apis.md §3.2
MAX_SEARCH_LIMIT = 200
DEFAULT_SEARCH_LIMIT = 10
# Documented caps (§3.2; the docs page, not the looser 2024 changelog).
MAX_FILTER_GROUPS, MAX_FILTERS_PER_GROUP, MAX_FILTERS = 5, 6, 18
OPERATORS = frozenset({"EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN", "HAS_PROPERTY",
                       "NOT_HAS_PROPERTY", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"})  # fmt: skip
QUERY_PROPERTIES = ("dealname", "name", "domain", "hs_call_title")
Comparable = Decimal | int | str


@dataclass(frozen=True, slots=True)
class Filter:
    name: str
    operator: str
    convert: Callable[[str], Comparable]
    value: Comparable | None = None
    high: Comparable | None = None
    values: tuple[Comparable, ...] = ()

    def matches(self, record: HsRecord) -> bool:
        raw = record.properties.get(self.name)
        if self.operator in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
            return (raw is not None) == (self.operator == "HAS_PROPERTY")
        if raw is None:
            return self.operator in ("NEQ", "NOT_IN", "NOT_CONTAINS_TOKEN")
        return _compare(self, self.convert(raw))


def _compare(f: Filter, actual: Any) -> bool:
    # Both sides come from the same property's converter, so they are of one type.
    value: Any = f.value
    match f.operator:
        case "EQ":
            return bool(actual == value)
        case "NEQ":
            return bool(actual != value)
        case "LT":
            return bool(actual < value)
        case "LTE":
            return bool(actual <= value)
        case "GT":
            return bool(actual > value)
        case "GTE":
            return bool(actual >= value)
        case "BETWEEN":
            high: Any = f.high
            return bool(value <= actual <= high)
        case "IN":
            return actual in f.values
        case "NOT_IN":
            return actual not in f.values
        case "CONTAINS_TOKEN":
            return str(value).strip("*") in str(actual)
        case _:  # NOT_CONTAINS_TOKEN
            return str(value).strip("*") not in str(actual)


def converter(object_type: ObjectType, name: str) -> Callable[[str], Comparable]:
    """How values of a property compare: numbers as numbers, dates as epoch ms, strings folded."""
    kind = object_type.properties[name].type

    def convert(text: str) -> Comparable:
        if kind == "number":
            number = parse_number(text)
            if number is None:
                raise validation_error(f"{text} is not a valid number for property {name}")
            return number
        if kind in ("datetime", "date"):
            instant = parse_instant(text)
            if instant is None:
                raise validation_error(f"{text} is not a valid date for property {name}")
            return to_epoch_ms(instant)
        return text if kind == "enumeration" else text.lower()

    return convert


def search(state: SandboxState, request: ApiRequest) -> ApiResponse:
    object_type = state.portal.object_type(request.route["type"])
    body = request.json_object()
    limit, after = _paging(body)
    groups = _filter_groups(object_type, body.get("filterGroups") or [])
    sort_key, descending = _sort(object_type, body.get("sorts") or [])
    query = str(body.get("query") or "").lower().split()
    names = object_type.known(body.get("properties") or object_type.default_properties)
    with state.portal.lock:
        matches = [
            record
            for record in object_type.records.values()
            if not record.archived and _matches(groups, record) and _has_query(query, record)
        ]
        matches.sort(key=sort_key, reverse=descending)
        page = [record.to_json(names) for record in matches[after : after + limit]]
    response: dict[str, Any] = {"total": len(matches), "results": page}
    if after + limit < len(matches):
        response["paging"] = {"next": {"after": str(after + limit)}}
    return ApiResponse(200, response)


def _paging(body: dict[str, Any]) -> tuple[int, int]:
    try:
        limit = int(body.get("limit") or DEFAULT_SEARCH_LIMIT)
        after = int(body.get("after") or 0)
    except (TypeError, ValueError):
        raise validation_error("limit and after must be integers") from None
    if not 0 < limit <= MAX_SEARCH_LIMIT:
        raise validation_error(f"limit must be between 1 and {MAX_SEARCH_LIMIT}, was {limit}")
    if after < 0 or after + limit > SEARCH_RESULT_CAP:
        # HubSpot: "Attempting to page beyond 10,000 will result in a 400 error" (§3.2).
        raise validation_error(
            f"Paging is limited to {SEARCH_RESULT_CAP} results: after ({after}) + limit ({limit}) "
            f"must not exceed {SEARCH_RESULT_CAP}. Narrow the search with a filter instead."
        )
    return limit, after


def _filter_groups(object_type: ObjectType, raw_groups: Sequence[Any]) -> list[list[Filter]]:
    counts = [len(group.get("filters") or []) for group in raw_groups]
    if (
        len(raw_groups) > MAX_FILTER_GROUPS
        or any(n > MAX_FILTERS_PER_GROUP for n in counts)
        or sum(counts) > MAX_FILTERS
    ):
        raise validation_error(
            f"Too many filters: at most {MAX_FILTER_GROUPS} filterGroups, {MAX_FILTERS_PER_GROUP} filters "
            f"per group and {MAX_FILTERS} filters in total are allowed",
            errors=[{"message": "too many filters", "code": "TOO_MANY_FILTERS"}],
        )
    return [[_filter(object_type, raw) for raw in group.get("filters") or []] for group in raw_groups]


def _filter(object_type: ObjectType, raw: dict[str, Any]) -> Filter:
    name, operator = str(raw.get("propertyName") or ""), str(raw.get("operator") or "EQ")
    if name not in object_type.properties:
        raise validation_error(f"Property '{name}' does not exist on {object_type.name}",
                               errors=[{"message": f"{name} does not exist", "code": "PROPERTY_DOESNT_EXIST"}])  # fmt: skip
    if operator not in OPERATORS:
        raise validation_error(f"Unknown filter operator: {operator}")
    convert = converter(object_type, name)
    if operator in ("IN", "NOT_IN"):
        if not isinstance(raw.get("values"), list):
            raise validation_error(f"{operator} needs a list of values")
        return Filter(name, operator, convert, values=tuple(convert(str(v)) for v in raw["values"]))
    if operator in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
        return Filter(name, operator, convert)
    if raw.get("value") is None or (operator == "BETWEEN" and raw.get("highValue") is None):
        raise validation_error(
            f"{operator} on {name} needs a value" + (" and a highValue" if operator == "BETWEEN" else "")
        )
    high = convert(str(raw["highValue"])) if operator == "BETWEEN" else None
    return Filter(name, operator, convert, value=convert(str(raw["value"])), high=high)


def _matches(groups: list[list[Filter]], record: HsRecord) -> bool:
    return not groups or any(all(f.matches(record) for f in group) for group in groups)


def _has_query(words: list[str], record: HsRecord) -> bool:
    text = " ".join((record.properties.get(name) or "").lower() for name in QUERY_PROPERTIES)
    return all(word in text for word in words)


def _sort(object_type: ObjectType, sorts: Sequence[Any]) -> tuple[Callable[[HsRecord], Any], bool]:
    """The key of the first sort rule (HubSpot honours one), ties broken by id; id order by default."""
    if not sorts:
        return (lambda record: int(record.id)), False
    first = sorts[0]
    if isinstance(first, str):  # "-createdate" is also accepted
        name, descending = first.lstrip("-"), first.startswith("-")
    else:
        name, descending = (
            str(first.get("propertyName")),
            str(first.get("direction", "")).upper() == "DESCENDING",
        )
    if name not in object_type.properties:
        raise validation_error(f"Cannot sort by unknown property '{name}'")
    convert = converter(object_type, name)

    def key(record: HsRecord) -> tuple[bool, Any, int]:
        raw = record.properties.get(name)
        return (raw is None) != descending, "" if raw is None else convert(raw), int(record.id)

    return key, descending
