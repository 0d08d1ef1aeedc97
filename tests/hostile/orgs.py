"""The hostile suite's CRMs: small sandboxes, their YAML, a cycle, and ways to spoil one record.

A bad record is seeded the way the sandboxes let tests arrange data: HubSpot through the
portal's records (every property as the API returns it), Salesforce through the org's stored
fields, under the sandbox's lock, without the checks the REST API applies to clients. Each
spoiled record is put back as it was when the test ends, so one sandbox serves a module.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors import open_connector
from sandbox.hubspot import HubSpotSandbox, HubSpotSettings
from sandbox.salesforce import SalesforceSandbox
from sandbox.sample_org import SampleScale
from syncer.config import load_settings
from syncer.config.models import Settings
from syncer.cycle import CycleResult, run_cycle
from syncer.fields import required_fields
from syncer.store.database import open_store

SMALL = SampleScale(reps=4, accounts=12, deals=90, renewals=8, calls=160, emails=0, quarters=2)
KEY_RESULTS = "p_key_results"

HUB_YAML = """
version: 1
store: sqlite:///unused.db
timezone: UTC
sources:
  hub:
    kind: hubspot
    base_url: ${HS_URL}
    auth:
      method: private_app
      access_token: ${HS_TOKEN}
    streams:
      deals: {pipelines: [default]}
      calls: {}
objectives:
  - key: hub
    period: current_year
    key_results:
      - key: revenue
        metric: {kind: sum, stream: deals, field: amount, where: {is_won: true}, date: close_date}
        target: 1000000
        group_by: owner
      - key: won
        metric: {kind: count, stream: deals, where: {is_won: true}, date: close_date}
        target: 40
      - key: cycle
        metric: {kind: avg_days, stream: deals, from: created_at, to: close_date, where: {is_won: true}, date: close_date}
        target: 30
      - key: calls
        metric: {kind: count, stream: calls, date: occurred_at}
        target: 100
        group_by: owner
      - key: talk
        metric: {kind: avg, stream: calls, field: duration_seconds, date: occurred_at}
        target: 600
writeback:
  - source: hub
    object: p_key_results
    upsert_on: okr_key
    fields: {okr_name: "*.key", okr_value: "*.value"}
"""

SF_YAML = """
version: 1
store: sqlite:///unused.db
timezone: UTC
sources:
  sfdc:
    kind: salesforce
    instance_url: ${SF_URL}
    ca_bundle: ${SF_CA}
    auth:
      method: client_credentials
      client_id: ${SF_ID}
      client_secret: ${SF_SECRET}
    convert_currency: true
    streams:
      deals: {object: Opportunity, where: "RecordType.DeveloperName != 'Partner'"}
      calls: {object: Task, where: "TaskSubtype = 'Call'"}
objectives:
  - key: sf
    period: current_year
    key_results:
      - key: revenue                   # USD deals: the rates ACM applies are another suite's business
        metric: {kind: sum, stream: deals, field: amount, where: {is_won: true, currency: USD}, date: close_date}
        target: 1000000
      - key: won
        metric: {kind: count, stream: deals, where: {is_won: true}, date: close_date}
        target: 40
      - key: cycle
        metric: {kind: avg_days, stream: deals, from: created_at, to: close_date, where: {is_won: true}, date: close_date}
        target: 30
      - key: calls
        metric: {kind: count, stream: calls, date: occurred_at}
        target: 100
      - key: talk
        metric: {kind: avg, stream: calls, field: duration_seconds, date: occurred_at}
        target: 600
writeback:
  - source: sfdc
    object: OKR_Key_Result__c
    upsert_on: OKR_Key__c
    fields: {Name: "*.key", Value__c: "*.value"}
"""


def open_hubspot() -> HubSpotSandbox:
    """A small portal without rate limits (the suite runs many cycles back to back)."""
    settings = HubSpotSettings(ten_secondly_limit=None, search_per_second=None)
    return HubSpotSandbox(scale=SMALL, key_results_schema=True, settings=settings)


def open_salesforce() -> SalesforceSandbox:
    return SalesforceSandbox(scale=SMALL)


def hub_settings(hs: HubSpotSandbox, folder: Path, store_url: str) -> Settings:
    path = folder / "hub.yaml"
    path.write_text(HUB_YAML)
    env = {"HS_URL": hs.base_url, "HS_TOKEN": hs.access_token}
    return load_settings(path, env).model_copy(update={"store": store_url})


def sf_settings(sf: SalesforceSandbox, folder: Path, store_url: str) -> Settings:
    path = folder / "sf.yaml"
    path.write_text(SF_YAML)
    env = {
        "SF_URL": sf.instance_url,
        "SF_CA": sf.ca_bundle,
        "SF_ID": sf.client_id,
        "SF_SECRET": sf.client_secret,
    }
    return load_settings(path, env).model_copy(update={"store": store_url})


def factory(settings: Settings) -> Callable[[str], Any]:
    def opened(name: str) -> Any:
        targets = [t for t in settings.writeback if t.source == name]
        return open_connector(name, settings.sources[name], writeback=targets)

    return opened


def ensure_fields(settings: Settings) -> None:
    """Create the write-back fields a sandbox lacks (HubSpot's key-result value properties)."""
    for name in settings.sources:
        connector = factory(settings)(name)
        try:
            missing = connector.missing_fields(required_fields(settings, name))
            assert all(f.level == "ok" for f in connector.create_fields(missing))
        finally:
            connector.close()


def cycle(settings: Settings) -> CycleResult:
    store = open_store(settings.store)
    try:
        return run_cycle(settings, store, factory(settings), clock=lambda: datetime.now(UTC))
    finally:
        store.close()


def next_second() -> None:
    """A cycle reads changes up to its start in whole seconds: start it after this second."""
    time.sleep(1.05 - datetime.now(UTC).microsecond / 1e6)


# ---------------------------------------------------------------- spoiling one record


@contextmanager
def spoiled_hubspot(
    hs: HubSpotSandbox, object_type: str, record_id: str, values: Mapping[str, Any]
) -> Iterator[None]:
    """Set raw property values (any JSON value) on one record; put it back afterwards."""
    record = hs.get(object_type, record_id)
    with hs.portal.lock:
        saved = copy.deepcopy(record.properties)
        record.properties.update(values)
    try:
        yield
    finally:
        with hs.portal.lock:
            record.properties.clear()
            record.properties.update(saved)


@contextmanager
def added_hubspot(hs: HubSpotSandbox, object_type: str, record_id: str, template_id: str) -> Iterator[None]:
    """A copy of a record under another id (ids may be of any length); removed afterwards."""
    kind = hs.portal.object_type(object_type)
    with hs.portal.lock:
        template = kind.records[template_id]
        clone = copy.deepcopy(template)
        clone.id = record_id
        clone.properties["hs_object_id"] = record_id
        kind.records[record_id] = clone
        kind.ids.append(int(record_id))
    try:
        yield
    finally:
        with hs.portal.lock:
            del kind.records[record_id]
            kind.ids.remove(int(record_id))


@contextmanager
def spoiled_salesforce(sf: SalesforceSandbox, record_id: str, values: Mapping[str, Any]) -> Iterator[None]:
    """Set stored field values on one record, unchecked; put it back afterwards."""
    with sf.org.lock:
        record = sf.org.lookup(record_id)
        assert record is not None
        saved = dict(record)
        record.update(values)
    try:
        yield
    finally:
        with sf.org.lock:
            record.clear()
            record.update(saved)
