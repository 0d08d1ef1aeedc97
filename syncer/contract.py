"""What a connector promises the engine: pull pages of canonical records, write field values.

`syncer` talks to every CRM through `Connector`; only `connectors/` knows the CRM's API.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol, TypeVar

from syncer.errors import BadRecordError, RejectedRequestError
from syncer.records import Owner, Record, StreamName

FieldValue = str | float | int | bool | None
S = TypeVar("S")


@dataclass(frozen=True, slots=True)
class Cursor:
    """Resume point of one stream: every record modified before it is stored."""

    modified_at: datetime  # aware UTC
    last_id: str | None = None  # tiebreak among records sharing modified_at


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a pull; `cursor` is safe to persist once `records` are stored.

    `last`: the connector knows no page follows (the engine then moves the cursor to the window's
    end with this page; otherwise with an empty page after the last one).
    `expected`: on the first page, the rows the whole window holds when the CRM says so up front
    (Salesforce's totalSize); only for the progress display, never for correctness.
    """

    records: Sequence[Record]
    rejected: Sequence[BadRecordError]
    cursor: Cursor | None
    last: bool = False
    expected: int | None = None


@dataclass(frozen=True, slots=True)
class OwnerPage:
    owners: Sequence[Owner]
    rejected: Sequence[BadRecordError]


@dataclass(frozen=True, slots=True)
class WriteItem:
    """Field values for one CRM record.

    `record_id` targets an existing record; with `upsert_key` the record is found
    (or created) by the value of the object's unique `upsert_key` field instead.
    """

    object: str
    record_id: str | None
    fields: dict[str, FieldValue]
    upsert_key: str | None = None
    upsert_value: str | None = None

    @property
    def target(self) -> str:
        """The id the ledger files this write under."""
        return self.record_id or f"{self.upsert_key}={self.upsert_value}"


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What the CRM said of one WriteItem; a rejected record is a result, not an exception."""

    ok: bool
    record_id: str | None = None
    error_code: str | None = None
    message: str | None = None
    retryable: bool = False


@dataclass(frozen=True, slots=True)
class RecordRef:
    """One CRM record a write-back names: by its id, or by the value of a unique field."""

    record_id: str | None
    key_field: str | None = None
    key_value: str | None = None

    @property
    def target(self) -> str:
        """The id the ledger files the record under (as `WriteItem.target`)."""
        return self.record_id or f"{self.key_field}={self.key_value}"


@dataclass(frozen=True, slots=True)
class StoredValues:
    """What a CRM holds in some fields of some records, read back for drift repair.

    `values` maps a `RecordRef.target` to field → value (a number as int or float, a date or
    instant as ISO text, HubSpot values as the strings the API returns); a record the CRM does
    not have is absent. `decimals` gives, per number field, the decimal places the CRM keeps
    (a written value is rounded to them); a field missing there keeps what it was sent.
    """

    values: dict[str, dict[str, FieldValue]]
    decimals: dict[str, int]


@dataclass(frozen=True, slots=True)
class Finding:
    """One result of `okrsync check`: something ops should know or fix."""

    level: Literal["ok", "warning", "error"]
    subject: str  # e.g. "User.Q_Revenue__c"
    message: str
    fix: str | None = None


FieldKind = Literal["number", "percent", "text", "status", "datetime", "date", "key"]


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """A write-back field okrsync needs on a CRM object, in CRM-neutral terms.

    `key` is the unique field an upsert finds records by (Salesforce: an External ID;
    HubSpot: a property with hasUniqueValue). `status` holds on_track/at_risk/off_track/done.
    """

    object: str
    field: str
    kind: FieldKind
    label: str


STATUS_VALUES = ("on_track", "at_risk", "off_track", "done")


@dataclass(frozen=True, slots=True)
class ApiUsage:
    """API calls made by this connector in this run, and what the CRM reports as used."""

    calls: int
    retries: int
    org_used: int | None = None
    org_max: int | None = None


@dataclass(frozen=True, slots=True)
class SourceIdentity:
    """Which CRM org (or portal) a source reaches, and the currency its amounts are in.

    `org_id` is the Salesforce organization id or the HubSpot portal id; `home_currency` the
    currency every amount is converted into (None: amounts are taken as they are). `notes` are
    facts ops should see in `okrsync check`. `rates_version` fingerprints the exchange rates the
    amounts were converted with: when it changes, amounts already stored are stale.
    """

    org_id: str
    home_currency: str | None
    notes: tuple[str, ...] = ()
    rates_version: str | None = None


class Connector(Protocol):
    source: str  # the source's name in the YAML
    # The finest instant the CRM's modified-time filter takes (SOQL: whole seconds): the engine cuts
    # a pull's upper bound, and so the cursor it leaves, to a multiple of it.
    cursor_resolution: timedelta

    def identity(self) -> SourceIdentity:
        """The org behind this source; fetched once per connector (one run) and cached."""
        ...

    def pull_owners(self) -> Iterator[OwnerPage]:
        """Yield every owner (CRM user), active or not, page by page."""
        ...

    def pull(self, stream: StreamName, *, since: Cursor | None, until: datetime) -> Iterator[Page]:
        """Yield pages modified in [since, until), oldest first. `until` is the cycle start."""
        ...

    def write(self, items: Sequence[WriteItem]) -> list[WriteResult]:
        """One result per item, in order: a rejected record is a result, not an exception."""
        ...

    def read_fields(
        self, object_name: str, records: Sequence[RecordRef], fields: Sequence[str]
    ) -> StoredValues:
        """The values `fields` hold on `records` of `object_name`, in the fewest read calls the API allows."""
        ...

    def check(self) -> list[Finding]:
        """Every mapped object/field and write-back field against the live CRM; nothing changes."""
        ...

    def missing_fields(self, specs: Sequence[FieldSpec]) -> list[FieldSpec]:
        """The specs the CRM lacks (or has with a type that cannot hold the value)."""
        ...

    def create_fields(self, specs: Sequence[FieldSpec]) -> list[Finding]:
        """Create the fields (and what the integration user needs to write them); one finding each."""
        ...

    def usage(self) -> ApiUsage: ...

    def close(self) -> None: ...


def stream_config(streams: Mapping[StreamName, S], stream: StreamName, *, source: str) -> S:
    """The YAML's settings of `stream`; RejectedRequestError (this stream fails) when it has none."""
    config = streams.get(stream)
    if config is None:
        raise RejectedRequestError(
            f"stream `{stream}` is not configured; add it under streams:", source=source
        )
    return config
