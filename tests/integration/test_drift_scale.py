"""Drift repair at volume: read back in the fewest calls, rewrite in ⌈n/200⌉ / ⌈n/100⌉ calls.

Hundreds of key-result records are written, a few hundred of them edited by hand in the
sandbox, and one verifying push must put back exactly those, counted in the request logs.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from connectors import open_connector
from sandbox.hubspot import HubSpotSandbox
from sandbox.salesforce import SalesforceSandbox
from syncer.config.models import Settings
from syncer.contract import Connector
from syncer.drift import push_source
from syncer.fields import required_fields
from syncer.store.database import Store
from syncer.values import KeyResultValue, Period

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 15, 12, tzinfo=UTC)
URI_LIMIT = 16_384  # bytes the Salesforce REST API takes in a request URI
PADDING = "x" * 40  # long keys: the read-back must cut its IN list to stay under the URI limit


def values(n: int, *, scale: int = 1) -> list[KeyResultValue]:
    """n per-rep values of one key result; rep i's value is i × scale."""
    period = Period(date(2026, 10, 1), date(2026, 12, 31))
    return [
        KeyResultValue(
            objective="o",
            key_result="kr",
            group_kind="owner",
            group_key=f"rep-{i:04d}-{PADDING}",
            period=period,
            value=Decimal(i * scale),
            baseline=None,
            target=Decimal(1000),
            direction="increase",
            progress=None,
            score=None,
            expected=0.5,
            status=None,
            projected=None,
            updated_at=NOW,
        )
        for i in range(n)
    ]


def settings_for(source: dict[str, Any], target: dict[str, Any], store_url: str) -> Settings:
    return Settings.model_validate(
        {
            "version": 1,
            "store": store_url,
            "sources": {"crm": source},
            "writeback": [{"source": "crm", "verify": "every_cycle", **target}],
        }
    )


def push(
    store: Store, settings: Settings, connector: Connector, vals: list[KeyResultValue], at: datetime
) -> Any:
    return push_source(store.sessions, settings, connector, vals, now=at)


def test_salesforce_repairs_250_drifted_records_in_two_calls_after_reading_450_back(
    store: Store, store_url: str
) -> None:
    with SalesforceSandbox(now=NOW) as sb:
        source = {
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
        target = {
            "object": "OKR_Key_Result__c",
            "upsert_on": "OKR_Key__c",
            "fields": {"Name": "*.key", "Value__c": "*.value"},
        }
        settings = settings_for(source, target, store_url)
        crm = open_connector("crm", settings.sources["crm"], writeback=settings.writeback)
        wanted = values(450)
        first = push(store, settings, crm, wanted, NOW)
        assert first.written_records == 450
        assert sb.requests.count(kind="composite_upsert") == math.ceil(450 / 200)

        records = {r["OKR_Key__c"]: r for r in sb.org.records("OKR_Key_Result__c")}
        drifted = sorted(records)[100:350]
        held = {key: records[key]["Value__c"] for key in drifted}
        for key in drifted:
            sb.org.update("OKR_Key_Result__c", records[key]["Id"], {"Value__c": -1})
        sb.requests.clear()

        second = push(store, settings, crm, wanted, NOW + timedelta(minutes=15))

        assert second.repaired_fields == 250
        upserts = sb.requests.filter(kind="composite_upsert")
        assert len(upserts) == math.ceil(250 / 200)
        sent = {r["OKR_Key__c"]: r["Value__c"] for call in upserts for r in call.body["records"]}
        assert all(
            set(r) == {"attributes", "OKR_Key__c", "Value__c"} for c in upserts for r in c.body["records"]
        )
        assert sent == held  # exactly the edited records, with the values they held before
        after = {r["OKR_Key__c"]: r["Value__c"] for r in sb.org.records("OKR_Key_Result__c")}
        assert {key: after[key] for key in drifted} == held
        queries = sb.requests.filter(kind="query")
        # 450 keys of ~55 characters, ~65 URL-encoded with their quotes and comma: ~29,000 bytes,
        # so two queries, each under the URI limit; then one describe, nothing else.
        assert len(queries) == 2
        assert all(len(_uri(q.path, q.params)) < URI_LIMIT for q in queries)
        crm.close()


def test_hubspot_repairs_150_drifted_records_in_two_batches_after_three_batch_reads(
    store: Store, store_url: str
) -> None:
    with HubSpotSandbox(key_results_schema=True, now=NOW) as hs:
        source = {
            "kind": "hubspot",
            "base_url": hs.base_url,
            "auth": {"method": "private_app", "access_token": hs.access_token},
            "streams": {"deals": {"pipelines": ["default"]}},
        }
        target = {"object": "p_key_results", "upsert_on": "okr_key", "fields": {"okr_value": "*.value"}}
        settings = settings_for(source, target, store_url)
        crm = open_connector("crm", settings.sources["crm"], writeback=settings.writeback)
        missing = crm.missing_fields(required_fields(settings, "crm"))
        assert all(f.level == "ok" for f in crm.create_fields(missing))
        wanted = values(250, scale=3)
        assert push(store, settings, crm, wanted, NOW).written_records == 250

        records = sorted(hs.records("p_key_results"), key=lambda r: str(r.properties["okr_key"]))
        drifted = records[::2][:125] + records[1::2][:25]
        held = {r.properties["okr_key"]: r.properties["okr_value"] for r in drifted}
        for n, r in enumerate(drifted):  # half cleared, half changed
            hs.update("p_key_results", r.id, {"okr_value": "" if n % 2 else "12345.5"})
        hs.requests.clear()

        second = push(store, settings, crm, wanted, NOW + timedelta(minutes=15))

        assert second.repaired_fields == 150
        writes = hs.requests.filter(writes=True)
        assert [w.kind for w in writes] == ["batch_upsert"] * math.ceil(150 / 100)
        sent = {i["id"]: i["properties"]["okr_value"] for w in writes for i in w.body["inputs"]}
        assert {key: Decimal(v) for key, v in sent.items()} == {key: Decimal(v) for key, v in held.items()}
        assert hs.requests.count(kind="batch_read") == math.ceil(250 / 100)
        crm.close()


def _uri(path: str, params: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return f"https://127.0.0.1:65535{path}?{urlencode(params)}"
