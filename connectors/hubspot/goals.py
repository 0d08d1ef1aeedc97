"""HubSpot goals: `target: {from: crm_goal, name: "…"}` (docs/crm-apis.md §3.10).

A goal is a family of goal_targets, one per user and time slice (a month, a quarter), each with
`hs_goal_name`, `hs_target_amount`, `hs_start_datetime`, `hs_end_datetime` and the assignee's
`hs_assignee_user_id` (a user id, not an owner id). One search per key result and cycle finds the
goal's slices around the period; a slice counts when its middle falls in the period, read in the
YAML's time zone (slices start at the portal's local midnight, which another zone reads as the
day before). Assignees map to owners through the owners' `userId` (archived owners:
`userIdIncludingInactive`); a slice with no assignee user falls back to its `hubspot_owner_id`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.hubspot.mapping import next_after, results, to_instant
from connectors.hubspot.search import SEARCH_PAGE_SIZE, to_ms
from syncer.contract import OwnerTargets, TargetRequest

GOAL_TARGETS = "goal_targets"
PROPERTIES = [
    "hs_goal_name",
    "hs_target_amount",
    "hs_start_datetime",
    "hs_end_datetime",
    "hs_assignee_user_id",
    "hubspot_owner_id",
]
Search = Callable[[dict[str, Any]], Any]


def user_owners(owner_rows: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """User id → owner id, from `GET /crm/v3/owners` rows (active and archived)."""
    owners: dict[str, str] = {}
    for row in owner_rows:
        owner_id = row.get("id")
        for key in ("userId", "userIdIncludingInactive"):
            user = row.get(key)
            if owner_id is not None and user is not None:
                owners.setdefault(str(user), str(owner_id))
    return owners


def search_body(request: TargetRequest, after: str | None) -> dict[str, Any]:
    """The goal's slices that overlap the period, a day's margin each side for any time zone."""
    low = datetime.combine(request.start - timedelta(days=1), time(0), tzinfo=UTC)
    high = datetime.combine(request.end + timedelta(days=2), time(0), tzinfo=UTC)
    filters = [
        {"propertyName": "hs_goal_name", "operator": "EQ", "value": request.name or ""},
        {"propertyName": "hs_start_datetime", "operator": "LT", "value": str(to_ms(high))},
        {"propertyName": "hs_end_datetime", "operator": "GT", "value": str(to_ms(low))},
    ]
    body: dict[str, Any] = {
        "filterGroups": [{"filters": filters}],
        "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
        "properties": PROPERTIES,
        "limit": SEARCH_PAGE_SIZE,
    }
    if after is not None:
        body["after"] = after
    return body


def iter_slices(search: Search, request: TargetRequest) -> Iterator[Mapping[str, Any]]:
    """Every slice the search finds, page by page (one goal over one period: far below the
    10,000-result cap of docs/crm-apis.md §3.2)."""
    after: str | None = None
    while True:
        raw = search(search_body(request, after))
        yield from results(raw)
        after = next_after(raw)
        if after is None:
            return


def read_goal(
    slices: Iterable[Mapping[str, Any]], owners: Mapping[str, str], request: TargetRequest, zone: tzinfo
) -> OwnerTargets:
    """Each owner's summed target over the slices whose middle falls in the period."""
    amounts: dict[str, Decimal] = {}
    counted = unassigned = 0
    for row in slices:
        props = row.get("properties") or {}
        middle = _middle(props.get("hs_start_datetime"), props.get("hs_end_datetime"), zone)
        amount = _number(props.get("hs_target_amount"))
        if middle is None or amount is None or not request.start <= middle <= request.end:
            continue
        user = props.get("hs_assignee_user_id")
        owner = owners.get(str(user)) if user else None
        owner = owner or (str(props["hubspot_owner_id"]) if props.get("hubspot_owner_id") else None)
        if owner is None:
            unassigned += 1  # a team goal, or a user who is no owner: no rep's target
            continue
        amounts[owner] = amounts.get(owner, Decimal(0)) + amount
        counted += 1
    read = f"goal_targets `{request.name}`: {counted} time slices of {len(amounts)} owners"
    return OwnerTargets(amounts, read + (f" ({unassigned} assigned to no owner)" if unassigned else ""))


def _middle(start: Any, end: Any, zone: tzinfo) -> date | None:
    first, last = to_instant(start), to_instant(end)
    if first is None or last is None or last < first:
        return None
    return (first + (last - first) / 2).astimezone(zone).date()


def _number(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None
