"""The token endpoint and sessions: client credentials, password and JWT grants, expiry."""

from __future__ import annotations

import base64
import time
from datetime import timedelta

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from simple_salesforce import Salesforce, SalesforceExpiredSession

from sandbox.salesforce import SalesforceSandbox
from tests.sandbox.clients import connect, fetch_token, open_session


def _token_call(sf: SalesforceSandbox, form: dict[str, str], **kwargs: object) -> requests.Response:
    return open_session(sf).post(sf.token_url, data=form, **kwargs)  # type: ignore[arg-type]


def test_client_credentials_in_the_form_give_a_salesforce_token(sf: SalesforceSandbox) -> None:
    form = {"grant_type": "client_credentials", "client_id": sf.client_id, "client_secret": sf.client_secret}
    response = _token_call(sf, form)
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"access_token", "instance_url", "id", "token_type", "issued_at", "signature"}
    assert body["instance_url"] == sf.instance_url
    assert body["instance_url"].startswith("https://127.0.0.1:")
    assert body["token_type"] == "Bearer"
    assert body["access_token"].startswith("00D")
    assert body["id"].endswith(f"/{sf.org.running_user_id}")


def test_client_credentials_in_http_basic_as_simple_salesforce_sends_them(sf: SalesforceSandbox) -> None:
    basic = base64.b64encode(f"{sf.client_id}:{sf.client_secret}".encode()).decode()
    response = _token_call(
        sf, {"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
    )
    assert response.status_code == 200


def test_wrong_client_secret_is_an_invalid_client(sf: SalesforceSandbox) -> None:
    form = {"grant_type": "client_credentials", "client_id": sf.client_id, "client_secret": "nope"}
    response = _token_call(sf, form)
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_client", "error_description": "invalid client credentials"}


def test_password_grant_needs_password_and_security_token(sf: SalesforceSandbox) -> None:
    form = {
        "grant_type": "password", "client_id": sf.client_id, "client_secret": sf.client_secret,
        "username": sf.username, "password": sf.password + sf.security_token,
    }  # fmt: skip
    assert _token_call(sf, form).status_code == 200
    refused = _token_call(sf, {**form, "password": sf.password})
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_grant")


def _assertion(sf: SalesforceSandbox, **claims: object) -> str:
    payload = {"iss": sf.client_id, "sub": sf.username, "aud": "https://login.salesforce.com"}
    payload["exp"] = int(time.time()) + 180
    payload.update(claims)
    return jwt.encode(payload, sf.jwt_private_key_pem, algorithm="RS256")


@pytest.mark.parametrize(
    ("claims", "error"),
    [
        ({}, None),
        ({"aud": "https://test.salesforce.com"}, None),
        ({"exp": int(time.time()) - 10}, "invalid_grant"),
        ({"aud": "https://evil.example.com"}, "invalid_grant"),
        ({"iss": "someone-else"}, "invalid_client_id"),
        ({"sub": "nobody@example.com"}, "invalid_grant"),
    ],
)
def test_jwt_bearer_checks_signature_and_claims(
    sf: SalesforceSandbox, claims: dict[str, object], error: str | None
) -> None:
    form = {
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "assertion": _assertion(sf, **claims),
    }
    response = _token_call(sf, form)
    if error is None:
        assert response.status_code == 200
        assert response.json()["scope"] == "api"
    else:
        assert (response.status_code, response.json()["error"]) == (400, error)


def test_jwt_signed_by_an_unknown_key_is_refused(sf: SalesforceSandbox) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    sf.jwt_private_key_pem  # noqa: B018 - registers the sandbox's own key, not this one
    claims = {
        "iss": sf.client_id,
        "sub": sf.username,
        "aud": "https://login.salesforce.com",
        "exp": int(time.time()) + 60,
    }
    form = {
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "assertion": jwt.encode(claims, pem, "RS256"),
    }
    assert _token_call(sf, form).json() == {
        "error": "invalid_grant",
        "error_description": "invalid assertion",
    }


def test_unknown_grant_type_is_unsupported(sf: SalesforceSandbox) -> None:
    response = _token_call(sf, {"grant_type": "authorization_code"})
    assert (response.status_code, response.json()["error"]) == (400, "unsupported_grant_type")


def test_token_calls_do_not_count_against_the_api_allocation(sf: SalesforceSandbox) -> None:
    used_before = sf.api_usage[0]
    fetch_token(sf)
    assert sf.api_usage[0] == used_before


def test_missing_or_unknown_token_is_an_invalid_session(sf: SalesforceSandbox) -> None:
    for headers in ({}, {"Authorization": "Bearer 00Dnot-a-token"}):
        response = open_session(sf).get(f"{sf.instance_url}/services/data/v59.0/limits/", headers=headers)
        assert response.status_code == 401
        assert response.json() == [
            {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
        ]


def test_expired_tokens_raise_simple_salesforce_expired_session(sf: SalesforceSandbox) -> None:
    client = connect(sf)
    client.query("SELECT Id FROM User LIMIT 1")
    sf.expire_tokens()
    with pytest.raises(SalesforceExpiredSession) as caught:
        client.query("SELECT Id FROM User LIMIT 1")
    assert caught.value.content[0]["errorCode"] == "INVALID_SESSION_ID"
    assert connect(sf).query("SELECT Id FROM User LIMIT 1")["totalSize"] == 1  # a new token works


def test_sessions_time_out_after_the_ttl_without_use(fresh_sf: SalesforceSandbox) -> None:
    client = connect(fresh_sf)
    fresh_sf.clock.advance(timedelta(hours=1, minutes=59))
    client.query("SELECT Id FROM User LIMIT 1")  # in use: the timeout starts again
    fresh_sf.clock.advance(timedelta(hours=2, seconds=1))
    with pytest.raises(SalesforceExpiredSession):
        client.query("SELECT Id FROM User LIMIT 1")


def test_plain_http_and_untrusted_tls_are_refused(sf: SalesforceSandbox) -> None:
    session = requests.Session()
    session.trust_env = False
    with pytest.raises(requests.exceptions.SSLError):
        session.get(f"{sf.instance_url}/services/data/")  # the system CAs do not know the sandbox CA
    with pytest.raises(requests.exceptions.ConnectionError):
        session.get(sf.instance_url.replace("https://", "http://") + "/services/data/", timeout=5)


def test_simple_salesforce_keeps_the_port_of_the_instance_url(sf: SalesforceSandbox) -> None:
    client = Salesforce(instance_url=sf.instance_url, session_id=fetch_token(sf), session=open_session(sf))
    assert client.base_url.startswith(f"{sf.instance_url}/services/data/v")
