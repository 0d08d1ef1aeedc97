"""Auth, error translation, retries and rate limits against the fake portal; write-back batches."""

from __future__ import annotations

import pytest

from connectors.hubspot import HubSpotConnector
from syncer.contract import WriteItem
from syncer.errors import AuthExpiredError, QuotaExhaustedError, RejectedRequestError
from tests.connectors.hubspot.conftest import PIPELINES, UNTIL, FakeClock, hs_deal, make_source
from tests.connectors.hubspot.portal import Fault, Portal, serve

RATE = {
    "status": "error",
    "errorType": "RATE_LIMIT",
    "policyName": "TEN_SECONDLY_ROLLING",
    "message": "limit",
}


def oauth_connector(portal: Portal, waits: list[float]) -> HubSpotConnector:
    auth = {"method": "oauth", "client_id": "cid", "client_secret": "secret", "refresh_token": "refresh"}
    return HubSpotConnector("hub", make_source(portal.url, auth=auth), sleep=waits.append, clock=FakeClock())


def test_429_waits_as_told_then_succeeds_and_counts_the_retry(
    portal: Portal, connector: HubSpotConnector, waits: list[float]
) -> None:
    portal.objects["deals"] = [hs_deal(1, UNTIL)]
    portal.faults = [
        Fault(429, RATE, {"Retry-After": "3"}, "/objects/deals"),
        Fault(429, RATE, {}, "/objects/deals"),
    ]
    records = [r for p in connector.pull("deals", since=None, until=UNTIL) for r in p.records]
    assert [r.id for r in records] == ["1"]
    assert 3.0 in waits
    assert 10.0 in waits
    assert connector.usage().retries == 2


def test_daily_limit_stops_the_source(portal: Portal, connector: HubSpotConnector) -> None:
    portal.faults = [Fault(429, RATE | {"policyName": "DAILY"}, {}, "/pipelines")]
    with pytest.raises(QuotaExhaustedError, match="daily"):
        list(connector.pull("deals", since=None, until=UNTIL))


def test_4xx_is_rejected_without_retry(portal: Portal, connector: HubSpotConnector) -> None:
    portal.faults = [
        Fault(400, {"message": "Property x does not exist", "category": "VALIDATION_ERROR"}, {}, "/pipelines")
    ]
    with pytest.raises(RejectedRequestError, match="VALIDATION_ERROR"):
        list(connector.pull("deals", since=None, until=UNTIL))
    assert len(portal.requests) == 1


def test_5xx_is_retried(portal: Portal, connector: HubSpotConnector, waits: list[float]) -> None:
    portal.faults = [Fault(502, {}, {}, "/pipelines")]
    list(connector.pull("deals", since=None, until=UNTIL))
    assert connector.usage().retries == 1
    assert len(waits) >= 1


def test_oauth_token_is_refreshed_once_on_401_and_the_call_replayed(
    portal: Portal, waits: list[float]
) -> None:
    portal.tokens = ["tok-1", "tok-2"]
    portal.valid_tokens = {"tok-2"}  # the first token has expired by the first call
    hub = oauth_connector(portal, waits)
    pages = list(hub.pull("deals", since=None, until=UNTIL))
    assert pages[-1].cursor is not None
    token_posts = [body for method, path, body in portal.requests if path == "/oauth/v1/token"]
    assert len(token_posts) == 2
    assert token_posts[0]["grant_type"] == ["refresh_token"]


def test_second_401_fails_the_source_with_a_clear_message(portal: Portal, waits: list[float]) -> None:
    portal.tokens = ["tok-x", "tok-y"]
    portal.valid_tokens = set()
    with pytest.raises(AuthExpiredError, match="freshly refreshed token") as raised:
        list(oauth_connector(portal, waits).pull("deals", since=None, until=UNTIL))
    assert "secret" not in str(raised.value)
    assert "refresh" not in str(raised.value).split("refreshed")[0]


def test_private_app_token_is_never_in_messages(portal: Portal, connector: HubSpotConnector) -> None:
    portal.valid_tokens = set()
    with pytest.raises(AuthExpiredError, match="private app token") as raised:
        list(connector.pull("deals", since=None, until=UNTIL))
    assert "private-token" not in str(raised.value)


def test_search_calls_stay_under_the_configured_rate(portal: Portal) -> None:
    clock = FakeClock()
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock.sleep(seconds)

    portal.objects["deals"] = [hs_deal(i, UNTIL.replace(hour=1)) for i in range(1, 1001)]
    hub = HubSpotConnector("hub", make_source(portal.url), sleep=sleep, clock=clock)
    start = clock()
    from syncer.contract import Cursor

    list(hub.pull("deals", since=Cursor(modified_at=UNTIL.replace(hour=0)), until=UNTIL))
    searches = [p for p in portal.paths("POST") if p.endswith("/search")]
    assert len(searches) == 5
    assert clock() - start >= (len(searches) - 1) / 4.0  # 4 searches a second by default


def test_batch_upsert_with_3_of_100_failing_writes_97_and_reports_3(
    portal: Portal, connector: HubSpotConnector
) -> None:
    items = [
        WriteItem(
            "p_key_results",
            None,
            {"okr_value": 1.5, "okr_status": None},
            upsert_key="okr_key",
            upsert_value=f"k{i}",
        )
        for i in range(100)
    ]
    portal.failing = {"k3", "k50", "k99"}
    results = connector.write(items)
    assert [i for i, r in enumerate(results) if not r.ok] == [3, 50, 99]
    assert all(r.ok and r.record_id == f"9k{i}" for i, r in enumerate(results) if i not in (3, 50, 99))
    assert len(portal.written) == 97
    batch = [body for method, path, body in portal.requests if path.endswith("/batch/upsert")]
    assert len(batch) == 1
    assert batch[0]["inputs"][0] == {
        "id": "k0",
        "idProperty": "okr_key",
        "properties": {"okr_value": "1.5", "okr_status": ""},
    }


def test_batch_update_splits_at_100_inputs(portal: Portal, connector: HubSpotConnector) -> None:
    items = [WriteItem("deals", str(i), {"okr_score": i}) for i in range(250)]
    results = connector.write(items)
    assert all(r.ok for r in results)
    assert len(results) == 250
    assert [len(b["inputs"]) for m, p, b in portal.requests if p.endswith("/batch/update")] == [100, 100, 50]


def test_a_batch_refused_as_a_whole_fails_each_item(portal: Portal, connector: HubSpotConnector) -> None:
    portal.faults = [
        Fault(400, {"message": "Property okr_x does not exist", "category": "VALIDATION_ERROR"}, {}, "/batch")
    ]
    results = connector.write([WriteItem("deals", "1", {"okr_x": 1}), WriteItem("deals", "2", {"okr_x": 2})])
    assert [(r.ok, r.error_code) for r in results] == [(False, "VALIDATION_ERROR")] * 2


def test_open_connector_builds_a_hubspot_connector_without_network() -> None:
    from connectors import open_connector

    with serve(Portal(pipelines=PIPELINES)) as portal:
        hub = open_connector("hub", make_source(portal.url))
        assert isinstance(hub, HubSpotConnector)
        assert portal.requests == []
        hub.close()
