"""One org per store, money stamped with its currency, and amounts re-read when rates change.

Fake CRMs on the store (SQLite, and PostgreSQL when configured): what a user sees is the exit
path, the run record, the rows the store keeps and the values written.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from syncer.config import load_settings
from syncer.config.models import Settings
from syncer.cycle import run_cycle
from syncer.errors import OrgMismatchError
from syncer.store import identities
from syncer.store.database import Store
from syncer.store.runs import recent
from syncer.store.snapshots import latest_values
from syncer.store.tables import CursorRow, DealRow, SourceIdentityRow
from tests.fakes import FAKE_TOKENS as ENV
from tests.fakes import T0, TWO_FAKE_SOURCES, FakeConnector, deal, owner

pytestmark = pytest.mark.store
CONFIG = (
    TWO_FAKE_SOURCES
    + """\
objectives:
  - key: q
    period: {{start: 2026-10-01, end: 2026-12-31}}
    key_results:
      - key: mixed
        metric: {{kind: sum, stream: deals, field: amount, date: close_date}}
        target: 10000
      - key: sf-revenue
        metric: {{kind: sum, stream: deals, field: amount, where: {{source: sfdc}}, date: close_date}}
        target: 10000
      - key: won
        metric: {{kind: count, stream: deals, date: close_date}}
        target: 10
writeback:
  - source: sfdc
    object: OKR_Key_Result__c
    upsert_on: OKR_Key__c
    fields: {{Value__c: "*.value", Currency__c: "*.currency"}}
"""
)
NOW = T0 + timedelta(days=1)


@pytest.fixture
def settings(tmp_path: Path, store_url: str) -> Settings:
    path = tmp_path / "okr.yaml"
    path.write_text(CONFIG.format(store=store_url))
    return load_settings(path, ENV)


def crms(
    *, sf_org: str = "00DA", sf_currency: str = "USD", hub_currency: str = "EUR"
) -> dict[str, FakeConnector]:
    return {
        "sfdc": FakeConnector(
            source="sfdc",
            records={"deals": [deal(f"s{i}", minutes=i, source="sfdc") for i in range(3)]},
            owners=[owner("u1", "a@x.io")],
            org_id=sf_org,
            home_currency=sf_currency,
        ),
        "hub": FakeConnector(
            source="hub",
            records={"deals": [deal("h1", source="hub", amount=Decimal("500.00"))]},
            org_id="portal-1",
            home_currency=hub_currency,
        ),
    }


def cycle(settings: Settings, store: Store, fakes: dict[str, FakeConnector]):  # type: ignore[no-untyped-def]
    return run_cycle(settings, store, lambda name: fakes[name], clock=lambda: NOW)


def written_keys(fake: FakeConnector) -> dict[str, object]:
    return {item.upsert_value or "": item.fields for batch in fake.writes for item in batch}


def test_money_carries_the_home_currency_and_a_key_result_mixing_currencies_is_not_written(
    settings: Settings, store: Store
) -> None:
    fakes = crms()

    report = cycle(settings, store, fakes)

    values = {v.key_result: v for v in report.values}
    assert set(values) == {"sf-revenue", "won"}  # `mixed` adds USD to EUR: left out
    assert (values["sf-revenue"].value, values["sf-revenue"].currency) == (Decimal("3000"), "USD")
    assert values["won"].currency is None  # a count is no money
    assert any("q.mixed" in e and "USD (sfdc)" in e and "EUR (hub)" in e for e in report.errors)
    assert report.exit_code == 1
    writes = written_keys(fakes["sfdc"])
    assert "q.mixed" not in writes
    assert writes["q.sf-revenue"] == {"Value__c": 3000.0, "Currency__c": "USD"}
    with store.sessions() as session:
        snapshot = {v.key_result: v.currency for v in latest_values(session)}
    assert snapshot == {"sf-revenue": "USD", "won": None}


def test_sources_that_agree_on_the_currency_give_the_mixed_sum_its_currency(
    settings: Settings, store: Store
) -> None:
    report = cycle(settings, store, crms(hub_currency="USD"))

    mixed = next(v for v in report.values if v.key_result == "mixed")
    assert (mixed.value, mixed.currency) == (Decimal("3500"), "USD")


def test_another_org_behind_a_known_source_is_refused_before_anything_is_pulled(
    settings: Settings, store: Store
) -> None:
    assert cycle(settings, store, crms(hub_currency="USD")).exit_code == 0
    fakes = crms(sf_org="00DB", hub_currency="USD")

    with pytest.raises(OrgMismatchError) as raised:
        cycle(settings, store, fakes)

    message = str(raised.value)
    assert "00DA" in message
    assert "00DB" in message
    assert "okrsync db reset-source sfdc" in message
    assert fakes["sfdc"].calls == fakes["hub"].calls == 0  # nothing pulled, nothing written
    with store.sessions() as session:
        run = recent(session, limit=1)[0]
        assert run.status == "failed"
        assert "00DB" in (run.counts.error or "")
        deleted = identities.reset_source(session, "sfdc")
        session.commit()
    assert deleted["deals"] == 3
    assert deleted["source_identities"] == 1

    assert cycle(settings, store, crms(sf_org="00DB", hub_currency="USD")).exit_code == 0
    with store.sessions() as session:
        assert session.get(SourceIdentityRow, "sfdc").org_id == "00DB"  # type: ignore[union-attr]
        assert session.get(SourceIdentityRow, "hub").org_id == "portal-1"  # type: ignore[union-attr]


def test_changed_rates_mark_the_stored_amounts_stale_and_the_next_pull_replaces_them(
    settings: Settings, store: Store
) -> None:
    fakes = crms(hub_currency="USD")
    fakes["sfdc"].rates_version = "rates-1"
    assert cycle(settings, store, fakes).exit_code == 0
    # The org's rate changes: the CRM's records keep their stamps, their converted amounts change.
    fakes = crms(hub_currency="USD")
    fakes["sfdc"].rates_version = "rates-2"
    fakes["sfdc"].records["deals"] = [
        deal(f"s{i}", minutes=i, source="sfdc", amount=Decimal("1100.00")) for i in range(3)
    ]

    report = cycle(settings, store, fakes)

    [sf_revenue] = [v for v in report.values if v.key_result == "sf-revenue"]
    assert sf_revenue.value == Decimal("3300")
    with store.sessions() as session:
        amounts = session.scalars(select(DealRow.amount).where(DealRow.source == "sfdc")).all()
        rates = session.get(SourceIdentityRow, "sfdc")
        assert rates is not None
        assert rates.rates_version == "rates-2"
        assert session.get(CursorRow, ("sfdc", "deals")) is not None  # the re-pull moved it again
    assert sorted(amounts) == [Decimal("1100.00")] * 3
