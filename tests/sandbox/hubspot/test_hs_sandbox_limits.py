"""Auth and rate limits of the HubSpot sandbox: 401 bodies, OAuth refresh, 429 bodies and headers."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from hubspot import HubSpot
from hubspot.crm.objects import ApiException
from hubspot.crm.objects.exceptions import ServiceException, UnauthorizedException
from hubspot.oauth import ApiException as OAuthApiException

from sandbox.hubspot import HubSpotSandbox
from tests.sandbox.hubspot.conftest import Call


def test_missing_token_is_401_with_hubspots_body(hs: HubSpotSandbox) -> None:
    client = HubSpot(access_token="not-a-token", host=hs.base_url)
    with pytest.raises(UnauthorizedException) as raised:
        client.crm.objects.basic_api.get_page("deals")
    body = json.loads(raised.value.body)
    assert raised.value.status == 401
    assert body["category"] == "INVALID_AUTHENTICATION"
    assert body["message"].startswith("Authentication credentials not found")
    assert body["status"] == "error"
    assert body["correlationId"]


def test_oauth_refresh_gives_a_working_token_until_it_expires(small_hs: HubSpotSandbox) -> None:
    grant = HubSpot(host=small_hs.base_url).oauth.tokens_api.create(
        grant_type="refresh_token", client_id=small_hs.client_id, client_secret=small_hs.client_secret,
        refresh_token=small_hs.refresh_token,
    )  # fmt: skip
    assert grant.expires_in == 1800
    assert grant.refresh_token == small_hs.refresh_token
    client = HubSpot(access_token=grant.access_token, host=small_hs.base_url)
    assert client.crm.objects.basic_api.get_page("deals").results
    small_hs.clock.advance(timedelta(seconds=1800))
    with pytest.raises(UnauthorizedException):
        client.crm.objects.basic_api.get_page("deals")


def test_refresh_with_a_wrong_refresh_token_is_refused(small_hs: HubSpotSandbox) -> None:
    with pytest.raises(OAuthApiException) as raised:
        HubSpot(host=small_hs.base_url).oauth.tokens_api.create(
            grant_type="refresh_token", client_id=small_hs.client_id, client_secret=small_hs.client_secret,
            refresh_token="stale",
        )  # fmt: skip
    assert raised.value.status == 400
    assert json.loads(raised.value.body)["status"] == "BAD_REFRESH_TOKEN"


def test_expire_tokens_expires_oauth_tokens(small_hs: HubSpotSandbox) -> None:
    client = HubSpot(access_token=small_hs.issue_token(), host=small_hs.base_url)
    small_hs.expire_tokens()
    with pytest.raises(UnauthorizedException):
        client.crm.objects.basic_api.get_page("deals")
    assert HubSpot(access_token=small_hs.access_token, host=small_hs.base_url).crm.deals.basic_api.get_page()


def test_ten_secondly_bucket_gives_429_with_body_and_headers(
    small_hs: HubSpotSandbox, small_client: HubSpot
) -> None:
    small_hs.set_rate_limits(ten_secondly=3)
    ok = small_client.crm.objects.basic_api.get_page_with_http_info("deals")
    assert ok[2]["X-HubSpot-RateLimit-Max"] == "3"
    assert ok[2]["X-HubSpot-RateLimit-Remaining"] == "2"
    assert ok[2]["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    assert "X-HubSpot-RateLimit-Daily-Remaining" in ok[2]
    small_client.crm.objects.basic_api.get_page("deals")
    small_client.crm.objects.basic_api.get_page("deals")
    with pytest.raises(ApiException) as raised:
        small_client.crm.objects.basic_api.get_page("deals")
    body = json.loads(raised.value.body)
    assert raised.value.status == 429
    assert body["policyName"] == "TEN_SECONDLY_ROLLING"
    assert body["errorType"] == "RATE_LIMIT"
    assert body["message"] == "You have reached your ten_secondly_rolling limit."
    assert raised.value.headers["X-HubSpot-RateLimit-Remaining"] == "0"


def test_search_has_its_own_per_second_limit(small_hs: HubSpotSandbox, small_client: HubSpot) -> None:
    small_hs.set_rate_limits(ten_secondly=1, search_per_second=2)
    for _ in range(2):
        small_client.crm.objects.search_api.do_search("deals", {"limit": 1})
    with pytest.raises(ApiException) as raised:
        small_client.crm.objects.search_api.do_search("deals", {"limit": 1})
    assert json.loads(raised.value.body)["policyName"] == "SECONDLY"
    assert small_client.crm.objects.basic_api.get_page("deals").results  # the 10-second bucket is untouched


def test_daily_limit_gives_daily_429(small_hs: HubSpotSandbox, small_client: HubSpot) -> None:
    small_hs.set_rate_limits(daily=10, daily_used=10)
    with pytest.raises(ApiException) as raised:
        small_client.crm.objects.basic_api.get_page("deals")
    assert json.loads(raised.value.body)["policyName"] == "DAILY"


@pytest.mark.parametrize(
    ("status", "raised_type"), [(429, ApiException), (500, ServiceException), (502, ServiceException)]
)
def test_fail_next_injects_failures(
    small_hs: HubSpotSandbox, small_client: HubSpot, status: int, raised_type: type[Exception]
) -> None:
    small_hs.fail_next(1, status=status)
    with pytest.raises(raised_type) as raised:
        small_client.crm.objects.basic_api.get_page("deals")
    assert getattr(raised.value, "status", None) == status
    assert small_client.crm.objects.basic_api.get_page("deals").results
    assert small_hs.requests.count(status=status) == 1


def test_fail_next_can_send_retry_after_and_target_a_path(hs: HubSpotSandbox, call: Call) -> None:
    # Plain HTTP: urllib3 in hubspot-api-client would honour Retry-After on a GET and retry by itself.
    hs.fail_next(1, status=429, policy="SECONDLY", path_contains="/search", retry_after=1)
    assert call("GET", "/crm/v3/objects/deals").status_code == 200
    response = call("POST", "/crm/v3/objects/deals/search", json={})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"
    assert response.json()["policyName"] == "SECONDLY"
