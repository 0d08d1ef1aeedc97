"""Raw Salesforce JSON → canonical records, pages and object descriptions.

The only module where `Any` is allowed: raw query rows and describe bodies enter here and leave
as typed records. A value that cannot be mapped makes a `BadRecordError`, never a crash. No HTTP.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from typing import Any

from syncer.contract import Cursor, OwnerPage, Page
from syncer.errors import BadRecordError
from syncer.records import Call, Deal, DealType, Owner, Record, Renewal, RenewalStatus, StreamName

# canonical name → Salesforce field path ("RecordType.DeveloperName"), None when not selected
FieldPaths = Mapping[str, str | None]
Getter = Callable[[str], Any]


class _BadValueError(ValueError):
    """One field of one row cannot be read; the row becomes a BadRecordError."""


# ---------------------------------------------------------------- describe


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """What okrsync needs of one field of a describe (docs/crm-apis.md §1.10)."""

    name: str
    type: str
    updateable: bool
    createable: bool
    external_id: bool
    relationship: str | None  # "RecordType" for RecordTypeId: the prefix of dotted paths
    scale: int = 0  # decimal places a number field keeps: a written value is rounded to them


@dataclass(frozen=True, slots=True)
class ObjectDescription:
    """The fields of one sObject the integration user can see, by lower-cased name."""

    name: str
    fields: Mapping[str, FieldInfo]

    def field(self, name: str) -> FieldInfo | None:
        return self.fields.get(name.lower())  # field names are case-insensitive in SOQL

    def resolve(self, path: str) -> str | None:
        """`path` spelled as the org spells it (JSON keys follow that), or None if unknown.

        A dotted path is checked up to its relationship; the parent object is not described.
        """
        head, dot, rest = path.partition(".")
        if not dot:
            found = self.field(head)
            return found.name if found else None
        parent = next(
            (f.relationship for f in self.fields.values() if (f.relationship or "").lower() == head.lower()),
            None,
        )
        return f"{parent}.{rest}" if parent else None


def to_description(raw: Any) -> ObjectDescription:
    """Parse a `sobjects/{name}/describe` body."""
    fields = {
        str(f["name"]).lower(): FieldInfo(
            name=str(f["name"]),
            type=str(f.get("type") or ""),
            updateable=bool(f.get("updateable")),
            createable=bool(f.get("createable")),
            external_id=bool(f.get("externalId")),
            relationship=f.get("relationshipName") or None,
            scale=int(f.get("scale") or 0),
        )
        for f in raw.get("fields") or []
    }
    return ObjectDescription(name=str(raw.get("name") or ""), fields=fields)


# ---------------------------------------------------------------- pages


@dataclass(frozen=True, slots=True)
class RowMap:
    """Where each canonical field and attribute sits in a query row."""

    paths: FieldPaths  # canonical → path as the org spells it (JSON keys follow it); None: not selected
    attributes: Mapping[str, str]  # attribute name → path
    zone: tzinfo = UTC  # the YAML's `timezone`: a datetime read as a calendar day is read there


def to_page(
    source: str, stream: StreamName, rows: Iterable[Any], row_map: RowMap, *, start: Cursor | None
) -> Page:
    """One query page as a Page; its cursor is the last mapped row's (modified_at, id), else `start`."""
    build = _BUILDERS[stream]
    read = _reader(row_map.paths, _FIELDS[stream])
    attributes, zone = row_map.attributes, row_map.zone
    records: list[Record] = []
    rejected: list[BadRecordError] = []
    for row in rows:
        try:
            record = build(source, read(row), _attributes(row, attributes) if attributes else {}, zone)
        except _BadValueError as exc:
            rejected.append(BadRecordError(stream, _row_id(row), str(exc)))
            continue
        records.append(record)
    cursor = Cursor(modified_at=records[-1].modified_at, last_id=records[-1].id) if records else start
    return Page(records=records, rejected=rejected, cursor=cursor)


def is_unread(row: Any, row_map: RowMap, cursor: Cursor | None) -> bool:
    """False for a row the cursor says is stored: at or before (modified_at, last_id).

    SOQL bounds are whole seconds (`format_soql`), so a resumed query reads part of the cursor's
    second again. A cursor without an id is inclusive. A row whose stamp cannot be read is kept,
    so that it is rejected, not lost.
    """
    if cursor is None:
        return True
    paths = row_map.paths
    try:
        modified_at = _instant(_at(row, paths.get("modified_at")), "modified_at")
    except _BadValueError:
        return True
    if modified_at is None or modified_at != cursor.modified_at:
        return modified_at is None or modified_at > cursor.modified_at
    row_id = _text(_at(row, paths.get("id")))
    return cursor.last_id is None or row_id is None or row_id > cursor.last_id


def to_owner_page(source: str, rows: Iterable[Any], row_map: RowMap) -> OwnerPage:
    """One page of User rows as owners."""
    owners: list[Owner] = []
    rejected: list[BadRecordError] = []
    for row in rows:
        try:
            owners.append(to_owner(source, _getter(row, row_map.paths)))
        except _BadValueError as exc:
            rejected.append(BadRecordError("owners", _row_id(row), str(exc)))
    return OwnerPage(owners=owners, rejected=rejected)


@dataclass(frozen=True, slots=True)
class QueryResult:
    """One page of a query / queryMore response (docs/crm-apis.md §1.1)."""

    rows: list[Any]
    next_url: str | None  # host-relative; None on the last page (`done`)


def to_query_result(raw: Any) -> QueryResult | None:
    """The page, or None when the body is not a query result at all."""
    rows = raw.get("records") if isinstance(raw, Mapping) else None
    if not isinstance(rows, list):
        return None
    next_url = None if raw.get("done", True) else raw.get("nextRecordsUrl")
    return QueryResult(rows=rows, next_url=next_url if isinstance(next_url, str) else None)


def to_save_result(raw: Any) -> tuple[bool, str | None, str | None, str | None]:
    """(success, id, first statusCode, first message) of one sObject Collections result (§1.4)."""
    if not isinstance(raw, Mapping):
        return False, None, "NO_RESULT", "Salesforce returned no result for this record"
    errors = raw.get("errors") or []
    first = errors[0] if errors and isinstance(errors[0], Mapping) else {}
    return bool(raw.get("success")), raw.get("id"), first.get("statusCode"), first.get("message")


# ---------------------------------------------------------------- records


# Each builder reads a row's values as one tuple, in the order of its stream's `_FIELDS`: a page
# of thousands of rows is mapped without a lookup function or a value object per field.
_FIELDS: dict[StreamName, tuple[str, ...]] = {
    "deals": ("id", "owner_id", "account_id", "amount", "currency", "stage", "pipeline", "type",
              "is_closed", "is_won", "created_at", "close_date", "modified_at", "deleted"),
    "calls": ("id", "owner_id", "occurred_at", "duration_seconds", "outcome", "direction", "modified_at",
              "deleted"),
    "renewals": ("id", "owner_id", "account_id", "amount", "due_date", "is_closed", "is_won", "modified_at",
                 "deleted"),
}  # fmt: skip


def to_deal(source: str, values: Sequence[Any], attributes: dict[str, Any], zone: tzinfo = UTC) -> Deal:
    (record_id, owner_id, account_id, amount, currency, stage, pipeline, kind, is_closed, is_won,
     created_at, close_date, modified_at, deleted) = values  # fmt: skip
    return Deal(
        source,
        _required_id(record_id),
        owner_id if type(owner_id) is str else _text(owner_id),
        account_id if type(account_id) is str else _text(account_id),
        _decimal(amount, "amount"),
        currency if type(currency) is str else _text(currency),
        stage if type(stage) is str else _text(stage),
        pipeline if type(pipeline) is str else _text(pipeline),
        deal_type(kind if type(kind) is str else _text(kind)),
        is_closed if type(is_closed) is bool else _bool(is_closed, "is_closed"),
        is_won if type(is_won) is bool else _bool(is_won, "is_won"),
        _instant(created_at, "created_at"),
        _date(close_date, "close_date", zone),
        _required_modified(modified_at),
        deleted if type(deleted) is bool else _bool(deleted, "deleted"),
        attributes,
    )


def to_call(source: str, values: Sequence[Any], attributes: dict[str, Any], zone: tzinfo = UTC) -> Call:
    del zone  # a call has instants only; the rollup reads their local dates
    record_id, owner_id, occurred_at, seconds, outcome, direction, modified_at, deleted = values
    direction = direction if type(direction) is str else _text(direction)
    return Call(
        source,
        _required_id(record_id),
        owner_id if type(owner_id) is str else _text(owner_id),
        _instant(occurred_at, "occurred_at"),
        _int(seconds, "duration_seconds"),
        outcome if type(outcome) is str else _text(outcome),
        direction.lower() if direction else None,
        _required_modified(modified_at),
        deleted if type(deleted) is bool else _bool(deleted, "deleted"),
        attributes,
    )


def to_renewal(source: str, values: Sequence[Any], attributes: dict[str, Any], zone: tzinfo = UTC) -> Renewal:
    record_id, owner_id, account_id, amount, due, is_closed, is_won, modified_at, deleted = values
    closed = is_closed if type(is_closed) is bool else _bool(is_closed, "is_closed")
    won = is_won if type(is_won) is bool else _bool(is_won, "is_won")
    due_date = _date(due, "due_date", zone)
    status: RenewalStatus = ("renewed" if won else "churned") if closed else "open"
    return Renewal(
        source,
        _required_id(record_id),
        owner_id if type(owner_id) is str else _text(owner_id),
        account_id if type(account_id) is str else _text(account_id),
        _decimal(amount, "amount"),
        due_date,
        status,
        # Opportunity has no "closed at" instant, only CloseDate, which Salesforce sets to the
        # day the stage closed: local midnight of that day keeps it in the configured zone
        # (midnight UTC is the day before west of UTC).
        _local_midnight(due_date, zone) if closed and due_date else None,
        _required_modified(modified_at),
        deleted if type(deleted) is bool else _bool(deleted, "deleted"),
        attributes,
    )


def to_owner(source: str, get: Getter) -> Owner:
    user_id = _required_text(get, "id")
    email = _text(get("email"))
    return Owner(
        source=source,
        id=user_id,
        name=_text(get("name")),
        email=email.strip().lower() if email else None,
        active=_bool(get("active"), "active"),
        team=_text(get("team")),
        region=_text(get("region")),
        record_id=user_id,  # write-back to a rep's User record targets the user id itself
        modified_at=_required_instant(get, "modified_at"),
    )


def deal_type(value: str | None) -> DealType:
    """Classify the Opportunity `Type` picklist; "Existing Customer - Renewal" is a renewal."""
    known = _DEAL_TYPES.get(value)
    if known is None:
        known = _classify(value)
        if len(_DEAL_TYPES) < 1024:
            _DEAL_TYPES[value] = known
    return known


# A picklist has a handful of values: each is classified once (bounded, in case it is free text).
_DEAL_TYPES: dict[str | None, DealType] = {}


def _classify(value: str | None) -> DealType:
    text = (value or "").lower()
    if "renewal" in text:  # before "new": "renewal" contains it
        return "renewal"
    if "new" in text:
        return "new"
    if any(word in text for word in ("existing", "upgrade", "upsell", "expansion")):
        return "expansion"
    return "other"


_BUILDERS: dict[StreamName, Callable[[str, Sequence[Any], dict[str, Any], tzinfo], Record]] = {
    "deals": to_deal,
    "calls": to_call,
    "renewals": to_renewal,
}

# ---------------------------------------------------------------- values


def value_at(row: Any, path: str) -> Any:
    """The value at a dotted path; a null relationship ("RecordType": null) gives None."""
    value = row
    for part in path.split("."):
        if type(value) is not dict and not isinstance(value, Mapping):  # dict: no ABC check per row
            return None
        if part in value:
            value = value[part]
        else:  # the YAML may spell a field in another case than the org does
            value = next((v for k, v in value.items() if k.lower() == part.lower()), None)
    return value


def to_json_safe(value: Any) -> Any:
    """A JSON-storable copy: Decimal → int/float, relationship objects without `attributes`."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        return {str(k): to_json_safe(v) for k, v in value.items() if k != "attributes"}
    if isinstance(value, list):
        return [to_json_safe(v) for v in value]
    return value


def _reader(paths: FieldPaths, names: Sequence[str]) -> Callable[[Any], Sequence[Any]]:
    """A function from a row to the values at `names`' paths, in that order (None: not selected).

    Top-level fields, the common case, are read by one `itemgetter`; a dotted path by a getter of
    its own (`_path_getter`); one more `itemgetter` puts them in order. A row that lacks a
    top-level key (the org spells it in another case than the describe) goes through `value_at`.
    """
    spots = [(i, paths.get(name)) for i, name in enumerate(names)]
    flat = [(i, path) for i, path in spots if path and "." not in path]
    others = [(i, path) for i, path in spots if not path or "." in path]
    keys = [path for _, path in flat]
    if not keys:
        return lambda row: [_at(row, path) for _, path in spots]
    pick = itemgetter(*keys) if len(keys) > 1 else (lambda row: (row[keys[0]],))
    in_order: Callable[[Any], Sequence[Any]]
    if not others and [i for i, _ in flat] == list(range(len(names))):
        in_order = pick
    else:
        # Flat values first, then the others: where each name's value sits in that tuple.
        position = {i: n for n, (i, _) in enumerate([*flat, *others])}
        order = itemgetter(*(position[i] for i in range(len(names))))
        getters = [_path_getter(path) for _, path in others]

        def in_order(row: Any) -> Sequence[Any]:
            return order((*pick(row), *[get(row) for get in getters]))  # type: ignore[no-any-return]

    def read(row: Any) -> Sequence[Any]:
        try:
            return in_order(row)
        except (KeyError, TypeError):
            return [_at(row, path) for _, path in spots]

    return read


def _path_getter(path: str | None) -> Callable[[Any], Any]:
    """Reads a dotted path (or None: nothing) of a row; `Parent.Field` of plain dicts directly."""
    if not path:
        return lambda row: None
    parts = path.split(".")
    if len(parts) != 2:
        return lambda row: value_at(row, path)
    head, leaf = parts

    def get(row: Any) -> Any:
        parent = row.get(head, _ABSENT) if type(row) is dict else _ABSENT
        if parent is None:
            return None  # a null relationship ("RecordType": null)
        if type(parent) is dict and leaf in parent:
            return parent[leaf]
        return value_at(row, path)

    return get


_ABSENT = object()


def _at(row: Any, path: str | None) -> Any:
    return value_at(row, path) if path else None


def _getter(row: Any, paths: FieldPaths) -> Getter:
    def get(name: str) -> Any:
        path = paths.get(name)
        return value_at(row, path) if path else None

    return get


def _attributes(row: Any, attributes: Mapping[str, str]) -> dict[str, Any]:
    return {name: to_json_safe(value_at(row, path)) for name, path in attributes.items()}


def _row_id(row: Any) -> str | None:
    value = row.get("Id") if isinstance(row, Mapping) else None
    return value if isinstance(value, str) else None


def _required_text(get: Getter, name: str) -> str:
    value = _text(get(name))
    if not value:
        raise _BadValueError(f"{name} is missing")
    return value


def _required_id(value: Any) -> str:
    text = value if type(value) is str else _text(value)
    if not text:
        raise _BadValueError("id is missing")
    return text


def _required_modified(value: Any) -> datetime:
    instant = _instant(value, "modified_at")
    if instant is None:
        raise _BadValueError("modified_at is missing")
    return instant


def _required_instant(get: Getter, name: str) -> datetime:
    value = _instant(get(name), name)
    if value is None:
        raise _BadValueError(f"{name} is missing")
    return value


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, Mapping | list):
        return None
    return str(value)


def _decimal(value: Any, name: str) -> Decimal | None:
    if value is None:
        return None
    if type(value) is Decimal:  # REST JSON is parsed with parse_float=Decimal (client.py)
        if not value.is_finite():
            raise _BadValueError(f"{name} is not a finite number")
        return value
    if isinstance(value, bool):
        raise _BadValueError(f"{name} is not a number")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise _BadValueError(f"{name} is not a number") from None
    if not number.is_finite():
        raise _BadValueError(f"{name} is not a finite number")
    return number


def _int(value: Any, name: str) -> int | None:
    number = _decimal(value, name)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise _BadValueError(f"{name} is not a whole number")
    return int(number)


def _bool(value: Any, name: str) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _BadValueError(f"{name} is not a boolean")


def _instant(value: Any, name: str) -> datetime | None:
    """Salesforce datetimes are `2024-04-01T10:11:12.000+0000` (docs/crm-apis.md §1.1)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value if type(value) is str else str(value))
    except ValueError:
        raise _BadValueError(f"{name} is not a datetime") from None
    if parsed.tzinfo is UTC:  # what Salesforce sends (+0000): already as the store keeps it
        return parsed
    if parsed.tzinfo is None:
        raise _BadValueError(f"{name} has no time zone")
    return parsed.astimezone(UTC)


def _date(value: Any, name: str, zone: tzinfo) -> date | None:
    """A `date` field ("2026-03-31") as it is; a datetime mapped here, by its day in `zone`."""
    if value is None:
        return None
    text = value if type(value) is str else str(value)
    if len(text) > 10:  # a datetime (README "Local dates"): its UTC date may be another day
        instant = _instant(text, name)
        return instant.astimezone(zone).date() if instant else None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _BadValueError(f"{name} is not a date") from None


def _local_midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
