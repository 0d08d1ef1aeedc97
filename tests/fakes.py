"""Test doubles for the connector contract: a CRM held in a list, with a write log."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from syncer.contract import (
    ApiUsage,
    Cursor,
    FieldValue,
    Finding,
    OwnerPage,
    Page,
    RecordRef,
    SourceIdentity,
    StoredValues,
    WriteItem,
    WriteResult,
)
from syncer.records import Deal, Owner, Record, StreamName

T0 = datetime(2026, 10, 5, 12, 0, tzinfo=UTC)

# The head of a test config with two fake CRMs, `sfdc` and `hub` (FakeConnector stands in for
# both): a str.format template taking {store}, followed by the test's own objectives and
# write-backs. Their tokens are FAKE_TOKENS.
FAKE_TOKENS = {"SF_TOKEN": "tok-abcdef", "HS_TOKEN": "pat-abcdef"}
TWO_FAKE_SOURCES = """\
version: 1
store: {store}
timezone: UTC
sources:
  sfdc:
    kind: salesforce
    instance_url: https://example.my.salesforce.com
    auth: {{method: access_token, access_token: "${{SF_TOKEN}}"}}
    streams:
      deals: {{object: Opportunity}}
  hub:
    kind: hubspot
    auth: {{method: private_app, access_token: "${{HS_TOKEN}}"}}
    streams:
      deals: {{}}
"""


def deal(id: str, *, minutes: int = 0, **overrides: object) -> Deal:
    base = Deal(
        source="crm",
        id=id,
        owner_id="u1",
        account_id="a1",
        amount=Decimal("1000.00"),
        currency="USD",
        stage="Closed Won",
        pipeline=None,
        type="new",
        is_closed=True,
        is_won=True,
        created_at=T0 - timedelta(days=20),
        close_date=date(2026, 10, 5),
        modified_at=T0 + timedelta(minutes=minutes),
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def owner(id: str, email: str, *, active: bool = True) -> Owner:
    return Owner(
        source="crm",
        id=id,
        name=id,
        email=email,
        active=active,
        team=None,
        region=None,
        record_id=id,
        modified_at=T0,
    )


@dataclass
class FakeConnector:
    """Serves `records` sorted by modification time in pages of `page_size`."""

    source: str = "crm"
    records: dict[StreamName, list[Record]] = field(default_factory=dict)
    owners: list[Owner] = field(default_factory=list)
    page_size: int = 2
    cursor_resolution: timedelta = timedelta(seconds=1)
    writes: list[list[WriteItem]] = field(default_factory=list)
    reject: dict[str, str] = field(default_factory=dict)  # target → error code
    calls: int = 0
    org_id: str = "fake-org"
    home_currency: str | None = None
    rates_version: str | None = None
    held: dict[str, dict[str, FieldValue]] = field(default_factory=dict)  # target → what the CRM holds
    reads: list[tuple[str, list[str]]] = field(default_factory=list)  # (object, targets) per read

    def identity(self) -> SourceIdentity:
        return SourceIdentity(self.org_id, self.home_currency, rates_version=self.rates_version)

    def pull_owners(self) -> Iterator[OwnerPage]:
        self.calls += 1
        yield OwnerPage(owners=list(self.owners), rejected=[])

    def pull(self, stream: StreamName, *, since: Cursor | None, until: datetime) -> Iterator[Page]:
        rows = sorted(
            (
                r
                for r in self.records.get(stream, [])
                if r.modified_at < until and (since is None or r.modified_at >= since.modified_at)
            ),
            key=lambda r: (r.modified_at, r.id),
        )
        for start in range(0, len(rows), self.page_size):
            self.calls += 1
            chunk = rows[start : start + self.page_size]
            last = start + self.page_size >= len(rows)
            cursor = Cursor(until) if last else Cursor(chunk[-1].modified_at, chunk[-1].id)
            yield Page(records=chunk, rejected=[], cursor=cursor, last=last)
        if not rows:
            self.calls += 1
            yield Page(records=[], rejected=[], cursor=Cursor(until), last=True)

    def write(self, items: Sequence[WriteItem]) -> list[WriteResult]:
        self.calls += 1
        self.writes.append(list(items))
        for i in items:
            if i.target not in self.reject:
                self.held.setdefault(i.target, {}).update(i.fields)
        return [
            WriteResult(ok=False, error_code=self.reject[i.target], message="refused")
            if i.target in self.reject
            else WriteResult(ok=True, record_id=i.record_id or f"new-{i.upsert_value}")
            for i in items
        ]

    def read_fields(
        self, object_name: str, records: Sequence[RecordRef], fields: Sequence[str]
    ) -> StoredValues:
        self.calls += 1
        self.reads.append((object_name, [r.target for r in records]))
        held = {r.target: self.held[r.target] for r in records if r.target in self.held}
        return StoredValues({t: {f: v.get(f) for f in fields} for t, v in held.items()}, {})

    def check(self) -> list[Finding]:
        return []

    def usage(self) -> ApiUsage:
        return ApiUsage(calls=self.calls, retries=0)

    def close(self) -> None:
        pass
