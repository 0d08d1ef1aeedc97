"""One adapter per CRM for the contract suite: start its sandbox, open its connector, and change
the CRM the way its users, admins and outages do. A new CRM passes the suite by adding an adapter.

Expected values are read from the sandbox's raw records, never through connectors/ or syncer/.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from connectors import open_connector
from connectors.hubspot import HubSpotConnector
from sandbox.hubspot import HubSpotSandbox, HubSpotSettings
from sandbox.salesforce import SalesforceSandbox
from syncer.config.models import HubSpotSource, SalesforceSource
from syncer.contract import Connector, FieldValue, WriteItem
from syncer.records import StreamName

NOW = datetime(2026, 11, 15, 12, tzinfo=UTC)  # both sandbox clocks, frozen
LATER = NOW + timedelta(hours=1)  # a cycle start that sees changes made during a test
STREAM: StreamName = "calls"  # the stream every CRM maps without configuration


@dataclass
class Waits:
    """The connector's sleep and monotonic clock: sleeping records the wait and moves the clock."""

    waits: list[float] = field(default_factory=list)
    now: float = 1_000.0

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


class CrmAdapter(Protocol):
    name: str
    page_size: int  # rows per page of an incremental pull, as configured by `open`

    def open(self, waits: Waits, *, static_token: bool = False) -> Connector:
        """A connector on the sandbox; `static_token`: one that cannot fetch a new token."""
        ...

    def reset(self) -> None:
        """Empty the request log; drop faults left by a test."""
        ...

    def requests(self) -> int:
        """Requests the sandbox served (token requests included)."""
        ...

    def stream_ids(self, until: datetime) -> set[str]:
        """Ids of STREAM's records, live or deleted, last modified before `until`."""
        ...

    def owner_ids(self) -> set[str]:
        """Ids of every CRM user, active or not."""
        ...

    def now(self) -> datetime:
        """The sandbox's clock (frozen; tests move it on)."""
        ...

    def advance(self, delta: timedelta) -> None: ...

    def modify(self, record_id: str) -> None:
        """Change a field of the record (its modification time becomes the sandbox's now)."""
        ...

    def delete(self, record_id: str) -> None: ...

    def corrupt(self, record_id: str) -> None:
        """Give the record a value no mapping can read (text in its call duration)."""
        ...

    def touch_at_one_instant(self, n: int) -> list[str]:
        """Modify `n` records of STREAM all at the sandbox's now, to the millisecond."""
        ...

    def fail_next_with_429(self, retry_after: int) -> None: ...

    def expire_tokens(self) -> None:
        """Every issued token stops working (a static token too)."""
        ...

    def write_items(self, n: int) -> list[WriteItem]:
        """`n` writes of one number field to existing records."""
        ...

    def reject_writes(self, items: list[WriteItem], *, retryable: bool, times: int | None) -> None: ...

    def stored_value(self, item: WriteItem) -> FieldValue:
        """What the sandbox holds in the item's field now."""
        ...


def _ms(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# ------------------------------------------------------------------------------------- Salesforce


class SalesforceAdapter:
    name = "salesforce"
    page_size = 200  # the smallest page SOQL allows

    def __init__(self, sb: SalesforceSandbox) -> None:
        self.sb = sb

    def open(self, waits: Waits, *, static_token: bool = False) -> Connector:
        sb = self.sb
        auth: dict[str, Any] = (
            {"method": "access_token", "access_token": sb.issue_token()}
            if static_token
            else {
                "method": "client_credentials",
                "client_id": sb.client_id,
                "client_secret": sb.client_secret,
            }
        )
        source = SalesforceSource.model_validate(
            {
                "kind": "salesforce",
                "instance_url": sb.instance_url,
                "ca_bundle": sb.ca_bundle,
                "auth": auth,
                "streams": {STREAM: {"object": "Task", "where": "TaskSubtype = 'Call'"}},
                "page_size": self.page_size,
                "lookback_seconds": 0,  # the look-back re-reads on purpose; the suite counts exactly-once
            }
        )
        return open_connector("sfdc", source, sleep=waits.sleep)

    def reset(self) -> None:
        self.sb.requests.clear()
        self.sb.clear_faults()

    def requests(self) -> int:
        return len(self.sb.requests)

    def _calls(self) -> list[dict[str, Any]]:
        return [
            t for t in self.sb.org.records("Task", include_deleted=True) if t.get("TaskSubtype") == "Call"
        ]

    def stream_ids(self, until: datetime) -> set[str]:
        return {t["Id"] for t in self._calls() if t["SystemModstamp"] < until}

    def owner_ids(self) -> set[str]:
        return {u["Id"] for u in self.sb.org.records("User")}

    def now(self) -> datetime:
        return self.sb.clock.now()

    def advance(self, delta: timedelta) -> None:
        self.sb.clock.advance(delta)

    def modify(self, record_id: str) -> None:
        self.sb.org.update("Task", record_id, {"CallDurationInSeconds": 4321})

    def delete(self, record_id: str) -> None:
        self.sb.org.delete("Task", record_id)

    def corrupt(self, record_id: str) -> None:
        self.sb.garble(record_id, "CallDurationInSeconds", "lots")

    def touch_at_one_instant(self, n: int) -> list[str]:
        at = self.sb.clock.now()
        live = sorted(t["Id"] for t in self._calls() if not t.get("IsDeleted"))[:n]
        assert len(live) == n, "the sample org holds too few calls"
        with self.sb.org.lock:
            for record_id in live:
                record = self.sb.org.lookup(record_id)
                assert record is not None
                record["SystemModstamp"] = at
                record["LastModifiedDate"] = at
        return live

    def fail_next_with_429(self, retry_after: int) -> None:
        self.sb.fail_next(1, status=429, error_code="REQUEST_LIMIT_EXCEEDED", path_contains="/query",
                          retry_after=retry_after)  # fmt: skip

    def expire_tokens(self) -> None:
        self.sb.expire_tokens()

    def write_items(self, n: int) -> list[WriteItem]:
        users = sorted(u["Id"] for u in self.sb.org.records("User") if u["IsActive"])[:n]
        return [WriteItem("User", user, {"Q_Calls__c": 10 + i}) for i, user in enumerate(users)]

    def reject_writes(self, items: list[WriteItem], *, retryable: bool, times: int | None) -> None:
        code = "UNABLE_TO_LOCK_ROW" if retryable else "FIELD_CUSTOM_VALIDATION_EXCEPTION"
        self.sb.reject_writes({str(item.record_id): code for item in items}, times=times)

    def stored_value(self, item: WriteItem) -> FieldValue:
        [(name, _)] = item.fields.items()
        value: FieldValue = (self.sb.org.get(item.object, str(item.record_id)) or {}).get(name)
        return value


# ---------------------------------------------------------------------------------------- HubSpot


class HubSpotAdapter:
    name = "hubspot"
    page_size = 200  # search pages (the API's maximum)

    def __init__(self, hs: HubSpotSandbox) -> None:
        self.hs = hs

    def open(self, waits: Waits, *, static_token: bool = False) -> Connector:
        hs = self.hs
        auth: dict[str, Any] = (
            {"method": "private_app", "access_token": hs.access_token}
            if static_token
            else {
                "method": "oauth",
                "client_id": hs.client_id,
                "client_secret": hs.client_secret,
                "refresh_token": hs.refresh_token,
            }
        )
        source = HubSpotSource.model_validate(
            {"kind": "hubspot", "base_url": hs.base_url, "auth": auth, "streams": {STREAM: {}}}
        )
        return HubSpotConnector(
            "hub", source, sleep=waits.sleep, clock=waits.clock
        )  # its rate limiter's clock

    def reset(self) -> None:
        self.hs.requests.clear()
        self.hs.clear_faults()

    def requests(self) -> int:
        return len(self.hs.requests)

    def stream_ids(self, until: datetime) -> set[str]:
        records = [*self.hs.records("calls"), *self.hs.records("calls", archived=True)]
        return {r.id for r in records if _ms(str(r.properties["hs_lastmodifieddate"])) < until}

    def owner_ids(self) -> set[str]:
        return {str(owner["id"]) for owner in self.hs.portal.owners}

    def now(self) -> datetime:
        return self.hs.clock.now()

    def advance(self, delta: timedelta) -> None:
        self.hs.clock.advance(delta)

    def modify(self, record_id: str) -> None:
        self.hs.update("calls", record_id, {"hs_call_duration": 4_321_000})

    def delete(self, record_id: str) -> None:
        self.hs.archive("calls", record_id)

    def corrupt(self, record_id: str) -> None:
        with self.hs.portal.lock:
            self.hs.get("calls", record_id).properties["hs_call_duration"] = "lots"

    def touch_at_one_instant(self, n: int) -> list[str]:
        return self.hs.bulk_touch("calls", n, step=timedelta(0))

    def fail_next_with_429(self, retry_after: int) -> None:
        self.hs.fail_next(1, status=429, path_contains="/crm/v3/objects", retry_after=retry_after)

    def expire_tokens(self) -> None:
        self.hs.expire_tokens(private_app=True)

    def write_items(self, n: int) -> list[WriteItem]:
        deals = [r.id for r in self.hs.records("deals")][:n]
        return [WriteItem("deals", deal, {"amount": 10 + i}) for i, deal in enumerate(deals)]

    def reject_writes(self, items: list[WriteItem], *, retryable: bool, times: int | None) -> None:
        category = "LOCKED" if retryable else "VALIDATION_ERROR"
        self.hs.reject_upserts({str(i.record_id): "refused" for i in items}, times=times, category=category)

    def stored_value(self, item: WriteItem) -> FieldValue:
        [(name, _)] = item.fields.items()
        value = self.hs.get(item.object, str(item.record_id)).properties.get(name)
        return float(value) if value is not None else None


# ------------------------------------------------------------------------------------ the sandboxes

ADAPTERS: dict[str, Callable[[], Iterator[CrmAdapter]]] = {}


def _salesforce() -> Iterator[CrmAdapter]:
    with SalesforceSandbox(now=NOW) as sb:
        yield SalesforceAdapter(sb)


def _hubspot() -> Iterator[CrmAdapter]:
    # No sandbox-side rate limits: their windows would never roll on a frozen clock.
    settings = HubSpotSettings(ten_secondly_limit=None, search_per_second=None)
    with HubSpotSandbox(now=NOW, settings=settings) as hs:
        yield HubSpotAdapter(hs)


ADAPTERS.update(salesforce=_salesforce, hubspot=_hubspot)
