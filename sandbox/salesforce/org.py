"""The in-memory state of the sandbox org: records per object, id index, write stamps, one lock.

Writes through the org are "admin" writes by default (types are checked, access flags are not, and
system fields may be set), which is how tests arrange data; the REST layer passes
`enforce_access=True` to play the integration user. Every write bumps `SystemModstamp` and
`LastModifiedDate` to the sandbox clock, strictly increasing by at least a millisecond per write.
Deletes are soft (IsDeleted = true): `query` hides the row, `queryAll` shows it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sandbox.salesforce import org_schema, values
from sandbox.salesforce.clock import SandboxClock
from sandbox.salesforce.errors import RecordError
from sandbox.salesforce.ids import IdSequence, is_valid_id, to_id18
from sandbox.salesforce.schema import ObjectDef, Schema
from sandbox.salesforce.soql import Projector, flatten, prepare_query, select_ids

Record = dict[str, Any]
ONE_MILLISECOND = timedelta(milliseconds=1)
API_VERSION = "59.0"  # for the attribute URLs of `select` rows
STAMP_FIELDS = ("LastModifiedDate", "SystemModstamp")
ACCESS_HINT = "Please check the security settings of this field and verify that it is read/write for your profile or permission set."


@dataclass(frozen=True, slots=True)
class PendingWrite:
    """A checked write, applied later (so a batch can be rolled back before anything changes)."""

    object_name: str
    record_id: str | None  # None: insert
    changes: dict[str, Any]


class Org:
    """Records of every object, keyed by 18-character id; thread-safe through `lock`."""

    def __init__(self, schema: Schema, clock: SandboxClock, *, currency_rates: Mapping[str, float]) -> None:
        self.schema = schema
        self.clock = clock
        self.lock = threading.RLock()
        self.org_id = to_id18("00DDn0000SANDBX")
        self.corporate_currency = "USD"
        self.currency_rates = dict(currency_rates)  # units per 1 corporate-currency unit
        self.running_user_id = ""  # the integration user, set when the org is seeded
        self._tables: dict[str, dict[str, Record]] = {o.name: {} for o in schema}
        self._index: dict[str, Record] = {}
        self._sequences: dict[str, IdSequence] = {}
        self._last_stamp = values.truncate_to_millis(clock.now()) - ONE_MILLISECOND

    # -- reads (RecordSource for the SOQL evaluator; callers hold `lock`)

    def rows(self, object_name: str) -> Iterable[Record]:
        return self._tables.get(self.schema.require(object_name).name, {}).values()

    def lookup(self, record_id: str) -> Record | None:
        return self._index.get(record_id if len(record_id) == 18 else to_id18(record_id))

    # -- reads for tests and the REST layer (copies)

    def get(self, object_name: str, record_id: str) -> Record | None:
        """A copy of the record (deleted ones included), or None."""
        with self.lock:
            record = self.lookup(record_id) if is_valid_id(record_id) else None
            definition = self.schema.object(object_name)
            if (
                record is None
                or definition is None
                or self.schema.object_for_id(record["Id"]) is not definition
            ):
                return None
            return _with_all_fields(definition, record)

    def records(self, object_name: str, *, include_deleted: bool = False) -> list[Record]:
        """Copies of every record of the object, in insertion order."""
        definition = self.schema.require(object_name)
        with self.lock:
            return [
                _with_all_fields(definition, r)
                for r in self.rows(object_name)
                if include_deleted or not r.get("IsDeleted")
            ]

    def find_ids(self, object_name: str, field_name: str, value: Any) -> list[str]:
        """Ids of live records whose field equals `value` (text compares case-insensitively)."""
        field = self.schema.require(object_name).field(field_name)
        if field is None:
            raise KeyError(f"no field {field_name!r} on {object_name}")
        wanted = value.lower() if isinstance(value, str) else value
        with self.lock:
            return [
                r["Id"]
                for r in self.rows(object_name)
                if not r.get("IsDeleted")
                and ((v.lower() if isinstance(v := r.get(field.name), str) else v) == wanted)
            ]

    def select(self, soql: str, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        """Run SOQL over the org: flat rows of JSON values, e.g. {"Id": …, "Owner.Email": …}."""
        bound = prepare_query(soql, self.schema)
        with self.lock:
            ids = select_ids(bound, self, include_deleted=include_deleted, today=self.clock.now().date())
            projector = Projector(
                bound,
                source=self,
                schema=self.schema,
                api_version=API_VERSION,
                convert=self.to_user_currency,
            )
            return [flatten(projector.project(self._index[record_id])) for record_id in ids]

    # -- currencies (callers hold `lock`)

    def exchange_rate(self, iso_code: str, on: date | None) -> float:
        """Units of `iso_code` per corporate unit: the dated rate on `on` where ACM is on, else the
        CurrencyType rate (1.0 for an unknown code)."""
        if iso_code == self.corporate_currency:
            return 1.0
        if on is not None and self.schema.object("DatedConversionRate") is not None:
            for rate in self.rows("DatedConversionRate"):
                nxt = rate.get("NextStartDate")
                if rate["IsoCode"] == iso_code and rate["StartDate"] <= on and (nxt is None or on < nxt):
                    return float(rate["ConversionRate"])
        for currency in self.rows("CurrencyType"):
            if currency["IsoCode"] == iso_code:
                return float(currency["ConversionRate"])
        return 1.0

    def to_user_currency(self, record: Record, field_name: str) -> float | None:
        """convertCurrency(field): the running user's currency, dated by CloseDate on opportunities."""
        amount = record.get(field_name)
        if amount is None:
            return None
        user = self._index.get(self.running_user_id) or {}
        target = user.get("DefaultCurrencyIsoCode") or self.corporate_currency
        dated = self.schema.object_for_id(record["Id"]) is self.schema.object("Opportunity")
        on = record.get("CloseDate") if dated else None
        source = record.get("CurrencyIsoCode") or self.corporate_currency
        return round(float(amount) / self.exchange_rate(source, on) * self.exchange_rate(target, on), 2)

    # -- writes

    def next_stamp(self) -> datetime:
        """The instant of the next write: the clock, but always after the previous write."""
        with self.lock:
            now = values.truncate_to_millis(self.clock.now())
            self._last_stamp = max(now, self._last_stamp + ONE_MILLISECOND)
            return self._last_stamp

    def new_id(self, object_name: str) -> str:
        return self.id_sequence(object_name).next_id()

    def id_sequence(self, object_name: str) -> IdSequence:
        """The org's id sequence of an object (seeding draws many ids from it at once)."""
        definition = self.schema.require(object_name)
        with self.lock:
            sequence = self._sequences.get(definition.name)
            if sequence is None:
                sequence = self._sequences[definition.name] = IdSequence(definition.key_prefix)
            return sequence

    def load(self, object_name: str, records: Iterable[Record]) -> None:
        """Store complete records as they are (seeding): no checks, no stamps."""
        with self.lock:
            table = self._tables.setdefault(self.schema.require(object_name).name, {})
            for record in records:
                table[record["Id"]] = record
                self._index[record["Id"]] = record

    def insert(self, object_name: str, fields: Mapping[str, Any], *, enforce_access: bool = False) -> str:
        """Create a record and return its id; raises RecordError."""
        with self.lock:
            return self.apply(self.prepare_insert(object_name, fields, enforce_access=enforce_access))

    def update(
        self, object_name: str, record_id: str, fields: Mapping[str, Any], *, enforce_access: bool = False
    ) -> None:
        """Change fields of a live record, e.g. `org.update("Opportunity", id, {"Amount": 1000})`."""
        with self.lock:
            self.apply(self.prepare_update(object_name, record_id, fields, enforce_access=enforce_access))

    def delete(self, object_name: str, record_id: str) -> None:
        """Soft-delete: IsDeleted = true and a new SystemModstamp; raises RecordError."""
        with self.lock:
            self.apply(self.prepare_delete(object_name, record_id))

    def purge(self, object_name: str, record_id: str) -> None:
        """Remove a record for good, as if the recycle bin were emptied."""
        with self.lock:
            record = self.lookup(record_id)
            if record is not None:
                del self._tables[self.schema.require(object_name).name][record["Id"]]
                del self._index[record["Id"]]

    def prepare_insert(
        self, object_name: str, fields: Mapping[str, Any], *, enforce_access: bool = False
    ) -> PendingWrite:
        with self.lock:
            definition = self.schema.require(object_name)
            if enforce_access and not definition.createable:
                raise RecordError(
                    "INSUFFICIENT_ACCESS_OR_READONLY",
                    f"entity type {definition.name} does not support create",
                )
            changes = self._changes(definition, fields, creating=True, enforce_access=enforce_access)
            missing = [
                f.name
                for f in definition.fields.values()
                if not f.nillable
                and f.createable
                and f.default is None
                and changes.get(f.name) is None
                and f.name != "OwnerId"
            ]
            if missing:
                raise RecordError(
                    "REQUIRED_FIELD_MISSING",
                    f"Required fields are missing: [{', '.join(missing)}]",
                    fields=missing,
                )
            return PendingWrite(definition.name, None, changes)

    def prepare_update(
        self, object_name: str, record_id: str, fields: Mapping[str, Any], *, enforce_access: bool = False
    ) -> PendingWrite:
        with self.lock:
            definition = self.schema.require(object_name)
            record = self._live(definition, record_id)
            changes = self._changes(definition, fields, creating=False, enforce_access=enforce_access)
            return PendingWrite(definition.name, record["Id"], changes)

    def prepare_delete(self, object_name: str, record_id: str) -> PendingWrite:
        with self.lock:
            definition = self.schema.require(object_name)
            record = self._live(definition, record_id)
            if not definition.deletable or not definition.has_field("IsDeleted"):
                raise RecordError(
                    "INSUFFICIENT_ACCESS_OR_READONLY", "insufficient access rights on object id"
                )
            return PendingWrite(definition.name, record["Id"], {"IsDeleted": True})

    def apply(self, pending: PendingWrite) -> str:
        """Carry out a prepared write; returns the record id."""
        with self.lock:
            if pending.record_id is None:
                return self._create(pending)
            record = self._index[pending.record_id]
            record.update(pending.changes)
            _derive(pending.object_name, record, pending.changes)
            self._stamp(record, pending.changes)
            return pending.record_id

    # -- internals

    def _create(self, pending: PendingWrite) -> str:
        definition = self.schema.require(pending.object_name)
        record: Record = {name: field.default for name, field in definition.fields.items()}
        record["Id"] = self.new_id(definition.name)
        if definition.has_field("OwnerId"):
            record["OwnerId"] = self.running_user_id or None
        record.update(pending.changes)
        stamp = self.next_stamp()
        for name in ("CreatedDate", *STAMP_FIELDS):
            record[name] = pending.changes.get(name) or stamp
        _derive(definition.name, record, record)
        self.load(definition.name, [record])
        return str(record["Id"])

    def _stamp(self, record: Record, changes: Mapping[str, Any]) -> None:
        stamp = self.next_stamp()
        for name in STAMP_FIELDS:
            record[name] = changes.get(name) or stamp

    def _live(self, definition: ObjectDef, record_id: str) -> Record:
        if not isinstance(record_id, str) or not is_valid_id(record_id):
            raise RecordError("MALFORMED_ID", f"malformed id {record_id}")
        if record_id[:3] != definition.key_prefix:
            raise RecordError(
                "MALFORMED_ID", f"{definition.label} ID: id value of incorrect type: {record_id}"
            )
        record = self.lookup(record_id)
        if record is None:
            raise RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
        if record.get("IsDeleted"):
            raise RecordError("ENTITY_IS_DELETED", "entity is deleted")
        return record

    def _changes(
        self, definition: ObjectDef, fields: Mapping[str, Any], *, creating: bool, enforce_access: bool
    ) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        locked: list[str] = []
        for name, raw in fields.items():
            field = definition.field(name)
            if field is None or field.name == "Id":
                message = f"No such column '{name}' on sobject of type {definition.name}"
                raise RecordError("INVALID_FIELD", message, fields=[name])
            if enforce_access and not (field.createable if creating else field.updateable):
                locked.append(field.name)
                continue
            value = values.coerce(field, raw)
            if value is None and not field.nillable:
                raise RecordError(
                    "REQUIRED_FIELD_MISSING",
                    f"Required fields are missing: [{field.name}]",
                    fields=[field.name],
                )
            if field.type == "reference" and value is not None:
                self._check_reference(field.label, field.name, field.reference_to, value)
            changes[field.name] = value
        if locked:
            message = f"Unable to create/update fields: {', '.join(locked)}. {ACCESS_HINT}"
            raise RecordError("INVALID_FIELD_FOR_INSERT_UPDATE", message, fields=locked)
        return changes

    def _check_reference(self, label: str, name: str, targets: tuple[str, ...], value: str) -> None:
        target = self.schema.object_for_id(value)
        if target is None or target.name not in targets:
            raise RecordError(
                "FIELD_INTEGRITY_EXCEPTION", f"{label}: id value of incorrect type: {value}", fields=[name]
            )
        if self.lookup(value) is None:
            raise RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", fields=[name])


def _with_all_fields(definition: ObjectDef, record: Record) -> Record:
    """A copy of the record's current fields, None for fields it never had a value for."""
    return {name: record.get(name) for name in definition.fields}


def _derive(object_name: str, record: Record, changes: Mapping[str, Any]) -> None:
    """Fields Salesforce computes: stage flags and fiscal period of an opportunity, a user's Name."""
    if object_name == "Opportunity":
        if "StageName" in changes and record.get("StageName") in org_schema.STAGE_DEFAULTS:
            closed, won, probability, forecast = org_schema.STAGE_DEFAULTS[record["StageName"]]
            record["IsClosed"], record["IsWon"] = closed, won
            if changes.get("Probability") is None:
                record["Probability"] = float(probability)
            if changes.get("ForecastCategoryName") is None:
                record["ForecastCategoryName"] = forecast
        if "CloseDate" in changes and record.get("CloseDate") is not None:
            record["FiscalQuarter"] = (record["CloseDate"].month - 1) // 3 + 1
            record["FiscalYear"] = record["CloseDate"].year
    elif object_name == "User" and ("FirstName" in changes or "LastName" in changes):
        record["Name"] = f"{record.get('FirstName') or ''} {record.get('LastName') or ''}".strip()
