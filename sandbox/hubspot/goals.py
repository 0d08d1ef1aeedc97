"""HubSpot Goals in the sandbox portal: the `goal_targets` object (docs/crm-apis.md §3.10).

A goal is a family of time slices: one goal_target per user and month (or quarter), each with the
goal's name, the slice's start and end instants (the portal's local midnight; the end is the last
millisecond of the slice), the target amount and the assignee's user id (and owner id). The sample's
quotas (`sandbox.sample_quotas`) are loaded as two goals: revenue and new deals.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sandbox.hubspot.portal import HsRecord, ObjectType, Portal
from sandbox.hubspot.properties import PropertyDef
from sandbox.hubspot.values import to_hs_time, to_hs_value
from sandbox.sample_quotas import DEALS_GOAL, REVENUE_GOAL, SampleQuota, sample_quotas
from sandbox.sample_records import SampleOrg

GOAL_TARGETS = "goal_targets"
GOAL_TARGETS_TYPE_ID = "0-74"
GOAL_DEFAULTS = ("hs_createdate", "hs_lastmodifieddate", "hs_object_id")  # the guide's GET example


def goal_target_properties(*, owners: Iterable[str]) -> list[PropertyDef]:
    group = "goal_target_information"
    owner_values = tuple((value, value) for value in owners)
    return [
        PropertyDef("hs_object_id", "Record ID", "number", "number", group),
        PropertyDef("hs_createdate", "Create date", "datetime", "date", group),
        PropertyDef("hs_lastmodifieddate", "Last modified date", "datetime", "date", group),
        PropertyDef("hs_goal_name", "Goal name", "string", "text", group),
        PropertyDef("hs_target_amount", "Target amount", "number", "number", group),
        PropertyDef("hs_start_datetime", "Start date", "datetime", "date", group),
        PropertyDef("hs_end_datetime", "End date", "datetime", "date", group),
        PropertyDef("hs_assignee_user_id", "Assignee user id", "number", "number", group),
        PropertyDef("hubspot_owner_id", "Owner", "enumeration", "select", group, owner_values),
        PropertyDef("hs_group_correlation_uuid", "Goal family", "string", "text", group),
        PropertyDef("hs_goal_target_group_id", "Goal target group", "string", "text", group),
    ]


def add_goal_targets(
    portal: Portal, sample: SampleOrg, owners: dict[str, str], users: dict[str, int]
) -> None:
    """The goal_targets type and the sample's quotas as two goals; `owners` and `users` map sample
    user keys to owner ids and user ids."""
    props = goal_target_properties(owners=owners.values())
    portal.add_type(
        ObjectType(
            GOAL_TARGETS, GOAL_TARGETS_TYPE_ID, "GOAL_TARGET", GOAL_DEFAULTS, {p.name: p for p in props}
        ),
        "goal_target",
        "goals",
    )
    zone = ZoneInfo(portal.time_zone)
    created = datetime.combine(sample.calendar.history_start, time(0), tzinfo=UTC) - timedelta(days=30)
    portal.load(GOAL_TARGETS, _slices(portal, sample_quotas(sample), owners, users, zone, created))


def _slices(
    portal: Portal,
    quotas: list[SampleQuota],
    owners: dict[str, str],
    users: dict[str, int],
    zone: ZoneInfo,
    created: datetime,
) -> Iterator[HsRecord]:
    families = {
        name: str(uuid.uuid5(uuid.NAMESPACE_URL, f"okrsync-sandbox/{name}"))
        for name in (REVENUE_GOAL, DEALS_GOAL)
    }
    for name, amount_of in ((REVENUE_GOAL, _revenue), (DEALS_GOAL, _deals)):
        for quota in quotas:
            record_id = portal.new_id()
            values: dict[str, object] = {
                "hs_goal_name": name, "hs_target_amount": amount_of(quota),
                "hs_start_datetime": _local_midnight(quota.start, zone),
                "hs_end_datetime": _local_midnight(quota.end + timedelta(days=1), zone) - timedelta(milliseconds=1),
                "hs_assignee_user_id": users[quota.owner_key], "hubspot_owner_id": owners[quota.owner_key],
                "hs_group_correlation_uuid": families[name],
                "hs_goal_target_group_id": f"{families[name][:8]}-{users[quota.owner_key]}",
            }  # fmt: skip
            properties = {key: to_hs_value(value) for key, value in values.items()}
            properties |= {"hs_object_id": record_id, "hs_createdate": to_hs_time(created),
                           "hs_lastmodifieddate": to_hs_time(created)}  # fmt: skip
            yield HsRecord(record_id, properties, created, created)


def _revenue(quota: SampleQuota) -> object:
    return quota.amount


def _deals(quota: SampleQuota) -> object:
    return quota.deals


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)
