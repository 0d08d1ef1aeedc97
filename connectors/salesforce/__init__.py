"""The Salesforce connector: a plain class that delegates to this package's modules.

client.py authenticates and makes every call; soql.py builds queries; mapping.py turns rows into
records; write.py plans sObject Collections calls; checks.py compares the YAML with `describe`;
organization.py reads the org's id and exchange rates, currency.py converts amounts with them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from connectors.salesforce import (
    bulk,
    checks,
    currency,
    declared_streams,
    mapping,
    organization,
    provisioning,
    quotas,
    readback,
    soql,
    write,
)
from connectors.salesforce.client import OrgClient
from connectors.salesforce.describe import Describer
from connectors.salesforce.mapping import FieldInfo, ObjectDescription
from syncer.config.models import KeyedTarget, OwnerTarget, SalesforceSource
from syncer.contract import (
    ApiUsage,
    Cursor,
    FieldSpec,
    FieldValue,
    Finding,
    MetadataCache,
    OwnerPage,
    OwnerTargets,
    Page,
    RecordRef,
    SourceIdentity,
    StoredValues,
    TargetRequest,
    WriteItem,
    WriteResult,
    stream_config,
)
from syncer.errors import RejectedRequestError
from syncer.records import StreamName
from syncer.retry import send_batches, write_retrying

log = logging.getLogger(__name__)

__all__ = ["SalesforceConnector"]

MONEY_STREAMS: tuple[StreamName, ...] = ("deals", "renewals")


class SalesforceConnector:
    """Pulls deals, calls, renewals and owners from one org and writes field values back.

    Nothing touches the network until the first call. Raises CrmError subclasses: AuthFailedError,
    AuthExpiredError (a second 401), QuotaExhaustedError, RejectedRequestError, TransientCrmError
    (retries exhausted).
    """

    cursor_resolution = timedelta(seconds=1)  # SOQL datetime literals carry no fraction

    def __init__(
        self,
        source: str,
        config: SalesforceSource,
        *,
        writeback: Sequence[OwnerTarget | KeyedTarget] = (),
        sleep: Callable[[float], None] = time.sleep,
        zone: tzinfo = UTC,
        metadata: MetadataCache | None = None,
    ) -> None:
        """`metadata`: where describes are kept between runs (the engine's store); None: every
        run describes afresh."""
        self.source = source
        self._config = config
        self._zone = zone  # the YAML's `timezone`: renewals' closed_at is local midnight there
        self._writeback = tuple(target for target in writeback if target.source == source)
        self._client = OrgClient(source, config, sleep=sleep)
        self._sleep = sleep
        self._describer = Describer(
            self._client, metadata, objects=self._described_objects, api_version=config.api_version
        )
        self._org_facts: organization.OrgFacts | None = None

    def identity(self) -> SourceIdentity:
        """Organization id, corporate currency and rate facts; read once per connector (one run)."""
        return self._org().identity

    def pull_owners(self) -> Iterator[OwnerPage]:
        """Every User, active or not, one page per Salesforce page."""
        plan = soql.plan_owners(self._config.owners, self._describe("User"), source=self.source)
        for page in self._client.iter_query_pages(soql.owners_query(plan), include_deleted=False):
            yield mapping.to_owner_page(self.source, page.rows, plan.row_map)

    def pull(self, stream: StreamName, *, since: Cursor | None, until: datetime) -> Iterator[Page]:
        """Pages of records modified in [since, until), oldest first, deletes included.

        A window of more than `bulk_threshold` rows is read by one Bulk API 2.0 job, whose pages
        come in no order and carry no cursor.
        """
        plan = self._plan(stream)
        if plan.money is not None:
            self._org()  # the rates, read before the pull (once per run)
        start = soql.with_lookback(since, timedelta(seconds=self._config.lookback_seconds))
        query = soql.pull_query(plan, since=start, until=until)
        try:
            total, raw_pages = self._client.open_query(query, include_deleted=True)
        except RejectedRequestError as exc:
            if exc.status == 400:  # INVALID_FIELD: the kept describe may be stale; ask afresh next run
                self._describer.forget([plan.object])
            raise
        if total > self._config.bulk_threshold:
            # The first page's totalSize is the window's COUNT() (§1.1), so choosing costs no extra
            # call; that page is dropped: the job reads the same window without ORDER BY (§1.3, §7.1).
            yield from self._pull_bulk(stream, plan, start=start, until=until, expected=total)
            return
        cursor = since
        expected: int | None = total  # the first page tells the progress display the total
        for raw in raw_pages:
            rows = [row for row in raw.rows if mapping.is_unread(row, plan.row_map, start)]
            page = self._to_page(stream, plan, rows, start=cursor)
            page = replace(page, last=raw.next_url is None, expected=expected)
            cursor, expected = page.cursor, None
            self._log_page(stream, page)
            yield page

    def _pull_bulk(
        self,
        stream: StreamName,
        plan: soql.QueryPlan,
        *,
        start: Cursor | None,
        until: datetime,
        expected: int | None,
    ) -> Iterator[Page]:
        """The window as one Bulk API 2.0 `queryAll` job, a page per result set (§1.3); `expected`
        is the REST query's totalSize for the same window, given with the first page."""

        def to_page(rows: Iterator[dict[str, Any]]) -> Page:
            unread = (row for row in rows if mapping.is_unread(row, plan.row_map, start))
            return self._to_page(stream, plan, unread, start=None)

        log.info("pulling with bulk api", extra={"source": self.source, "stream": stream})
        pages = bulk.iter_pages(
            self._client,
            soql.bulk_query(plan, since=start, until=until),
            description=self._describe(plan.object),
            to_page=to_page,
            sleep=self._sleep,
        )
        for page in pages:
            self._log_page(stream, page)
            yield replace(page, expected=expected)
            expected = None

    def _to_page(
        self, stream: StreamName, plan: soql.QueryPlan, rows: Iterable[Any], *, start: Cursor | None
    ) -> Page:
        """Rows as a page, amounts in the corporate currency when the org is multi-currency."""
        if stream in self._config.object_streams:  # README "Any object as a stream"
            return declared_streams.to_page(self.source, stream, rows, plan.row_map, start=start)
        rates = self._org().rates if plan.money is not None else None
        if plan.money is not None and rates is not None:
            rows, unconvertible = currency.convert_rows(stream, rows, plan.money, rates)
        else:
            unconvertible = []
        page = mapping.to_page(self.source, stream, rows, plan.row_map, start=start)
        return replace(page, rejected=[*page.rejected, *unconvertible]) if unconvertible else page

    def _org(self) -> organization.OrgFacts:
        if self._org_facts is None:
            described = [
                d
                for stream, config in self._config.streams.items()
                if stream in MONEY_STREAMS and (d := self._described_or_none(config.object))
            ]
            probe = described or [d for d in [self._described_or_none("User")] if d]
            use = organization.RateUse(
                convert=self._config.convert_currency is not False,
                static=any(d.name.lower() not in currency.DATED_OBJECTS for d in described),
                dated=any(d.name.lower() in currency.DATED_OBJECTS for d in described),
            )
            multi = any(d.field("CurrencyIsoCode") for d in probe)
            self._org_facts = organization.read_org(self._client, multi_currency=multi, use=use)
        return self._org_facts

    def _described_or_none(self, object_name: str) -> ObjectDescription | None:
        """The describe, or None when the object is unknown (the stream reports that itself)."""
        try:
            return self._describe(object_name)
        except RejectedRequestError:
            return None

    def _log_page(self, stream: StreamName, page: Page) -> None:
        log.info(
            "pulled page",
            extra={
                "source": self.source,
                "stream": stream,
                "records": len(page.records),
                "rejected": len(page.rejected),
            },
        )

    def write(self, items: Sequence[WriteItem]) -> list[WriteResult]:
        """One result per item, in order; a batch Salesforce refuses as a whole fails its items.

        Records refused with a retryable code (UNABLE_TO_LOCK_ROW, …) are sent again in this run.
        """
        return write_retrying(self._write_once, items, sleep=self._sleep, source=self.source)

    def _write_once(self, items: Sequence[WriteItem]) -> list[WriteResult]:
        batches, refused = write.plan_batches(items)

        def send(batch: write.Batch) -> list[WriteResult]:
            return write.to_results(self._client.call(f"write {batch.path}", batch.request()), batch, items)

        return send_batches(len(items), batches, refused, send=send, refuse=write.refused_batch)

    def read_fields(
        self, object_name: str, records: Sequence[RecordRef], fields: Sequence[str]
    ) -> StoredValues:
        """One SOQL query per key field (Id, or the external id upserted on), cut under the URI limit."""
        description = self._describe(object_name)
        stored: dict[str, dict[str, FieldValue]] = {}
        for query in readback.plan_queries(description, records, fields):
            for page in self._client.iter_query_pages(query.soql, include_deleted=False):
                stored |= readback.to_stored(query, page.rows, fields, description)
        return StoredValues(stored, readback.decimals(description, fields))

    def read_targets(self, request: TargetRequest) -> OwnerTargets:
        """Each rep's ForecastingQuota total for the period (contract.TargetReads; quotas.py)."""

        def rows(query: str) -> Iterator[Any]:
            for page in self._client.iter_query_pages(query, include_deleted=False):
                yield from page.rows

        return quotas.read_quotas(rows, request, self._org().rates, source=self.source)

    def check(self) -> list[Finding]:
        """Findings for every mapped object and field, the owner fields and the write-back targets."""
        findings: list[Finding] = []
        for stream, config in self._config.streams.items():
            description = self._describe_for_check(config.object, findings)
            if description is not None:
                findings += checks.stream_findings(stream, config, description)
        users = self._describe_for_check("User", findings)
        if users is not None:
            findings += checks.owner_findings(self._config.owners, users)
        for target in self._writeback:
            description = self._describe_for_check(target.object, findings)
            if description is not None:
                findings += checks.writeback_findings(target, description)
        return findings

    def missing_fields(self, specs: Sequence[FieldSpec]) -> list[FieldSpec]:
        """Specs whose field is absent, of a type that cannot hold the value, or not editable."""
        return [
            spec
            for spec in specs
            if not provisioning.fits(spec, info := self._field_info(spec)) or not (info and info.updateable)
        ]

    def _field_info(self, spec: FieldSpec) -> FieldInfo | None:
        """The spec's field; None when it, or its object (a custom object to create), is absent."""
        try:
            return self._describe(spec.object).field(spec.field)
        except RejectedRequestError as exc:
            if exc.status == 404:
                return None
            raise

    def create_fields(self, specs: Sequence[FieldSpec]) -> list[Finding]:
        """Create the absent objects and fields (Tooling API) and grant the integration user edit
        access to all."""
        findings: list[Finding] = []
        created = self._create_objects(specs, findings)
        for spec in specs:
            if any(f.subject == f"{spec.object}.{spec.field}" for f in findings):
                continue  # its object could not be created
            if self._describe(spec.object).field(spec.field) is not None:
                continue
            body = provisioning.field_metadata(spec)
            try:
                self._client.call("create field", provisioning.create_field_request(body))
            except RejectedRequestError as exc:
                findings.append(
                    Finding("error", f"{spec.object}.{spec.field}", str(exc), fix=checks.CREATE_FIX)
                )
                continue
            findings.append(
                Finding("ok", f"{spec.object}.{spec.field}", f"created ({body['Metadata']['type']})")
            )
        granted = [
            s
            for s in specs
            if not any(f.subject == f"{s.object}.{s.field}" and f.level == "error" for f in findings)
        ]
        if granted:
            findings += self._grant_edit(granted, objects=created)
        self._describer.forget({spec.object for spec in specs})  # their fields and access changed
        return findings

    def _create_objects(self, specs: Sequence[FieldSpec], findings: list[Finding]) -> list[str]:
        """Create each custom object the specs name that the org lacks (a history object); the
        created ones. An object that cannot be created gets an error finding per spec."""
        created: list[str] = []
        for name in dict.fromkeys(spec.object for spec in specs):
            try:
                self._describe(name)
                continue
            except RejectedRequestError as exc:
                if exc.status != 404:
                    raise
            try:
                body = provisioning.object_metadata(name)
                self._client.call(f"create object {name}", provisioning.create_object_request(body))
            except RejectedRequestError as exc:
                findings += [
                    Finding("error", f"{s.object}.{s.field}", str(exc), fix=checks.CREATE_FIX)
                    for s in specs
                    if s.object == name
                ]
                continue
            self._describer.forget([name])
            findings.append(Finding("ok", name, "custom object created"))
            created.append(name)
        return created

    def _grant_edit(self, specs: Sequence[FieldSpec], *, objects: Sequence[str] = ()) -> list[Finding]:
        set_id = self._client.call(
            "create permission set",
            provisioning.create_record_request(
                "PermissionSet", {"Name": provisioning.PERMISSION_SET, "Label": "okrsync write-back"}
            ),
        )
        for name in objects:  # a new custom object: its records, before its fields
            body = provisioning.object_permission(set_id, name)
            self._client.call(
                "grant object access", provisioning.create_record_request("ObjectPermissions", body)
            )
        for spec in specs:
            if spec.field in provisioning.STANDARD_FIELDS:
                continue  # editable with its object: a standard field has no field-level security
            body = provisioning.field_permission(set_id, spec)
            self._client.call(
                "grant field access", provisioning.create_record_request("FieldPermissions", body)
            )
        user_id = self._client.user_id
        if user_id is None:  # a static token does not say whose it is
            return [
                Finding(
                    "warning",
                    provisioning.PERMISSION_SET,
                    "permission set created but not assigned",
                    fix="assign the okrsync_writeback permission set to the integration user",
                )
            ]
        assignment = {"PermissionSetId": set_id, "AssigneeId": user_id}
        self._client.call(
            "assign permission set", provisioning.create_record_request("PermissionSetAssignment", assignment)
        )
        return [Finding("ok", provisioning.PERMISSION_SET, f"edit access granted on {len(specs)} fields")]

    def usage(self) -> ApiUsage:
        """Calls and retries of this connector, and the org's used/max from Sforce-Limit-Info."""
        return self._client.usage()

    def close(self) -> None:
        self._client.close()

    def _plan(self, stream: StreamName) -> soql.QueryPlan:
        declared = self._config.object_streams.get(stream)
        if declared is not None:  # README "Any object as a stream": read like the built-in streams
            description = self._describe(declared.object)
            return declared_streams.plan(stream, declared, description, source=self.source, zone=self._zone)
        config = stream_config(self._config.streams, stream, source=self.source)
        if config.where is not None:  # refuse a bad condition before any call
            soql.check_where(config.where, source=self.source, stream=stream)
        plan = soql.plan_stream(
            stream,
            config,
            self._describe(config.object),
            source=self.source,
            convert_currency=self._config.convert_currency is not False,
        )
        return replace(plan, row_map=replace(plan.row_map, zone=self._zone))

    def _describe(self, object_name: str) -> ObjectDescription:
        """The object's describe: asked once per run, in full only when it changed (describe.py)."""
        return self._describer.describe(object_name)

    def _described_objects(self) -> set[str]:
        """Every object this source's config names, checked together against Describe Global."""
        streams = {config.object for config in self._config.streams.values()}
        streams |= {declared.object for declared in self._config.object_streams.values()}
        return streams | {"User"} | {target.object for target in self._writeback}

    def _describe_for_check(self, object_name: str, findings: list[Finding]) -> ObjectDescription | None:
        try:
            return self._describe(object_name)
        except RejectedRequestError as exc:
            findings.append(checks.describe_finding(object_name, exc))
            return None
