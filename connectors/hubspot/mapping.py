"""HubSpot JSON → canonical records: deals, calls, renewals and owners; raw JSON enters here only.

Knows HubSpot's property names (docs/crm-apis.md §3.1, §3.5, §3.6) and the stage semantics of the
pipelines API. Makes no calls: client.py fetches, this module reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from syncer.config.models import HubSpotStream
from syncer.contract import Cursor, OwnerPage, Page
from syncer.errors import BadRecordError
from syncer.records import Call, Deal, DealType, Owner, Record, Renewal, RenewalStatus, StreamName

OBJECT_TYPES: dict[StreamName, str] = {"deals": "deals", "calls": "calls", "renewals": "deals"}
MODIFIED = "hs_lastmodifieddate"  # the incremental key of every CRM object (docs/crm-apis.md §3.2)
# Canonical field → HubSpot property; the YAML's `fields` override these.
DEFAULT_FIELDS: dict[StreamName, dict[str, str]] = {
    "deals": {
        "owner_id": "hubspot_owner_id",
        "amount": "amount_in_home_currency",
        # amount_in_home_currency is empty on portals with one currency (docs/crm-apis.md §3.1).
        "amount_fallback": "amount",
        "currency": "deal_currency_code",
        "stage": "dealstage",
        "pipeline": "pipeline",
        "type": "dealtype",
        "created_at": "createdate",
        "close_date": "closedate",
        "is_won": "hs_is_closed_won",
    },
    "calls": {
        "owner_id": "hubspot_owner_id",
        "occurred_at": "hs_timestamp",
        "duration_ms": "hs_call_duration",  # milliseconds (docs/crm-apis.md §3.6)
        "outcome": "hs_call_disposition",
        "direction": "hs_call_direction",
    },
    "renewals": {
        "owner_id": "hubspot_owner_id",
        "amount": "amount_in_home_currency",
        # amount_in_home_currency is empty on portals with one currency (docs/crm-apis.md §3.1).
        "amount_fallback": "amount",
        "stage": "dealstage",
        "pipeline": "pipeline",
        "type": "dealtype",
        "due_date": "closedate",
    },
}
# Default call outcomes (docs/crm-apis.md §3.6) in the canonical words the other connectors use.
DISPOSITIONS = {
    "9d9162e7-6cf3-4944-bf63-4dff82258764": "busy",
    "f240bbac-87c9-4f6e-bf70-924b57d47db7": "connected",
    "a4c4c377-d246-4b32-a13b-75a56a4cd0ff": "left_live_message",
    "b2cf5968-551e-4856-9783-52b3da59a7d0": "left_voicemail",
    "73a0d17f-1163-4015-bdd5-ec830791da20": "no_answer",
    "17b47fee-58de-441e-a44c-c6300d46f273": "wrong_number",
}
DEAL_TYPES: dict[str, DealType] = {
    "newbusiness": "new",
    "existingbusiness": "expansion",
    "renewal": "renewal",
}


@dataclass(frozen=True, slots=True)
class Stage:
    is_closed: bool
    is_won: bool


@dataclass(frozen=True, slots=True)
class Pipelines:
    """Deal pipelines of the portal, fetched once per run: stage semantics and label → id."""

    stages: Mapping[tuple[str, str], Stage] = field(default_factory=dict)
    ids: Mapping[str, str] = field(default_factory=dict)  # id or lower-case label → id

    def resolve(self, names: Iterable[str]) -> frozenset[str]:
        return frozenset(self.ids.get(name.lower(), self.ids.get(name, name)) for name in names)

    def unknown(self, names: Iterable[str]) -> list[str]:
        """The names that are neither a pipeline id nor a label (case-insensitive) of this portal."""
        return [name for name in names if name.lower() not in self.ids and name not in self.ids]


@dataclass(frozen=True, slots=True)
class StreamPlan:
    """What one stream reads: properties to request, and which deals are in scope."""

    stream: StreamName
    object_type: str
    fields: Mapping[str, str]
    attributes: Mapping[str, str]
    pipelines: frozenset[str]
    deal_types: frozenset[str]
    zone: tzinfo = UTC  # the YAML's `timezone`: an instant's calendar day is read there

    @property
    def properties(self) -> list[str]:
        return sorted({*self.fields.values(), *self.attributes.values(), MODIFIED})

    def in_scope(self, props: Mapping[str, Any]) -> bool:
        """Renewals: a configured pipeline OR deal type; deals: the configured pipelines."""
        in_pipeline = bool(self.pipelines) and props.get("pipeline") in self.pipelines
        of_type = bool(self.deal_types) and props.get("dealtype") in self.deal_types
        if not self.pipelines and not self.deal_types:
            return True
        return in_pipeline or of_type


def plan_stream(
    stream: StreamName, config: HubSpotStream, pipelines: Pipelines, *, zone: tzinfo = UTC
) -> StreamPlan:
    return StreamPlan(
        stream=stream,
        object_type=OBJECT_TYPES[stream],
        fields={**DEFAULT_FIELDS[stream], **config.fields},
        attributes=dict(config.attributes),
        pipelines=pipelines.resolve(config.pipelines),
        deal_types=frozenset(config.deal_types),
        zone=zone,
    )


def to_pipelines(raw: Any) -> Pipelines:
    """`GET /crm/v3/pipelines/deals`: closed-won = isClosed "true" and probability "1.0" (§3.5)."""
    stages: dict[tuple[str, str], Stage] = {}
    ids: dict[str, str] = {}
    for pipeline in _results(raw):
        pipeline_id = str(pipeline.get("id"))
        ids[pipeline_id] = pipeline_id
        ids[str(pipeline.get("label", pipeline_id)).lower()] = pipeline_id
        for stage in pipeline.get("stages") or []:
            metadata = stage.get("metadata") or {}
            closed = str(metadata.get("isClosed", "false")).lower() == "true"
            won = closed and _number(metadata.get("probability")) == 1
            stages[(pipeline_id, str(stage.get("id")))] = Stage(is_closed=closed, is_won=won)
    return Pipelines(stages=stages, ids=ids)


# ---------------------------------------------------------------- pages


def to_page(
    source: str, rows: Iterable[Any], plan: StreamPlan, *, pipelines: Pipelines, cursor: Cursor | None
) -> Page:
    """A page of records; out-of-scope deals arrive as deletes (a deal that left the pipeline)."""
    records: list[Record] = []
    rejected: list[BadRecordError] = []
    for row in rows:
        try:
            records.append(to_record(source, row, plan, pipelines=pipelines))
        except BadRecordError as exc:
            rejected.append(exc)
    return Page(records=records, rejected=rejected, cursor=cursor)


def to_record(source: str, row: Any, plan: StreamPlan, *, pipelines: Pipelines) -> Record:
    record_id = row.get("id") if isinstance(row, Mapping) else None
    if not isinstance(record_id, str) or not isinstance(row.get("properties"), Mapping):
        raise BadRecordError(plan.stream, None, "not a HubSpot object (no id or properties)")
    props: Mapping[str, Any] = row["properties"]
    get = _getter(plan, props)
    deleted = bool(row.get("archived")) or not plan.in_scope(props)
    archived_at = row.get("archivedAt") if row.get("archived") else None
    modified_at = _instant(archived_at, plan.stream, record_id, field="modified_at")
    modified_at = modified_at or _instant(
        props.get(MODIFIED) or row.get("updatedAt"), plan.stream, record_id, field="modified_at"
    )
    if modified_at is None:
        raise BadRecordError(plan.stream, record_id, f"{MODIFIED} is empty", field="modified_at")
    attributes = {name: props.get(prop) for name, prop in plan.attributes.items()}
    common = Common(source, record_id, get, modified_at, deleted, attributes, plan.stream, plan.zone)
    if plan.stream == "calls":
        return to_call(common)
    stage = pipelines.stages.get((str(get("pipeline")), str(get("stage"))))
    if plan.stream == "deals":
        return to_deal(common, stage)
    return to_renewal(common, stage)


@dataclass(frozen=True, slots=True)
class Common:
    source: str
    id: str
    get: Callable[[str], Any]
    modified_at: datetime
    deleted: bool
    attributes: dict[str, Any]
    stream: StreamName = "deals"
    zone: tzinfo = UTC


def to_deal(c: Common, stage: Stage | None) -> Deal:
    won_flag = c.get("is_won")
    is_won = _bool(won_flag) if won_flag not in (None, "") else bool(stage and stage.is_won)
    return Deal(
        source=c.source,
        id=c.id,
        owner_id=_text(c.get("owner_id")),
        account_id=_text(c.get("account_id")),
        amount=_amount(c),
        currency=_text(c.get("currency")),
        stage=_text(c.get("stage")),
        pipeline=_text(c.get("pipeline")),
        type=DEAL_TYPES.get((_text(c.get("type")) or "").lower(), "other"),
        is_closed=bool(stage and stage.is_closed) or is_won,
        is_won=is_won,
        created_at=_instant(c.get("created_at"), "deals", c.id, field="created_at"),
        close_date=_local_date(c.get("close_date"), c.zone, "deals", c.id, field="close_date"),
        modified_at=c.modified_at,
        deleted=c.deleted,
        attributes=c.attributes,
    )


def to_call(c: Common) -> Call:
    duration_ms = _finite(c.get("duration_ms"), "calls", c.id, field="duration_seconds")
    outcome = _text(c.get("outcome"))
    direction = _text(c.get("direction"))
    return Call(
        source=c.source,
        id=c.id,
        owner_id=_text(c.get("owner_id")),
        occurred_at=_instant(c.get("occurred_at"), "calls", c.id, field="occurred_at"),
        duration_seconds=None if duration_ms is None else round(float(duration_ms) / 1000),
        outcome=DISPOSITIONS.get(outcome, outcome) if outcome else None,
        direction=direction.lower() if direction else None,
        modified_at=c.modified_at,
        deleted=c.deleted,
        attributes=c.attributes,
    )


def to_renewal(c: Common, stage: Stage | None) -> Renewal:
    due_date = _local_date(c.get("due_date"), c.zone, "renewals", c.id, field="due_date")
    status: RenewalStatus = "open"
    if stage is not None and stage.is_closed:
        status = "renewed" if stage.is_won else "churned"
    return Renewal(
        source=c.source,
        id=c.id,
        owner_id=_text(c.get("owner_id")),
        account_id=_text(c.get("account_id")),
        amount=_amount(c),
        due_date=due_date,
        status=status,
        closed_at=_closed_at(c.get("due_date"), c.zone, c.id) if status != "open" else None,
        modified_at=c.modified_at,
        deleted=c.deleted,
        attributes=c.attributes,
    )


def to_owner_page(source: str, rows: Iterable[Any], *, active: bool) -> OwnerPage:
    """Owners of `GET /crm/v3/owners`; archived owners are inactive; team = the primary team (§3.5)."""
    owners: list[Owner] = []
    rejected: list[BadRecordError] = []
    for row in rows:
        owner_id = row.get("id") if isinstance(row, Mapping) else None
        modified_at = _instant(row.get("updatedAt"), "owners", str(owner_id)) if owner_id else None
        if not isinstance(owner_id, str) or modified_at is None:
            rejected.append(
                BadRecordError("owners", str(owner_id) if owner_id else None, "no id or updatedAt")
            )
            continue
        teams = [t for t in row.get("teams") or [] if isinstance(t, Mapping)]
        primary = next((t for t in teams if t.get("primary")), teams[0] if teams else None)
        email = _text(row.get("email"))
        name = " ".join(part for part in (_text(row.get("firstName")), _text(row.get("lastName"))) if part)
        owners.append(
            Owner(
                source=source,
                id=owner_id,
                name=name or None,
                email=email.strip().lower() if email else None,
                active=active and not row.get("archived"),
                team=_text(primary.get("name")) if primary else None,
                region=None,
                record_id=owner_id,
                modified_at=modified_at,
            )
        )
    return OwnerPage(owners=owners, rejected=rejected)


def next_after(raw: Any) -> str | None:
    """`paging.next.after`, absent on the last page (docs/crm-apis.md §3.1)."""
    after = ((raw.get("paging") or {}).get("next") or {}).get("after") if isinstance(raw, Mapping) else None
    return str(after) if after is not None else None


def results(raw: Any) -> list[Any]:
    return _results(raw)


def to_instant(value: Any) -> datetime | None:
    """An ISO-8601 string or epoch milliseconds as an aware UTC datetime; None when unreadable.

    Paging and cursors read stamps through this: an unreadable one must not stop the pull (the
    record itself is rejected by `to_record`)."""
    try:
        return _instant(value, "deals", "?")
    except BadRecordError:
        return None


# ---------------------------------------------------------------- values


def _results(raw: Any) -> list[Any]:
    found = raw.get("results") if isinstance(raw, Mapping) else None
    return [row for row in found if isinstance(row, Mapping)] if isinstance(found, list) else []


def _getter(plan: StreamPlan, props: Mapping[str, Any]) -> Callable[[str], Any]:
    def get(name: str) -> Any:
        prop = plan.fields.get(name)
        return props.get(prop) if prop else None

    return get


def _amount(c: Common) -> Decimal | None:
    value = c.get("amount")
    if value in (None, ""):
        value = c.get("amount_fallback")
    return _finite(value, c.stream, c.id, field="amount")


def _finite(value: Any, stream: str, record_id: str, *, field: str) -> Decimal | None:
    """A finite number, or None for an empty value; NaN, sNaN, ±Infinity and text are bad values."""
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value).strip()) if isinstance(value, str | int | float) else None
    except InvalidOperation:
        number = None
    if number is None or isinstance(value, bool) or not number.is_finite():
        raise BadRecordError(stream, record_id, f"{field} is not a finite number", field=field, value=value)
    return number


def _number(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _bool(value: Any) -> bool:
    return str(value).strip().lower() == "true"


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _instant(value: Any, stream: str, record_id: str, *, field: str | None = None) -> datetime | None:
    if value in (None, ""):
        return None
    text = str(value)
    try:
        if text.isdigit():  # epoch milliseconds (docs/crm-apis.md §3.2, §3.6)
            return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):  # OSError: an epoch beyond the platform's range
        reason = f"{field or 'value'} is not a date-time"
        raise BadRecordError(stream, record_id, reason, field=field, value=value) from None
    return parsed.replace(tzinfo=parsed.tzinfo or UTC).astimezone(UTC)


def _is_plain_date(value: Any) -> bool:  # a `date` property ("2026-03-31"), not an instant
    return isinstance(value, str) and len(value.strip()) == 10 and "-" in value


def _local_date(value: Any, zone: tzinfo, stream: str, record_id: str, *, field: str) -> date | None:
    """A `date` property's day as it is; a datetime's (closedate) day in `zone` (README "Local dates")."""
    if _is_plain_date(value):
        try:
            return date.fromisoformat(str(value).strip())
        except ValueError:
            reason = f"{field} is not a date"
            raise BadRecordError(stream, record_id, reason, field=field, value=value) from None
    instant = _instant(value, stream, record_id, field=field)
    return instant.astimezone(zone).date() if instant else None


def _closed_at(value: Any, zone: tzinfo, record_id: str) -> datetime | None:
    """When a renewal closed: closedate's instant, or local midnight of a plain date's day."""
    if _is_plain_date(value):
        day = _local_date(value, zone, "renewals", record_id, field="due_date")
        return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC) if day else None
    return _instant(value, "renewals", record_id, field="due_date")
