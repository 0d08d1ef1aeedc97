"""The Salesforce connector against the local sandbox: real HTTPS, real paging, real tokens."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest

from connectors import open_connector
from sandbox.salesforce import SalesforceSandbox, SandboxSettings
from syncer.config.models import KeyedTarget, OwnerTarget, SalesforceSource
from syncer.contract import Connector, Cursor, FieldValue, Page, WriteItem
from syncer.errors import AuthFailedError, QuotaExhaustedError
from syncer.pull import pull_window
from syncer.records import Deal, StreamName

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 15, 12, tzinfo=UTC)  # the sandbox clock, frozen
LATER = NOW + timedelta(hours=1)  # a cycle start that sees writes made during the tests
API_LIMIT = 100_000
WHERE: dict[StreamName, str | None] = {
    "deals": None,
    "calls": "TaskSubtype = 'Call'",
    "renewals": "Type = 'Renewal'",
}
OBJECT: dict[StreamName, str] = {"deals": "Opportunity", "calls": "Task", "renewals": "Opportunity"}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SalesforceSandbox]:
    with SalesforceSandbox(now=NOW) as sb:
        yield sb


@pytest.fixture
def sb(sandbox: SalesforceSandbox) -> Iterator[SalesforceSandbox]:
    """The module's sandbox with an empty request log; faults and the API allocation reset after."""
    sandbox.requests.clear()
    yield sandbox
    sandbox.clear_faults()
    sandbox.set_api_limit(max=API_LIMIT, used=0)


def sandbox_source(sb: SalesforceSandbox, **overrides: Any) -> SalesforceSource:
    streams = {name: {"object": OBJECT[name], **({"where": w} if w else {})} for name, w in WHERE.items()}
    data: dict[str, Any] = {
        "kind": "salesforce",
        "instance_url": sb.instance_url,
        "ca_bundle": sb.ca_bundle,
        "auth": {
            "method": "client_credentials",
            "client_id": sb.client_id,
            "client_secret": sb.client_secret,
        },
        "streams": streams,
        **overrides,
    }
    return SalesforceSource.model_validate(data)


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def connector(sb: SalesforceSandbox, waits: list[float]) -> Iterator[Connector]:
    crm = open_connector("sfdc", sandbox_source(sb), sleep=waits.append)
    yield crm
    crm.close()


def ids(pages: list[Page]) -> list[str]:
    return [record.id for page in pages for record in page.records]


def expected_ids(sb: SalesforceSandbox, stream: StreamName, *, until: datetime = NOW) -> set[str]:
    where = f"({WHERE[stream]}) AND " if WHERE[stream] else ""
    soql = f"SELECT Id FROM {OBJECT[stream]} WHERE {where}SystemModstamp < {until:%Y-%m-%dT%H:%M:%SZ}"
    return {row["Id"] for row in sb.org.select(soql, include_deleted=True)}


@pytest.mark.parametrize("stream", ["deals", "calls", "renewals"])
def test_pull_reads_every_record_of_the_stream_in_the_fewest_calls(
    sb: SalesforceSandbox, connector: Connector, stream: StreamName
) -> None:
    pages = list(pull_window(connector, stream, since=None, until=NOW))

    pulled = ids(pages)
    assert len(pulled) == len(set(pulled))
    assert set(pulled) == expected_ids(sb, stream)
    assert not any(page.rejected for page in pages)
    assert len(pages) == max(1, -(-len(pulled) // 2000))  # one page per 2,000 rows (§7.1)
    # A money stream in a multi-currency org also reads CurrencyType and DatedConversionRate once.
    rates = 2 if stream in ("deals", "renewals") else 0
    assert sb.requests.count(kind="query") + sb.requests.count(kind="query_more") == len(pages) + rates
    assert pages[-1].cursor == Cursor(NOW)


def test_multi_currency_amounts_are_in_the_corporate_currency_at_the_dated_rate_of_their_close_date(
    sb: SalesforceSandbox,
) -> None:
    crm = open_connector("sfdc", sandbox_source(sb))  # no currency setting: conversion is automatic

    deals = {r.id: r for page in pull_window(crm, "deals", since=None, until=NOW) for r in page.records}

    raw = sb.org.select(
        "SELECT Id, Amount, CurrencyIsoCode, CloseDate FROM Opportunity", include_deleted=True
    )
    dated = sb.org.select("SELECT IsoCode, ConversionRate, StartDate, NextStartDate FROM DatedConversionRate")

    def rate(code: str, day: str) -> Decimal:  # units per USD on `day`, from the org's own rows
        if code == "USD":
            return Decimal(1)
        [found] = [
            r["ConversionRate"]
            for r in dated
            if r["IsoCode"] == code and r["StartDate"] <= day and (r["NextStartDate"] or "9999-12-31") > day
        ]
        return Decimal(str(found))

    expected = {
        row["Id"]: None
        if row["Amount"] is None
        else (Decimal(str(row["Amount"])) / rate(row["CurrencyIsoCode"], row["CloseDate"])).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
        for row in raw
        if row["Id"] in deals
    }
    assert {deal_id: deal.amount for deal_id, deal in deals.items() if isinstance(deal, Deal)} == expected
    assert {d.currency for d in deals.values() if isinstance(d, Deal)} == {"USD", "EUR", "GBP"}
    identity = crm.identity()
    assert (identity.org_id, identity.home_currency) == (sb.org.org_id, "USD")
    assert any("Advanced Currency Management" in note for note in identity.notes)


def test_without_advanced_currency_management_amounts_convert_at_the_currency_type_rates() -> None:
    with SalesforceSandbox(now=NOW, settings=SandboxSettings(dated_rates=False)) as plain:
        crm = open_connector("sfdc", sandbox_source(plain))
        deals = [r for page in pull_window(crm, "deals", since=None, until=NOW) for r in page.records]
        identity = crm.identity()
        rates = {r["IsoCode"]: Decimal(str(r["ConversionRate"])) for r in plain.org.records("CurrencyType")}
        raw = {r["Id"]: r for r in plain.org.records("Opportunity", include_deleted=True)}

    assert not any("Advanced Currency Management" in note for note in identity.notes)
    foreign = [d for d in deals if isinstance(d, Deal) and d.currency != "USD" and d.amount is not None]
    assert foreign
    for deal in foreign:
        amount = Decimal(str(raw[deal.id]["Amount"])) / rates[raw[deal.id]["CurrencyIsoCode"]]
        assert deal.amount == amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_resuming_rereads_the_look_back_window_without_moving_the_cursor_back(
    connector: Connector,
) -> None:
    full = list(pull_window(connector, "calls", since=None, until=NOW))
    since = full[0].cursor
    assert since is not None

    resumed = list(pull_window(connector, "calls", since=since, until=NOW))

    window_start = since.modified_at - timedelta(seconds=300)  # the default look-back
    stamps = {r.id: r.modified_at for page in full for r in page.records}
    assert set(ids(resumed)) == {i for i, at in stamps.items() if at >= window_start}
    assert all(page.cursor and page.cursor.modified_at >= since.modified_at for page in resumed)


def test_write_to_user_fields_and_read_them_back(sb: SalesforceSandbox, connector: Connector) -> None:
    users = [u["Id"] for u in sb.org.records("User") if u["IsActive"]][:2]
    stamp = datetime(2026, 11, 15, 11, 30, 0, 250_000, tzinfo=UTC)
    values: dict[str, Any] = {
        "Q_Revenue__c": 412000.5,
        "Q_Revenue_Status__c": "on_track",
        "OKR_Updated__c": stamp,
    }
    items = [WriteItem("User", user, dict(values)) for user in users]  # a datetime too: the writer formats it

    results = connector.write(items)

    assert [(r.ok, r.record_id and r.record_id[:15]) for r in results] == [(True, u[:15]) for u in users]
    for user in users:
        stored = sb.org.get("User", user) or {}
        assert (stored["Q_Revenue__c"], stored["Q_Revenue_Status__c"]) == (412000.5, "on_track")
        assert stored["OKR_Updated__c"] == stamp
    assert sb.requests.count(kind="composite_update") == 1


def test_write_keeps_going_past_a_locked_row(
    sb: SalesforceSandbox, connector: Connector, waits: list[float]
) -> None:
    locked, free = [u["Id"] for u in sb.org.records("User") if u["IsActive"]][2:4]
    sb.reject_writes({locked: "UNABLE_TO_LOCK_ROW"}, times=None)

    results = connector.write([WriteItem("User", user, {"Q_Calls__c": 12}) for user in (locked, free)])

    assert [(r.ok, r.error_code, r.retryable) for r in results] == [
        (False, "UNABLE_TO_LOCK_ROW", True),
        (True, None, False),
    ]
    assert (sb.org.get("User", free) or {})["Q_Calls__c"] == 12
    assert waits == [1.0, 4.0, 15.0]  # retried alone in this run, then left for the next cycle
    assert sb.requests.count(kind="composite_update") == 4


def test_upsert_creates_then_updates_key_result_records(sb: SalesforceSandbox, connector: Connector) -> None:
    def item(value: float) -> WriteItem:
        fields: dict[str, FieldValue] = {"Name": "Revenue", "Value__c": value}
        return WriteItem("OKR_Key_Result__c", None, fields, "OKR_Key__c", "q-revenue.revenue")

    first, second = connector.write([item(1.0)]), connector.write([item(2.5)])

    assert (first[0].ok, second[0].ok) == (True, True)
    assert first[0].record_id == second[0].record_id
    [record_id] = sb.org.find_ids("OKR_Key_Result__c", "OKR_Key__c", "q-revenue.revenue")
    assert (sb.org.get("OKR_Key_Result__c", record_id) or {})["Value__c"] == 2.5
    assert sb.requests.count(kind="composite_upsert") == 2


def auth_settings(sb: SalesforceSandbox, method: str, key_file: Path) -> dict[str, str]:
    """The `auth:` block of each OAuth flow against the sandbox (its login URL is the org's)."""
    key_file.write_bytes(sb.jwt_private_key_pem)
    return {
        "client_credentials": {
            "method": "client_credentials",
            "client_id": sb.client_id,
            "client_secret": sb.client_secret,
        },
        "jwt": {
            "method": "jwt",
            "client_id": sb.client_id,
            "username": sb.username,
            "private_key_file": str(key_file),
            "login_url": sb.instance_url,
        },
        "password": {
            "method": "password",
            "username": sb.username,
            "password": sb.password,
            "security_token": sb.security_token,
            "client_id": sb.client_id,
            "client_secret": sb.client_secret,
            "login_url": sb.instance_url,
        },
    }[method]


@pytest.mark.parametrize("method", ["client_credentials", "jwt", "password"])
def test_token_expiry_mid_pull_reauthenticates_once(
    sb: SalesforceSandbox, tmp_path: Path, method: str
) -> None:
    # Small pages: the page after the first may already be read (one is read ahead), the third is not.
    auth = auth_settings(sb, method, tmp_path / "k.pem")
    connector = open_connector("sfdc", sandbox_source(sb, auth=auth, page_size=200))
    pages = pull_window(connector, "calls", since=None, until=NOW)
    first = next(pages)
    sb.expire_tokens()

    rest = list(pages)

    assert len(ids([first, *rest])) == len(expected_ids(sb, "calls"))
    assert sb.requests.count(kind="token") == 2
    assert connector.usage().retries == 1


@pytest.mark.parametrize("method", ["jwt", "password"])
def test_jwt_and_password_logins_reach_the_org(sb: SalesforceSandbox, tmp_path: Path, method: str) -> None:
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(sb.jwt_private_key_pem)
    auth = {
        "jwt": {
            "method": "jwt",
            "client_id": sb.client_id,
            "username": sb.username,
            "private_key_file": str(key_file),
        },
        "password": {
            "method": "password",
            "username": sb.username,
            "password": sb.password,
            "security_token": sb.security_token,
            "client_id": sb.client_id,
            "client_secret": sb.client_secret,
        },
    }[method]
    crm = open_connector("sfdc", sandbox_source(sb, auth={**auth, "login_url": sb.instance_url}))

    assert [owner for page in crm.pull_owners() for owner in page.owners]


def test_wrong_client_secret_is_an_auth_failure_without_the_secret(sb: SalesforceSandbox) -> None:
    auth = {"method": "client_credentials", "client_id": sb.client_id, "client_secret": "wrong-secret-123"}
    crm = open_connector("sfdc", sandbox_source(sb, auth=auth))

    with pytest.raises(AuthFailedError, match="invalid_client") as raised:
        list(crm.pull_owners())

    assert "wrong-secret-123" not in str(raised.value)


def test_bogus_requests_ca_bundle_does_not_override_the_configured_one(
    sb: SalesforceSandbox, connector: Connector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/bogus-ca.pem")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/nonexistent/bogus-ca.pem")

    pages = list(pull_window(connector, "renewals", since=None, until=NOW))

    assert set(ids(pages)) == expected_ids(sb, "renewals")


def test_exhausted_api_allocation_stops_the_source(sb: SalesforceSandbox, connector: Connector) -> None:
    sb.set_api_limit(used=API_LIMIT)

    with pytest.raises(QuotaExhaustedError):
        list(pull_window(connector, "renewals", since=None, until=NOW))

    assert sb.requests.count(kind="query") <= 1


def test_run_stops_before_passing_its_share_of_the_daily_allocation(sb: SalesforceSandbox) -> None:
    sb.set_api_limit(max=40, used=10)  # a 10 % share: 4 calls this run
    crm = open_connector("sfdc", sandbox_source(sb, page_size=200))
    pages = pull_window(crm, "calls", since=None, until=NOW)

    read = [next(pages) for _ in range(3)]  # describe + query + 2 queryMore
    with pytest.raises(QuotaExhaustedError, match=r"budget is 4 \(10% of the org's daily 40") as raised:
        next(pages)

    assert len(ids(read)) == 600
    assert raised.value.code == "API_BUDGET_SPENT"
    assert sb.api_usage == (14, 40)  # the fifth counted call was never sent
    assert crm.usage().calls == 5  # 4 counted calls and the token request


def test_usage_reports_the_org_allocation(sb: SalesforceSandbox, connector: Connector) -> None:
    sb.set_api_limit(used=500)

    list(pull_window(connector, "renewals", since=None, until=NOW))

    usage = connector.usage()
    # token, describe, CurrencyType, DatedConversionRate (the org's rates, once a run), the query
    assert (usage.calls, usage.retries, usage.org_max) == (5, 0, API_LIMIT)
    assert (usage.org_used or 0) > 500


def test_check_finds_missing_write_back_fields(sb: SalesforceSandbox) -> None:
    targets: list[OwnerTarget | KeyedTarget] = [
        OwnerTarget(
            source="sfdc",
            object="User",
            match="owner",
            fields={"Q_Revenue__c": "a.b.value", "Q_Nope__c": "a.b.target"},
        ),
        KeyedTarget(
            source="sfdc", object="OKR_Key_Result__c", upsert_on="OKR_Key__c", fields={"Value__c": "*.value"}
        ),
    ]
    crm = open_connector("sfdc", sandbox_source(sb), writeback=targets)

    problems = [(f.level, f.subject) for f in crm.check() if f.level != "ok"]

    assert problems == [("error", "User.Q_Nope__c")]
