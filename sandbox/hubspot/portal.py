"""The sandbox portal: object types with their properties and records, owners, pipelines, schemas.

Records are kept per object type in id order (ids grow), so list paging by `after` is a bisect.
Every change goes through `Portal` under one lock; it stamps `hs_lastmodifieddate`/`updatedAt`
from the sandbox clock. The HTTP handlers and the test helpers both use these methods.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sandbox.hubspot.exchange import validation_error
from sandbox.hubspot.properties import PropertyDef
from sandbox.hubspot.values import PropertyValue, to_hs_time, to_hs_value
from sandbox.salesforce.clock import SandboxClock

PORTAL_ID = 24_680_135
FIRST_RECORD_ID = 10_000_000_001
Derive = Callable[["Portal", "HsRecord"], None]  # recomputes calculated properties after a change


@dataclass(slots=True)
class HsRecord:
    """One CRM record; `properties` holds HubSpot's string values."""

    id: str
    properties: dict[str, PropertyValue]
    created_at: datetime
    updated_at: datetime
    archived: bool = False
    archived_at: datetime | None = None

    def to_json(self, names: Iterable[str]) -> dict[str, Any]:
        """`{id, properties, createdAt, updatedAt, archived}` with the requested (existing) properties."""
        body: dict[str, Any] = {
            "id": self.id,
            "properties": {name: self.properties.get(name) for name in names},
            "createdAt": to_hs_time(self.created_at),
            "updatedAt": to_hs_time(self.updated_at),
            "archived": self.archived,
        }
        if self.archived_at is not None:
            body["archivedAt"] = to_hs_time(self.archived_at)
        return body


@dataclass(slots=True)
class ObjectType:
    """An object type (`deals`, `0-3`, …): its properties and records."""

    name: str
    type_id: str
    singular: str  # upper-case, as in HubSpot's messages ("Could not get some DEAL objects")
    default_properties: tuple[str, ...]
    properties: dict[str, PropertyDef]
    derive: Derive | None = None
    records: dict[str, HsRecord] = field(default_factory=dict)
    ids: list[int] = field(default_factory=list)  # ascending
    property_groups: set[str] = field(default_factory=set)  # created through POST …/groups

    def unique_properties(self) -> list[str]:
        return [p.name for p in self.properties.values() if p.has_unique_value]

    def iter_from(self, after: int) -> Iterator[HsRecord]:
        """Records with an id above `after`, in id order."""
        for record_id in self.ids[bisect.bisect_right(self.ids, after) :]:
            yield self.records[str(record_id)]

    def find_unique(self, name: str, value: str) -> HsRecord | None:
        for record in self.records.values():
            if not record.archived and record.properties.get(name) == value:
                return record
        return None

    def known(self, names: Iterable[str]) -> list[str]:
        return [name for name in names if name in self.properties]


class Portal:
    """The whole CRM state of the sandbox; thread-safe through `lock`."""

    def __init__(self, clock: SandboxClock) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.portal_id = PORTAL_ID
        self.company_currency = "USD"  # what amount_in_home_currency is in
        self.additional_currencies: list[str] = []
        self.time_zone = "US/Eastern"
        self.types: dict[str, ObjectType] = {}
        self.aliases: dict[str, str] = {}  # any accepted spelling -> type name
        self.owners: list[dict[str, Any]] = []  # owner JSON, in id order
        self.pipelines: list[dict[str, Any]] = []  # deal pipeline JSON
        self.schemas: list[dict[str, Any]] = []  # custom object schemas
        self._next_id = FIRST_RECORD_ID

    # -- object types

    def add_type(self, object_type: ObjectType, *aliases: str) -> None:
        with self.lock:
            self.types[object_type.name] = object_type
            for alias in (object_type.name, object_type.type_id, *aliases):
                self.aliases[alias.lower()] = object_type.name

    def object_type(self, name: str) -> ObjectType:
        """The type for a name, type id or alias; 400 as HubSpot answers an unknown type."""
        type_name = self.aliases.get(name.lower())
        if type_name is None:
            raise validation_error(f"Unable to infer object type from: {name}")
        return self.types[type_name]

    def new_id(self) -> str:
        with self.lock:
            record_id, self._next_id = self._next_id, self._next_id + 1
            return str(record_id)

    # -- records

    def load(self, type_name: str, records: Iterable[HsRecord]) -> None:
        """Add seeded records as they are (ids must grow)."""
        object_type = self.types[type_name]
        with self.lock:
            for record in records:
                object_type.records[record.id] = record
                object_type.ids.append(int(record.id))

    def create(self, type_name: str, values: Mapping[str, object], *, at: datetime | None = None) -> HsRecord:
        """A new record with `values`, stamped now (or `at`)."""
        object_type = self.object_type(type_name)
        with self.lock:
            stamp = at or self.clock.now()
            record_id = self.new_id()
            record = HsRecord(record_id, {}, stamp, stamp)
            self._apply(object_type, record, values, stamp)
            record.properties.setdefault("hs_createdate", to_hs_time(stamp))
            if "createdate" in object_type.properties:
                record.properties.setdefault("createdate", to_hs_time(stamp))
            object_type.records[record_id] = record
            object_type.ids.append(int(record_id))
            return record

    def update(
        self, type_name: str, record_id: str, values: Mapping[str, object], *, at: datetime | None = None
    ) -> HsRecord:
        """Change properties; bumps `hs_lastmodifieddate` and `updatedAt` even when nothing changed."""
        object_type = self.object_type(type_name)
        with self.lock:
            record = object_type.records[record_id]
            self._apply(object_type, record, values, at or self.clock.now())
            return record

    def archive(self, type_name: str, record_id: str) -> HsRecord:
        """Archive (HubSpot's delete): the record leaves lists and search, and shows with archived=true."""
        object_type = self.object_type(type_name)
        with self.lock:
            record = object_type.records[record_id]
            now = self.clock.now()
            record.archived, record.archived_at, record.updated_at = True, now, now
            return record

    def _apply(
        self, object_type: ObjectType, record: HsRecord, values: Mapping[str, object], at: datetime
    ) -> None:
        for name, value in values.items():
            text = to_hs_value(value)
            record.properties[name] = None if text == "" else text  # an empty string clears (§3.6)
        if object_type.derive is not None:
            object_type.derive(self, record)
        record.properties["hs_object_id"] = record.id
        record.properties["hs_lastmodifieddate"] = to_hs_time(at)
        record.updated_at = at

    def record_count(self, type_name: str, *, archived: bool = False) -> int:
        object_type = self.object_type(type_name)
        with self.lock:
            return sum(1 for record in object_type.records.values() if record.archived == archived)

    def bulk_touch(self, type_name: str, count: int, *, step: timedelta) -> list[str]:
        """Modify `count` live records (cloning existing ones when there are fewer), oldest id first;
        their `hs_lastmodifieddate`s climb by `step` and end at now. Returns their ids."""
        object_type = self.object_type(type_name)
        with self.lock:
            live = [record for record in object_type.records.values() if not record.archived]
            if not live:
                raise ValueError(f"no {type_name} to touch")
            now = self.clock.now()
            touched: list[str] = []
            for n in range(count):
                at = now - step * (count - 1 - n)
                if n < len(live):
                    touched.append(self.update(type_name, live[n].id, {}, at=at).id)
                else:
                    template = live[n % len(live)].properties
                    skipped = {
                        *object_type.unique_properties(),
                        "hs_object_id",
                        "hs_createdate",
                        "createdate",
                    }
                    values = {k: v for k, v in template.items() if k not in skipped}
                    touched.append(self.create(type_name, values, at=at).id)
            return touched
