"""HubSpot's own error and limit rules against the sandbox: rate-limit policies, the daily limit,
4xx vs 5xx, OAuth refresh, the client-side search rate, and batch write shapes. The rules every
connector shares (Retry-After, token expiry, partial writes, usage) are in tests/connectors/test_contract.py."""

from __future__ import annotations

from datetime import timedelta

import pytest

from connectors.hubspot import HubSpotConnector
from sandbox.hubspot import HubSpotSandbox
from syncer.config.models import HubSpotSource
from syncer.contract import Cursor, WriteItem
from syncer.errors import AuthExpiredError, QuotaExhaustedError, RejectedRequestError, SourceUnreachableError
from syncer.pull import pull_window
from tests.connectors.hubspot.conftest import NOW, UNTIL, FakeClock, instant, make_source
from tests.connectors.transport_servers import closed_port, untrusted_tls_server

pytestmark = pytest.mark.integration


def oauth_connector(hs: HubSpotSandbox, waits: list[float]) -> HubSpotConnector:
    auth = {
        "method": "oauth",
        "client_id": hs.client_id,
        "client_secret": hs.client_secret,
        "refresh_token": hs.refresh_token,
    }
    return HubSpotConnector("hub", make_source(hs, auth=auth), sleep=waits.append, clock=FakeClock())


def test_429_without_retry_after_waits_its_policy_window(
    hs: HubSpotSandbox, connector: HubSpotConnector, waits: list[float]
) -> None:
    hs.fail_next(1, status=429, policy="TEN_SECONDLY_ROLLING", path_contains="/objects/calls")
    hs.fail_next(1, status=429, policy="SECONDLY", path_contains="/objects/calls")

    records = [r for p in pull_window(connector, "calls", since=None, until=UNTIL) for r in p.records]

    assert len(records) == len(hs.records("calls")) + len(hs.records("calls", archived=True))
    assert waits[:2] == [10.0, 1.0]
    assert connector.usage().retries == 2


def test_daily_limit_stops_the_source(hs: HubSpotSandbox, connector: HubSpotConnector) -> None:
    hs.fail_next(1, status=429, policy="DAILY", path_contains="/pipelines")
    with pytest.raises(QuotaExhaustedError, match="daily"):
        list(pull_window(connector, "deals", since=None, until=UNTIL))


def test_4xx_is_rejected_without_retry(hs: HubSpotSandbox, connector: HubSpotConnector) -> None:
    hs.fail_next(
        1,
        status=400,
        message="Property x does not exist",
        category="VALIDATION_ERROR",
        path_contains="/pipelines",
    )
    with pytest.raises(RejectedRequestError, match="VALIDATION_ERROR"):
        list(pull_window(connector, "deals", since=None, until=UNTIL))
    assert len(hs.requests) == 1


def test_5xx_is_retried(hs: HubSpotSandbox, connector: HubSpotConnector, waits: list[float]) -> None:
    hs.fail_next(1, status=502, path_contains="/pipelines")
    list(pull_window(connector, "deals", since=None, until=UNTIL))
    assert connector.usage().retries == 1
    assert len(waits) >= 1


def test_oauth_second_401_says_the_refreshed_token_was_refused(
    hs: HubSpotSandbox, waits: list[float]
) -> None:
    hs.fail_next(2, status=401, path_contains="/pipelines")
    with pytest.raises(AuthExpiredError, match="freshly refreshed token") as raised:
        list(pull_window(oauth_connector(hs, waits), "deals", since=None, until=UNTIL))
    assert hs.client_secret not in str(raised.value)
    assert hs.refresh_token not in str(raised.value)
    assert hs.requests.count(path_contains="/oauth/v1/token") == 2


def test_private_app_token_is_never_in_messages(hs: HubSpotSandbox, connector: HubSpotConnector) -> None:
    revoked = hs.access_token
    hs.expire_tokens(private_app=True)
    with pytest.raises(AuthExpiredError, match="private app token") as raised:
        list(pull_window(connector, "deals", since=None, until=UNTIL))
    assert revoked not in str(raised.value)


def test_search_calls_stay_under_the_configured_rate(
    hs: HubSpotSandbox, connector: HubSpotConnector, clock: FakeClock
) -> None:
    hs.clock.advance(timedelta(minutes=1))
    hs.bulk_touch("deals", 1000, step=timedelta(milliseconds=1))
    start = clock()

    list(pull_window(connector, "deals", since=Cursor(modified_at=NOW), until=UNTIL))

    in_window = sum(1 for r in hs.records("deals") if instant(r.properties["hs_lastmodifieddate"]) >= NOW)
    searches = hs.requests.count(kind="search")
    assert in_window >= 1000
    assert searches == -(-in_window // 200)  # 200 a page
    # 4 searches in any second by default (a rolling window, as HubSpot counts): each 4 after the
    # first 4 wait a whole second.
    assert clock() - start >= (searches - 1) // 4 * 1.0


def test_batch_update_splits_at_100_inputs(hs: HubSpotSandbox, connector: HubSpotConnector) -> None:
    deals = [r.id for r in hs.records("deals")][:250]
    results = connector.write([WriteItem("deals", deal, {"amount": n}) for n, deal in enumerate(deals)])

    assert all(r.ok for r in results)
    assert [hs.get("deals", deal).properties["amount"] for deal in deals] == [str(n) for n in range(250)]
    assert [len(r.body["inputs"]) for r in hs.requests if r.kind == "batch_update"] == [100, 100, 50]


def test_a_batch_refused_as_a_whole_fails_each_item(hs: HubSpotSandbox, connector: HubSpotConnector) -> None:
    hs.fail_next(
        1,
        status=400,
        message="Property okr_x does not exist",
        category="VALIDATION_ERROR",
        path_contains="/batch",
    )
    deals = [r.id for r in hs.records("deals")][:2]
    results = connector.write([WriteItem("deals", deal, {"okr_x": 1}) for deal in deals])
    assert [(r.ok, r.error_code) for r in results] == [(False, "VALIDATION_ERROR")] * 2


def test_open_connector_builds_a_hubspot_connector_without_network(hs: HubSpotSandbox) -> None:
    from connectors import open_connector

    hub = open_connector("hub", make_source(hs))
    assert isinstance(hub, HubSpotConnector)
    assert len(hs.requests) == 0


def test_batch_upsert_by_a_unique_property_maps_record_ids_back_to_the_items() -> None:
    with HubSpotSandbox(now=NOW, key_results_schema=True) as hs:
        hub = HubSpotConnector("hub", make_source(hs), sleep=lambda _: None)
        items = [
            WriteItem(
                "p_key_results", None, {"okr_name": f"n{i}"}, upsert_key="okr_key", upsert_value=f"k{i}"
            )
            for i in range(100)
        ]
        hs.reject_upserts({"k3": "bad", "k50": "bad", "k99": "bad"}, times=None)

        results = hub.write(items)

        stored = {str(r.properties["okr_key"]): r.id for r in hs.records("p_key_results")}
        assert [i for i, r in enumerate(results) if not r.ok] == [3, 50, 99]
        assert {f"k{i}": r.record_id for i, r in enumerate(results) if r.ok} == stored
        assert len(stored) == 97
        [upsert] = [r for r in hs.requests if r.kind == "batch_upsert"]
        assert upsert.body["inputs"][0] == {
            "id": "k0",
            "idProperty": "okr_key",
            "properties": {"okr_name": "n0"},
        }


def unreachable_source(base_url: str) -> HubSpotSource:
    data = {
        "kind": "hubspot",
        "base_url": base_url,
        "auth": {"method": "private_app", "access_token": "pat-never-shown"},
        "streams": {"deals": {}},
    }
    return HubSpotSource.model_validate(data)


def test_a_port_nobody_listens_on_fails_at_once(waits: list[float]) -> None:
    port = closed_port()
    hub = HubSpotConnector("hub", unreachable_source(f"http://127.0.0.1:{port}"), sleep=waits.append)

    with pytest.raises(SourceUnreachableError) as raised:
        hub.identity()

    assert waits == []  # not retried: the port will be as closed in a minute
    assert str(raised.value) == (
        f"hub: read account details failed: cannot reach 127.0.0.1:{port}: connection refused "
        "(check base_url and that the service is up)"
    )


def test_an_untrusted_certificate_on_a_batch_write_is_one_error_not_rejected_inputs(
    waits: list[float],
) -> None:
    # hubspot-api-client turns the SSL error into an ApiException of status 0 and then fails on
    # its missing body (an AttributeError): the real chain okrsync must still read.
    items = [WriteItem("p_key_results", None, {"okr_value": i}, "okr_key", f"k{i}") for i in range(3)]
    with untrusted_tls_server() as port:
        hub = HubSpotConnector("hub", unreachable_source(f"https://127.0.0.1:{port}"), sleep=waits.append)
        with pytest.raises(SourceUnreachableError) as raised:
            hub.write(items)

    assert waits == []
    text = str(raised.value)
    assert text.startswith(
        f"hub: batch upsert p_key_results failed: cannot reach 127.0.0.1:{port}: TLS certificate not trusted: "
    )
    assert "SSL_CERT_FILE" in text
    assert "pat-never-shown" not in text
