"""The Salesforce connector: a plain class that delegates to this package's modules.

client.py authenticates and makes every call; soql.py builds queries; mapping.py turns rows into
records; write.py plans sObject Collections calls; checks.py compares the YAML with `describe`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime

from connectors.salesforce import checks, mapping, soql, write
from connectors.salesforce.client import REQUEST_TIMEOUT, OrgClient
from connectors.salesforce.mapping import ObjectDescription
from syncer.config.models import KeyedTarget, OwnerTarget, SalesforceSource
from syncer.contract import ApiUsage, Cursor, Finding, OwnerPage, Page, WriteItem, WriteResult
from syncer.errors import RejectedRequestError
from syncer.records import StreamName

log = logging.getLogger(__name__)

__all__ = ["SalesforceConnector"]


class SalesforceConnector:
    """Pulls deals, calls, renewals and owners from one org and writes field values back.

    Nothing touches the network until the first call. Raises CrmError subclasses: AuthFailedError,
    AuthExpiredError (a second 401), QuotaExhaustedError, RejectedRequestError, TransientCrmError
    (retries exhausted).
    """

    def __init__(
        self,
        source: str,
        config: SalesforceSource,
        *,
        writeback: Sequence[OwnerTarget | KeyedTarget] = (),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.source = source
        self._config = config
        self._writeback = tuple(target for target in writeback if target.source == source)
        self._client = OrgClient(source, config, sleep=sleep)
        self._descriptions: dict[str, ObjectDescription] = {}

    def pull_owners(self) -> Iterator[OwnerPage]:
        """Every User, active or not, one page per Salesforce page."""
        plan = soql.plan_owners(self._config.owners, self._describe("User"), source=self.source)
        for page in self._client.iter_query_pages(soql.owners_query(plan), include_deleted=False):
            yield mapping.to_owner_page(self.source, page.rows, plan.row_map)

    def pull(self, stream: StreamName, *, since: Cursor | None, until: datetime) -> Iterator[Page]:
        """Pages of records modified in [since, until), oldest first, deletes included.

        The last page's cursor is `until` (to the whole second), so an unchanged org reads nothing
        next cycle.
        """
        if until.tzinfo is None:
            raise ValueError("until must be an aware UTC datetime")
        bound = soql.whole_second(until)
        if since is not None and since.modified_at >= bound:
            return  # nothing can be in the window; never move the cursor back
        plan = self._plan(stream)
        cursor = since
        query = soql.pull_query(plan, since=since, until=bound)
        for raw in self._client.iter_query_pages(query, include_deleted=True):
            rows = [row for row in raw.rows if mapping.is_unread(row, plan.row_map, since)]
            page = mapping.to_page(self.source, stream, rows, plan.row_map, start=cursor)
            if raw.next_url is None:  # the whole window is read
                page = replace(page, cursor=Cursor(modified_at=bound))
            cursor = page.cursor
            log.info(
                "pulled page",
                extra={
                    "source": self.source,
                    "stream": stream,
                    "records": len(page.records),
                    "rejected": len(page.rejected),
                },
            )
            yield page

    def write(self, items: Sequence[WriteItem]) -> list[WriteResult]:
        """One result per item, in order; a batch Salesforce refuses as a whole fails its items."""
        batches, results = write.plan_batches(items)
        for batch in batches:
            try:
                raw = self._client.call(f"write {batch.path}", batch.request())
            except RejectedRequestError as exc:
                results.update(zip(batch.positions, write.refused_batch(exc, batch), strict=True))
                continue
            results.update(zip(batch.positions, write.to_results(raw, batch, items), strict=True))
        return [results[i] for i in range(len(items))]

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

    def usage(self) -> ApiUsage:
        """Calls and retries of this connector, and the org's used/max from Sforce-Limit-Info."""
        return self._client.usage()

    def close(self) -> None:
        self._client.close()

    def _plan(self, stream: StreamName) -> soql.QueryPlan:
        config = self._config.streams.get(stream)
        if config is None:
            raise RejectedRequestError(
                f"stream `{stream}` is not configured; add it under streams:", source=self.source
            )
        if config.where is not None:  # refuse a bad condition before any call
            soql.check_where(config.where, source=self.source, stream=stream)
        return soql.plan_stream(
            stream,
            config,
            self._describe(config.object),
            source=self.source,
            convert_currency=self._config.convert_currency,
        )

    def _describe(self, object_name: str) -> ObjectDescription:
        """The object's describe, fetched once per connector (CRM-API-NOTES §7.1: 1 call per object)."""
        if object_name not in self._descriptions:
            name = soql.check_identifier(object_name, source=self.source, what="object")
            try:
                raw = self._client.call(
                    f"describe {name}",
                    lambda sf: sf.restful(f"sobjects/{name}/describe/", timeout=REQUEST_TIMEOUT),
                )
            except RejectedRequestError as exc:
                if exc.status != 404:
                    raise
                raise RejectedRequestError(
                    f"object `{name}` does not exist or the integration user cannot read it",
                    source=self.source,
                    status=404,
                    code=exc.code,
                ) from exc
            self._descriptions[object_name] = mapping.to_description(raw)
        return self._descriptions[object_name]

    def _describe_for_check(self, object_name: str, findings: list[Finding]) -> ObjectDescription | None:
        try:
            return self._describe(object_name)
        except RejectedRequestError as exc:
            findings.append(checks.describe_finding(object_name, exc))
            return None
