"""The store's tables (SQLAlchemy 2.0 typed ORM). Every change here needs an Alembic migration.

`…Row` classes never leave `syncer/store/`; the rest of okrsync gets canonical records and
frozen dataclasses.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Dialect, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC on every backend (SQLite drops tzinfo); a naive value is a bug and raises."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime reached the store")
        return None if value is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


MONEY = Numeric(18, 2)
MEASURE = Numeric(28, 8)  # key-result values: money, counts, days, ratios


class Base(DeclarativeBase):
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads it as a class attribute
        datetime: UtcDateTime,
        date: Date,
        Decimal: MONEY,
        dict[str, Any]: JSON,
    }


class DealRow(Base):
    __tablename__ = "deals"
    # The rollup's per-owner statements read one owner's records in one period (migration 0002).
    __table_args__ = (Index("ix_deals_owner_close_date", "source", "owner_id", "close_date"),)
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[str | None] = mapped_column(String(64), index=True)
    account_id: Mapped[str | None] = mapped_column(String(64))
    amount: Mapped[Decimal | None]
    currency: Mapped[str | None] = mapped_column(String(8))
    stage: Mapped[str | None] = mapped_column(Text)
    pipeline: Mapped[str | None] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(16))
    is_closed: Mapped[bool]
    is_won: Mapped[bool]
    created_at: Mapped[datetime | None]
    close_date: Mapped[date | None] = mapped_column(index=True)
    modified_at: Mapped[datetime]
    deleted: Mapped[bool] = mapped_column(default=False)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)


class CallRow(Base):
    __tablename__ = "calls"
    __table_args__ = (Index("ix_calls_owner_occurred_at", "source", "owner_id", "occurred_at"),)
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[str | None] = mapped_column(String(64), index=True)
    occurred_at: Mapped[datetime | None] = mapped_column(index=True)
    duration_seconds: Mapped[int | None]
    outcome: Mapped[str | None] = mapped_column(Text)
    direction: Mapped[str | None] = mapped_column(Text)
    modified_at: Mapped[datetime]
    deleted: Mapped[bool] = mapped_column(default=False)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)


class RenewalRow(Base):
    __tablename__ = "renewals"
    __table_args__ = (Index("ix_renewals_owner_due_date", "source", "owner_id", "due_date"),)
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[str | None] = mapped_column(String(64), index=True)
    account_id: Mapped[str | None] = mapped_column(String(64))
    amount: Mapped[Decimal | None]
    due_date: Mapped[date | None] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(16))
    closed_at: Mapped[datetime | None]
    modified_at: Mapped[datetime]
    deleted: Mapped[bool] = mapped_column(default=False)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)


class OwnerRow(Base):
    __tablename__ = "owners"
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(String(254), index=True)  # stored lower-case
    active: Mapped[bool]
    team: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(Text)
    record_id: Mapped[str] = mapped_column(String(64))
    modified_at: Mapped[datetime]


class CursorRow(Base):
    __tablename__ = "cursors"
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    stream: Mapped[str] = mapped_column(String(16), primary_key=True)
    modified_at: Mapped[datetime]
    last_id: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime]


class RunRow(Base):
    __tablename__ = "runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(index=True)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16))  # running, ok, partial, failed, interrupted, abandoned
    sources: Mapped[str] = mapped_column(String(400))
    pulled: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    written: Mapped[int] = mapped_column(default=0)
    write_errors: Mapped[int] = mapped_column(default=0)
    api_calls: Mapped[int] = mapped_column(default=0)
    retries: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class SnapshotRow(Base):
    """One key-result value (total or one group) as computed by one run."""

    __tablename__ = "kr_snapshots"
    __table_args__ = (Index("ix_kr_snapshots_kr_time", "objective", "key_result", "group_kind", "taken_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int | None] = mapped_column(index=True)
    taken_at: Mapped[datetime]
    objective: Mapped[str] = mapped_column(String(64))
    key_result: Mapped[str] = mapped_column(String(64))
    group_kind: Mapped[str] = mapped_column(String(64))  # total, owner, team, region, attributes.x
    group_key: Mapped[str] = mapped_column(String(254))  # '' for the total
    period_start: Mapped[date]
    period_end: Mapped[date]
    value: Mapped[Decimal | None] = mapped_column(MEASURE)
    baseline: Mapped[Decimal | None] = mapped_column(MEASURE)
    target: Mapped[Decimal | None] = mapped_column(MEASURE)
    progress: Mapped[float | None]
    score: Mapped[float | None]
    expected: Mapped[float | None]
    status: Mapped[str | None] = mapped_column(String(16))
    projected: Mapped[Decimal | None] = mapped_column(MEASURE)
    currency: Mapped[str | None] = mapped_column(String(8))  # money values: the home currency


class LedgerRow(Base):
    """What the CRM confirmed for one field of one record, and the last failure to change it."""

    __tablename__ = "write_ledger"
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    object: Mapped[str] = mapped_column(String(80), primary_key=True)
    target: Mapped[str] = mapped_column(String(254), primary_key=True)  # record id, or key=value
    field: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)  # JSON of the confirmed value; NULL = never written
    written_at: Mapped[datetime | None]
    record_id: Mapped[str | None] = mapped_column(String(64))  # the CRM id once known (upserts)
    error_code: Mapped[str | None] = mapped_column(String(80))
    error: Mapped[str | None] = mapped_column(Text)
    failed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)


class LeaseRow(Base):
    __tablename__ = "leases"
    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    held_by: Mapped[str] = mapped_column(String(200))
    held_until: Mapped[datetime]


class RejectedRecordRow(Base):
    """A CRM record okrsync could not map, store or believe: quarantined, never counted.

    Kept until a newer version of the record arrives and is admitted (migration 0003).
    """

    __tablename__ = "rejected_records"
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    stream: Mapped[str] = mapped_column(String(16), primary_key=True)  # deals, calls, renewals, owners
    record_id: Mapped[str] = mapped_column(String(254), primary_key=True)
    field: Mapped[str | None] = mapped_column(String(80))
    value: Mapped[str | None] = mapped_column(Text)  # an excerpt of the offending value, escaped
    reason: Mapped[str] = mapped_column(Text)
    modified_at: Mapped[datetime | None]  # the CRM's stamp of the rejected version
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]


class SourceIdentityRow(Base):
    """Which CRM org or portal a source name stands for in this store: one org per store."""

    __tablename__ = "source_identities"
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # salesforce, hubspot
    org_id: Mapped[str] = mapped_column(String(64))  # Salesforce organization id, HubSpot portal id
    home_currency: Mapped[str | None] = mapped_column(String(8))
    # Digest of the exchange rates stored amounts were converted with; a change re-pulls them.
    rates_version: Mapped[str | None] = mapped_column(String(64))
    first_seen: Mapped[datetime]
    updated_at: Mapped[datetime]


class StreamStatusRow(Base):
    """Whether a stream's data can be trusted: its last completed pull and its last failure."""

    __tablename__ = "stream_status"
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    stream: Mapped[str] = mapped_column(String(16), primary_key=True)
    completed_at: Mapped[datetime | None]  # None: never completed a pull
    failed_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)


class WritebackCheckRow(Base):
    """When the written fields of one write-back object were last read back from the CRM."""

    __tablename__ = "writeback_checks"
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    object: Mapped[str] = mapped_column(String(80), primary_key=True)
    verified_at: Mapped[datetime]


class SourceZoneRow(Base):
    """The time zone in which a source's stored calendar days were read (migration 0003).

    Connectors turn CRM instants into local dates (a HubSpot closedate, a renewal's closed_at):
    when the YAML's `timezone` changes, the source is pulled again in full (see `store.zones`).
    """

    __tablename__ = "source_zones"
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    zone: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime]


class CrmMetadataRow(Base):
    """CRM metadata a connector keeps between runs, e.g. a Salesforce describe (migration 0005).

    `as_of` is the CRM's own time at which `body` was last known current; the connector asks the
    CRM whether anything changed since then (`store.metadata_cache`).
    """

    __tablename__ = "crm_metadata"
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    as_of: Mapped[datetime]
    saved_at: Mapped[datetime]


class DeleteSweepRow(Base):
    """When the deleted records of a stream were last listed in full (migration 0004).

    HubSpot lists deleted (archived) records apart from the others; that sweep runs every
    `deletes_every` (README), from the previous sweep's end (see `store.sweeps`).
    """

    __tablename__ = "delete_sweeps"
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    stream: Mapped[str] = mapped_column(String(16), primary_key=True)
    swept_at: Mapped[datetime]  # every record deleted before this instant is stored as deleted


class CheckinRow(Base):
    """One check-in: a value (a manual key result's) or a note, by someone, at a time (migration 0006).

    Audited: rows are only ever inserted (`store.checkins`); the latest by time is the value.
    """

    __tablename__ = "checkins"
    __table_args__ = (Index("ix_checkins_kr_time", "objective", "key_result", "checked_in_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    objective: Mapped[str] = mapped_column(String(64))
    key_result: Mapped[str] = mapped_column(String(64))
    group_key: Mapped[str] = mapped_column(String(254))  # '' for the total, else the rep's e-mail
    period_start: Mapped[date]  # the key result's period when the check-in was made
    period_end: Mapped[date]
    value: Mapped[Decimal | None] = mapped_column(MEASURE)  # None: a note only
    note: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str] = mapped_column(Text)
    checked_in_at: Mapped[datetime]


class ClosedPeriodRow(Base):
    """One objective's ended period, closing or frozen (migration 0007, README "Closing a period").

    `frozen_at` is None while the period is still recomputed (closing, or reopened on purpose);
    `through` holds, per "source.stream", the pull cursor the frozen values were computed up to:
    a record of the period changed at or after it is late data (`late_records`, `syncer.closing`).
    """

    __tablename__ = "closed_periods"
    objective: Mapped[str] = mapped_column(String(64), primary_key=True)
    period_start: Mapped[date] = mapped_column(primary_key=True)
    period_end: Mapped[date] = mapped_column(primary_key=True)
    closes_at: Mapped[datetime]  # the period's end + close_after: frozen at the first cycle after
    frozen_at: Mapped[datetime | None]
    through: Mapped[dict[str, Any]] = mapped_column(default=dict)
    late_records: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime]


class ClosedValueRow(Base):
    """A key result's value (total or one group) of a closed period: provisional while the period
    is closing, final once `closed_periods.frozen_at` is set (migration 0010)."""

    __tablename__ = "closed_values"
    objective: Mapped[str] = mapped_column(String(64), primary_key=True)
    period_start: Mapped[date] = mapped_column(primary_key=True)
    period_end: Mapped[date] = mapped_column(primary_key=True)
    key_result: Mapped[str] = mapped_column(String(64), primary_key=True)
    group_kind: Mapped[str] = mapped_column(String(64), primary_key=True)
    group_key: Mapped[str] = mapped_column(String(254), primary_key=True)
    value: Mapped[Decimal | None] = mapped_column(MEASURE)
    baseline: Mapped[Decimal | None] = mapped_column(MEASURE)
    target: Mapped[Decimal | None] = mapped_column(MEASURE)
    direction: Mapped[str] = mapped_column(String(16))
    progress: Mapped[float | None]
    score: Mapped[float | None]
    status: Mapped[str | None] = mapped_column(String(16))
    currency: Mapped[str | None] = mapped_column(String(8))


class CrmTargetRow(Base):
    """One rep's target of a key result whose targets the CRM holds, as last read (migration 0008).

    `owner_id` is the CRM user (source, owner_id) the quota or goal belongs to; the rows of a key
    result and source are replaced whole every cycle (`store.crm_targets`), for the period read.
    """

    __tablename__ = "crm_targets"
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    objective: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_result: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    period_start: Mapped[date]
    period_end: Mapped[date]
    amount: Mapped[Decimal] = mapped_column(MEASURE)
    read_at: Mapped[datetime]


class ObjectRecordRow(Base):
    """A record of a declared stream, on any CRM object (migration 0009, README "Any object as a stream").

    Its dates are in `date_1`..`date_3`, by their order in the stream's `dates:`
    (`syncer.config.object_streams`); the rollup reads them under their names
    (`syncer.rollup.stream_tables`).
    """

    __tablename__ = "object_records"
    __table_args__ = (
        Index("ix_object_records_owner", "source", "stream", "owner_id"),
        Index("ix_object_records_stream_date_1", "stream", "date_1"),
        Index("ix_object_records_stream_date_2", "stream", "date_2"),
        Index("ix_object_records_stream_date_3", "stream", "date_3"),
    )
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    stream: Mapped[str] = mapped_column(String(16), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[str | None] = mapped_column(String(64))
    date_1: Mapped[datetime | None]
    date_2: Mapped[datetime | None]
    date_3: Mapped[datetime | None]
    modified_at: Mapped[datetime]
    deleted: Mapped[bool] = mapped_column(default=False)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)


STREAM_TABLES = {"deals": DealRow, "calls": CallRow, "renewals": RenewalRow}
