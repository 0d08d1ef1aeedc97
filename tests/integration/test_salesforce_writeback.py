"""Write-back with partial failures, against the sandbox and a real store with its ledger.

A batch of 200 upserts where 5 records fail for good: the other 195 are written, the 5 stay in
the ledger with their Salesforce codes, and the next cycle sends exactly those 5 again.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors import open_connector
from sandbox.salesforce import SalesforceSandbox
from syncer.config.models import KeyedTarget, SalesforceSource
from syncer.contract import Connector, WriteItem
from syncer.store import ledger
from syncer.store.database import Store
from syncer.writeback import push

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 15, 12, tzinfo=UTC)
OBJECT, KEY = "OKR_Key_Result__c", "OKR_Key__c"


@pytest.fixture
def sb() -> Iterator[SalesforceSandbox]:
    with SalesforceSandbox(now=NOW) as sandbox:
        yield sandbox


def connector_for(sb: SalesforceSandbox, waits: list[float]) -> Connector:
    source = SalesforceSource.model_validate(
        {
            "kind": "salesforce",
            "instance_url": sb.instance_url,
            "ca_bundle": sb.ca_bundle,
            "auth": {
                "method": "client_credentials",
                "client_id": sb.client_id,
                "client_secret": sb.client_secret,
            },
            "streams": {"deals": {"object": "Opportunity"}},
        }
    )
    target = KeyedTarget(source="sfdc", object=OBJECT, upsert_on=KEY, fields={"Value__c": "*.value"})
    return open_connector("sfdc", source, writeback=[target], sleep=waits.append)


def wanted(n: int = 200) -> list[WriteItem]:
    return [
        WriteItem(
            OBJECT,
            None,
            {"Name": f"KR {i}", "Value__c": float(i)},
            upsert_key=KEY,
            upsert_value=f"kr-{i:03d}",
        )
        for i in range(n)
    ]


def unconfirmed(store: Store, items: Sequence[WriteItem]) -> list[WriteItem]:
    """What the next cycle's plan sends: items with a field the ledger has not confirmed as wanted."""
    with store.sessions() as session:
        known = ledger.confirmed(session, "sfdc", OBJECT)
    return [
        i for i in items if any(known.get((i.target, f)) != ledger.to_json(v) for f, v in i.fields.items())
    ]


def rejecting(keys: set[str], code: str) -> Any:
    return lambda obj, record_id, fields: code if fields.get(KEY) in keys else None


def test_five_of_two_hundred_fail_the_rest_are_written_and_the_five_retried_next_cycle(
    sb: SalesforceSandbox, store: Store
) -> None:
    waits: list[float] = []
    items = wanted()
    bad = {f"kr-{i:03d}" for i in (3, 50, 51, 120, 199)}
    sb.reject_writes(rejecting(bad, "FIELD_CUSTOM_VALIDATION_EXCEPTION"), times=1)
    crm = connector_for(sb, waits)

    first = push(store.sessions, crm, items, now=NOW)

    assert (first.written_records, first.failed_records) == (195, 5)
    assert sb.requests.count(kind="composite_upsert") == 1  # one call for 200; nothing retried in-run
    assert waits == []
    assert len(sb.org.records(OBJECT)) == 195
    with store.sessions() as session:
        failed = ledger.failed_writes(session)
    assert {(f.target, f.error_code) for f in failed} == {
        (f"{KEY}={key}", "FIELD_CUSTOM_VALIDATION_EXCEPTION") for key in bad for _ in ("Name", "Value__c")
    }

    retry = unconfirmed(store, items)
    assert {i.upsert_value for i in retry} == bad
    second = push(store.sessions, crm, retry, now=NOW + timedelta(minutes=15))

    assert (second.written_records, second.failed_records) == (5, 0)
    assert len(sb.org.records(OBJECT)) == 200
    assert unconfirmed(store, items) == []
    with store.sessions() as session:
        assert ledger.failed_writes(session) == []
    crm.close()


def test_row_locks_in_a_batch_are_retried_in_the_same_run(sb: SalesforceSandbox, store: Store) -> None:
    waits: list[float] = []
    locked = {f"kr-{i:03d}" for i in (7, 8, 9, 10, 11)}
    sb.reject_writes(rejecting(locked, "UNABLE_TO_LOCK_ROW"), times=1)
    crm = connector_for(sb, waits)

    result = push(store.sessions, crm, wanted(), now=NOW)

    assert (result.written_records, result.failed_records) == (200, 0)
    assert sb.requests.count(kind="composite_upsert") == 2  # the batch, then the 5 locked records alone
    assert waits == [1.0]
    crm.close()
