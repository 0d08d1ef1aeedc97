"""What a connector promises the engine: pull pages of canonical records, write field values.

`syncer` talks to every CRM through `Connector`; only `connectors/` knows the CRM's API.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal, Protocol, TypeVar, runtime_checkable

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


@dataclass(frozen=True, slots=True)
class CachedMetadata:
    """A CRM metadata answer kept between runs: the body as the CRM sent it, and `as_of`, the
    CRM's own time (aware UTC) at which the body was last known to be current."""

    body: str
    as_of: datetime


class MetadataCache(Protocol):
    """Where a connector keeps CRM metadata (e.g. a Salesforce describe) between runs.

    The engine hands one to each connector, scoped to its source; keys are the connector's own.
    A connector that is given none describes afresh every run.
    """

    def get(self, key: str) -> CachedMetadata | None: ...

    def put(self, key: str, entry: CachedMetadata) -> None:
        """Keep `entry` under `key`, replacing what was there."""
        ...

    def confirm(self, key: str, as_of: datetime) -> None:
        """The body kept under `key` is still current at `as_of` (no-op when nothing is kept)."""
        ...

    def forget(self, key: str) -> None: ...


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


@dataclass(frozen=True, slots=True)
class Sweep:
    """A listing of the records deleted in the CRM since `since` (None: every deleted record)."""

    since: datetime | None


@runtime_checkable
class SharedObjectReads(Protocol):
    """Optional for a Connector whose streams share a CRM object (HubSpot: deals and renewals are
    both deals): one read of the object feeds every stream on it (syncer/pull_groups.py).

    Deletes come from a separate listing, the sweep, that the engine runs every `deletes_every`.
    """

    deletes_every: timedelta

    def stream_groups(self, streams: Sequence[StreamName]) -> list[tuple[StreamName, ...]]:
        """`streams` partitioned by the object they read, in order; a stream that cannot be
        planned (not configured, refused) is a group of its own, and fails alone when pulled."""
        ...

    def pull_group(
        self, since: Mapping[StreamName, Cursor | None], *, until: datetime, sweep: Sweep | None
    ) -> Iterator[Mapping[StreamName, Page]]:
        """One read of the object behind the streams of `since`, from the oldest cursor (all of it
        when one is None) up to `until`; each page read becomes one page per stream, whose records
        may be older than that stream's cursor. With `sweep`, the records deleted in
        [sweep.since, until) come first, as deletes."""
        ...


@dataclass(frozen=True, slots=True)
class TargetRequest:
    """Which CRM targets `TargetReads.read_targets` reads: the quotas (or goal) of [start, end].

    `kind` crm_quota (Salesforce ForecastingQuota, of `forecasting_type`: a DeveloperName, None for
    the active opportunity revenue type) or crm_goal (HubSpot goal_targets named `name`). A quota
    or time slice belongs to the period its start (a slice: its middle) falls in.
    """

    kind: Literal["crm_quota", "crm_goal"]
    start: date
    end: date
    name: str | None = None
    forecasting_type: str | None = None


@dataclass(frozen=True, slots=True)
class OwnerTargets:
    """Each owner's summed target, by the owner id `pull_owners` gives (amounts in the source's
    home currency), and what was read, for `okrsync check` and the logs."""

    amounts: Mapping[str, Decimal]
    read: str  # e.g. "ForecastingQuota (OpportunityRevenue, QuotaAmount): 28 quotas"


@runtime_checkable
class TargetReads(Protocol):
    """Optional for a Connector whose CRM keeps per-rep targets (README "Targets from the CRM");
    the engine reads them every cycle, after the pull (syncer/targets_from_crm.py)."""

    def read_targets(self, request: TargetRequest) -> OwnerTargets:
        """Every owner's target for the request; RejectedRequestError when the CRM has no such
        forecast type or goal, or refuses the read."""
        ...


def stream_config(streams: Mapping[StreamName, S], stream: StreamName, *, source: str) -> S:
    """The YAML's settings of `stream`; RejectedRequestError (this stream fails) when it has none."""
    config = streams.get(stream)
    if config is None:
        raise RejectedRequestError(
            f"stream `{stream}` is not configured; add it under streams:", source=source
        )
    return config
