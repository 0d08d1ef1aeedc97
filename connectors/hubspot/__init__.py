"""The HubSpot connector: a plain class that delegates to this package's modules.

client.py authenticates, rate-limits and makes every call; search.py pages lists and searches
(the 10,000-result restart); mapping.py turns objects into records; write.py plans batch calls;
checks.py compares write-back fields with the properties API; account.py reads the portal id and
company currency; pipelines.py the deal pipelines; kept.py keeps both between runs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import partial
from typing import Any

from connectors.hubspot import account, checks, declared_streams, goals, mapping, readback, search, write
from connectors.hubspot.client import RAW, Apis, PortalClient
from connectors.hubspot.kept import KeptAnswer
from connectors.hubspot.mapping import StreamPlan
from connectors.hubspot.pipelines import StageMetadata, unknown_stages
from syncer import contract
from syncer.config.models import HubSpotSource, KeyedTarget, OwnerTarget
from syncer.errors import RejectedRequestError
from syncer.records import StreamName
from syncer.retry import send_batches, write_retrying

log = logging.getLogger(__name__)

__all__ = ["HubSpotConnector"]


class HubSpotConnector:
    """Pulls deals, calls, renewals and owners from one portal and writes property values back.

    Nothing touches the network until the first call. Raises CrmError subclasses: AuthFailedError,
    AuthExpiredError (a second 401), QuotaExhaustedError (the daily limit), RejectedRequestError,
    TransientCrmError (retries exhausted).
    """

    cursor_resolution = timedelta(milliseconds=1)  # hs_lastmodifieddate filters take milliseconds

    def __init__(
        self,
        source: str,
        config: HubSpotSource,
        *,
        zone: tzinfo = UTC,
        writeback: Sequence[OwnerTarget | KeyedTarget] = (),
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        metadata: contract.MetadataCache | None = None,
    ) -> None:
        """`metadata`: where the deal pipelines and the account details are kept between runs (the
        engine's store); None: they are read once per connector."""
        self.source = source
        self._config = config
        self._zone = zone  # the YAML's `timezone`: closedate's calendar day is read there
        self._writeback = tuple(target for target in writeback if target.source == source)
        self._client = PortalClient(source, config, sleep=sleep, clock=clock)
        self._sleep = sleep
        # How often the archived records are listed (contract.SharedObjectReads; README `deletes_every`),
        # and so the owners (pull.pull_source) and the kept deal pipelines are read again.
        self.deletes_every = config.deletes_interval
        self._stages = StageMetadata(self._read_pipelines, metadata, every=self.deletes_every)
        self._account = KeptAnswer(
            lambda: account.read_details(self._client),
            metadata,
            key=account.KEY,
            parse=partial(account.to_identity, source=source),
            every=self.deletes_every,
            pin=account.credential_pin(config),
        )

    def identity(self) -> contract.SourceIdentity:
        """Portal id and company currency (account-info API): kept between runs while the credential
        is the same, read again with another token or base URL, or when due (account.py)."""
        return self._account.current()

    def pull_owners(self) -> Iterator[contract.OwnerPage]:
        """Every owner: active ones, then archived ones as inactive (docs/crm-apis.md §3.5)."""
        for archived in (False, True):

            def fetch(after: str | None, archived: bool = archived) -> Any:
                return self._client.call(
                    "list owners",
                    lambda api: api.owners.get_page(
                        limit=search.LIST_PAGE_SIZE, archived=_flag(archived), **_after(after), **RAW
                    ),
                )

            for rows in search.iter_list_pages(fetch):
                yield mapping.to_owner_page(self.source, rows, active=not archived)

    def pull(
        self, stream: StreamName, *, since: contract.Cursor | None, until: datetime
    ) -> Iterator[contract.Page]:
        """Pages of records modified in [since, until), archived ones (deleted in that window) first.

        The first pull (`since` None) lists every object; later pulls search by
        hs_lastmodifieddate, oldest first. The engine pulls with `pull_group` instead.
        """
        sweep = contract.Sweep(since=since.modified_at if since else None)
        for pages in self.pull_group({stream: since}, until=until, sweep=sweep):
            yield pages[stream]

    def stream_groups(self, streams: Sequence[StreamName]) -> list[tuple[StreamName, ...]]:
        """Streams by the object they read (deals and renewals: deals); one that cannot be planned
        (not configured, an unknown pipeline) stands alone and fails alone."""
        by_object: dict[str, list[StreamName]] = {}
        alone: list[tuple[StreamName, ...]] = []
        for stream in streams:
            try:
                by_object.setdefault(self._plan(stream).object_type, []).append(stream)
            except RejectedRequestError:
                alone.append((stream,))
        return [tuple(group) for group in by_object.values()] + alone

    def pull_group(
        self,
        since: Mapping[StreamName, contract.Cursor | None],
        *,
        until: datetime,
        sweep: contract.Sweep | None,
    ) -> Iterator[dict[StreamName, contract.Page]]:
        """One read of the object behind `since`'s streams, each page mapped once per stream.

        Archived objects (deleted in [sweep.since, until)) come first, then the live ones: a list
        of every object when a stream has no cursor, else a search from the oldest cursor. The
        deal pipelines are the kept copy unless due (pipelines.py): a list reads them again, and
        so does a deal in a stage the copy lacks.
        """
        starts = [cursor.modified_at if cursor else None for cursor in since.values()]
        start = None if None in starts else min(s for s in starts if s is not None)
        self._stages.for_pull(until, full=start is None)
        # A company currency change is seen when the kept details are due; the pin, not the age,
        # is what proves the portal, and the engine checked it before this pull.
        self._account.for_pull(until, full=False)
        plans = [self._plan(stream) for stream in since]
        self._stages.keep(until)  # planning reads them again when the copy lacks a configured pipeline
        if len({plan.object_type for plan in plans}) != 1:
            raise ValueError(f"streams {', '.join(since)} do not read one object")
        read = _GroupRead(plans[0].object_type, sorted({p for plan in plans for p in plan.properties}))
        for rows, cursor in self._iter_rows(read, start=start, until=until, sweep=sweep):
            if not self._stages.fresh and unknown_stages(rows, plans, self._stages.current()):
                self._stages.refresh()
                self._stages.keep(until)
                plans = [self._plan(stream) for stream in since]  # a label may name another id now
            pipelines = self._stages.current()
            yield {plan.stream: self._to_page(rows, plan, pipelines, cursor) for plan in plans}

    def _iter_rows(
        self, read: _GroupRead, *, start: datetime | None, until: datetime, sweep: contract.Sweep | None
    ) -> Iterator[tuple[list[search.Row], contract.Cursor | None]]:
        """Raw rows page by page: archived ones first (no cursor), then the live ones."""
        if sweep is not None:
            for rows in search.iter_list_pages(self._list(read, archived=True)):
                yield [row for row in rows if _archived_between(row, sweep.since, until)], None
        if start is not None and start >= until:
            return  # every stream's window is read: only the sweep was due
        if start is None:  # first pull / --full: the list endpoint, in no useful order
            for rows in search.iter_list_pages(self._list(read, archived=False)):
                yield rows, None
            return
        for rows in search.iter_search_pages(
            self._search(read), properties=read.properties, since=start, until=until
        ):
            last = rows[-1]
            modified = mapping.to_instant((last.get("properties") or {}).get(mapping.MODIFIED))
            yield (
                rows,
                contract.Cursor(modified_at=modified, last_id=str(last.get("id"))) if modified else None,
            )

    def _list(self, plan: _GroupRead, *, archived: bool) -> Callable[[str | None], Any]:
        operation = f"list {'archived ' if archived else ''}{plan.object_type}"

        def fetch(after: str | None) -> Any:
            return self._client.call(
                operation,
                lambda api: api.objects.get_page(
                    plan.object_type,
                    limit=search.LIST_PAGE_SIZE,
                    properties=plan.properties,
                    archived=_flag(archived),
                    **_after(after),
                    **RAW,
                ),
            )

        return fetch

    def _search(self, plan: _GroupRead) -> search.Fetch:
        def fetch(body: dict[str, Any]) -> Any:
            return self._client.call(
                f"search {plan.object_type}",
                lambda api: api.search.do_search(plan.object_type, body, **RAW),
                kind="search",
            )

        return fetch

    def write(self, items: Sequence[contract.WriteItem]) -> list[contract.WriteResult]:
        """One result per item, in order; a batch HubSpot refuses as a whole fails its items.

        Inputs refused with a retryable category (RATE_LIMITS, LOCKED, …) are sent again in this run.
        """
        return write_retrying(self._write_once, items, sleep=self._sleep, source=self.source)

    def _write_once(self, items: Sequence[contract.WriteItem]) -> list[contract.WriteResult]:
        batches, refused = write.plan_batches(items)

        def send(batch: write.Batch) -> list[contract.WriteResult]:
            answer = self._client.call(f"batch {batch.action} {batch.object}", _send(batch))
            return write.to_results(answer, batch)

        return send_batches(len(items), batches, refused, send=send, refuse=write.refused_batch)

    def read_fields(
        self, object_name: str, records: Sequence[contract.RecordRef], fields: Sequence[str]
    ) -> contract.StoredValues:
        """Batch reads of ≤ 100 records (by id, or by the unique property upserted on)."""
        stored: dict[str, dict[str, contract.FieldValue]] = {}
        for batch in readback.plan_reads(object_name, records, fields):

            def run(api: Apis, batch: readback.ReadBatch = batch) -> Any:
                return api.batch.read(batch.object, batch.body(), **RAW)

            raw = self._client.call(f"batch read {batch.object}", run)
            stored |= readback.to_stored(raw, batch, fields)
        return contract.StoredValues(stored, {})  # HubSpot keeps a number as it was sent

    def read_targets(self, request: contract.TargetRequest) -> contract.OwnerTargets:
        """Each owner's goal_targets total for the period (contract.TargetReads; goals.py): the
        owners' user ids (a list of owners, active and archived), then one search of the goal."""
        users = goals.user_owners(
            row
            for archived in (False, True)
            for rows in search.iter_list_pages(self._owners(archived))
            for row in rows
        )

        def run(body: dict[str, Any]) -> Any:
            return self._client.call(
                f"search {goals.GOAL_TARGETS}",
                lambda api: api.search.do_search(goals.GOAL_TARGETS, body, **RAW),
                kind="search",
            )

        return goals.read_goal(goals.iter_slices(run, request), users, request, self._zone)

    def _owners(self, archived: bool) -> Callable[[str | None], Any]:
        def fetch(after: str | None) -> Any:
            return self._client.call(
                "list owners",
                lambda api: api.owners.get_page(
                    limit=search.LIST_PAGE_SIZE, archived=_flag(archived), **_after(after), **RAW
                ),
            )

        return fetch

    def check(self) -> list[contract.Finding]:
        """Findings for the pipelines the streams name and every write-back property."""
        return checks.check(self._client, self._config, self._writeback, self._stages.refresh)

    def missing_fields(self, specs: Sequence[contract.FieldSpec]) -> list[contract.FieldSpec]:
        return checks.missing_fields(self._client, specs)

    def create_fields(self, specs: Sequence[contract.FieldSpec]) -> list[contract.Finding]:
        return checks.create_fields(self._client, specs)

    def usage(self) -> contract.ApiUsage:
        return self._client.usage()

    def close(self) -> None:
        self._client.close()

    def _to_page(
        self, rows: list[search.Row], plan: StreamPlan, pipelines: Any, cursor: contract.Cursor | None
    ) -> contract.Page:
        if plan.stream in self._config.object_streams:  # README "Any object as a stream"
            return declared_streams.to_page(self.source, rows, plan, cursor=cursor)
        return mapping.to_page(self.source, rows, plan, pipelines=pipelines, cursor=cursor)

    def _plan(self, stream: StreamName) -> StreamPlan:
        declared = self._config.object_streams.get(stream)
        if declared is not None:  # README "Any object as a stream": read like the built-in streams
            return declared_streams.plan(stream, declared, zone=self._zone)
        config = contract.stream_config(self._config.streams, stream, source=self.source)
        pipelines = self._stages.current()
        unknown = pipelines.unknown(config.pipelines)
        if unknown and not self._stages.fresh:  # a kept copy older than the pipeline: ask the portal
            pipelines = self._stages.refresh()
            unknown = pipelines.unknown(config.pipelines)
        if unknown:  # resolved to nothing, every deal would be out of scope and stored as deleted
            raise RejectedRequestError(
                f"streams.{stream}.pipelines: no deal pipeline {', '.join(f'`{n}`' for n in unknown)} in the "
                "portal; nothing was pulled or deleted. Use a pipeline id or label (`okrsync check` lists them)",
                source=self.source,
            )
        return mapping.plan_stream(stream, config, pipelines, zone=self._zone)

    def _read_pipelines(self) -> Any:
        """Deal pipelines and their stages, as the portal answers (docs/crm-apis.md §7.3: 1 call)."""
        return self._client.call("list deal pipelines", lambda api: api.pipelines.get_all("deals", **RAW))


@dataclass(frozen=True, slots=True)
class _GroupRead:
    """What one read of an object asks for: the properties every stream on it maps."""

    object_type: str
    properties: list[str]


def _send(batch: write.Batch) -> Callable[[Apis], Any]:
    def run(api: Apis) -> Any:
        if batch.action == "update":
            return api.batch.update(batch.object, batch.body(), **RAW)
        return api.batch.upsert(batch.object, batch.body(), **RAW)

    return run


def _flag(value: bool) -> str:
    # The generated client would send Python's "True"; the API documents "true" (docs/crm-apis.md §3.1).
    return "true" if value else "false"


def _after(after: str | None) -> dict[str, str]:
    return {"after": after} if after is not None else {}


def _archived_between(row: search.Row, start: datetime | None, until: datetime) -> bool:
    """An archived object whose archivedAt (or updatedAt) falls in [start, until)."""
    at = mapping.to_instant(row.get("archivedAt") or row.get("updatedAt"))
    return at is not None and (start is None or at >= start) and at < until
