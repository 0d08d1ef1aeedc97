"""Auth, re-authentication, retries, error translation, usage and TLS settings of every call."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs

import jwt
import pytest
import requests
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from urllib3.exceptions import ProtocolError

from connectors.salesforce import SalesforceConnector
from connectors.salesforce.client import BundleSession
from connectors.salesforce.errors import classify
from syncer.errors import (
    AuthExpiredError,
    AuthFailedError,
    QuotaExhaustedError,
    RejectedRequestError,
    SourceUnreachableError,
    TransientCrmError,
    TransientTransportError,
)
from tests.connectors.salesforce.builders import (
    API,
    HOST,
    TOKEN_URL,
    query_page,
    sf_error,
    sf_opportunity,
    token_body,
    url_of,
)
from tests.connectors.salesforce.conftest import SECRET, make_source
from tests.connectors.transport_servers import closed_port, untrusted_tls_server

UNTIL = datetime(2026, 10, 5, 12, tzinfo=UTC)
QUERY = f"{API}/queryAll/"


def pull_deals(connector: SalesforceConnector) -> list[str]:
    return [r.id for page in connector.pull("deals", since=None, until=UNTIL) for r in page.records]


def calls_to(rsps: responses.RequestsMock, url: str) -> int:
    return sum(url_of(c) == url for c in rsps.calls)


def test_client_credentials_token_is_requested_from_the_org_and_used(
    org: responses.RequestsMock, sf_connector: SalesforceConnector
) -> None:
    org.get(QUERY, json=query_page([sf_opportunity()]))

    assert pull_deals(sf_connector) == ["006A"]

    form = parse_qs(str(org.calls[0].request.body))
    assert form == {"grant_type": ["client_credentials"], "client_id": ["cid"], "client_secret": [SECRET]}
    assert org.calls[-1].request.headers["Authorization"] == "Bearer 00Dtoken!A"


def test_second_expired_session_in_a_row_raises(
    org: responses.RequestsMock, sf_connector: SalesforceConnector
) -> None:
    org.get(QUERY, status=401, json=sf_error("INVALID_SESSION_ID", "Session expired or invalid"))

    with pytest.raises(AuthExpiredError, match="refused a freshly issued token") as raised:
        pull_deals(sf_connector)

    assert (calls_to(org, TOKEN_URL), calls_to(org, QUERY)) == (2, 2)
    assert "00Dtoken" not in str(raised.value)


@pytest.mark.parametrize("error", ["invalid_client", "invalid_grant"])
def test_refused_credentials_fail_clearly_without_the_secret(
    rsps: responses.RequestsMock, sf_connector: SalesforceConnector, waits: list[float], error: str
) -> None:
    rsps.post(TOKEN_URL, status=400, json={"error": error, "error_description": "authentication failure"})

    with pytest.raises(AuthFailedError) as raised:
        pull_deals(sf_connector)

    assert f"token request refused ({error}: authentication failure)" in str(raised.value)
    assert SECRET not in str(raised.value)
    assert (len(rsps.calls), waits) == (1, [])


def test_token_endpoint_outage_is_retried(
    org: responses.RequestsMock, sf_connector: SalesforceConnector, waits: list[float]
) -> None:
    org.replace(responses.POST, TOKEN_URL, status=503, body="down")
    org.post(TOKEN_URL, json=token_body())
    org.get(QUERY, json=query_page([]))

    pull_deals(sf_connector)

    assert (calls_to(org, TOKEN_URL), len(waits)) == (2, 1)


def test_request_limit_exceeded_is_not_retried(
    org: responses.RequestsMock, sf_connector: SalesforceConnector, waits: list[float]
) -> None:
    org.get(QUERY, status=403, json=sf_error("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."))

    with pytest.raises(QuotaExhaustedError, match="TotalRequests Limit exceeded") as raised:
        pull_deals(sf_connector)

    assert (calls_to(org, QUERY), waits) == (1, [])
    assert (raised.value.status, raised.value.code) == (403, "REQUEST_LIMIT_EXCEEDED")


def test_malformed_query_is_rejected_with_the_salesforce_message(
    org: responses.RequestsMock, sf_connector: SalesforceConnector, waits: list[float]
) -> None:
    org.get(QUERY, status=400, json=sf_error("MALFORMED_QUERY", "unexpected token: 'FROMM'"))

    with pytest.raises(RejectedRequestError) as raised:
        pull_deals(sf_connector)

    assert str(raised.value) == "sfdc: query failed: unexpected token: 'FROMM' (HTTP 400, MALFORMED_QUERY)"
    assert waits == []


def test_a_reset_connection_is_retried_until_the_policy_gives_up(
    org: responses.RequestsMock, sf_connector: SalesforceConnector, waits: list[float]
) -> None:
    reset = ProtocolError("Connection aborted.", ConnectionResetError(104, "Connection reset by peer"))
    org.get(QUERY, body=requests.ConnectionError(reset))  # what requests raises on a reset

    with pytest.raises(TransientTransportError) as raised:
        pull_deals(sf_connector)

    assert (calls_to(org, QUERY), len(waits)) == (6, 5)
    assert str(raised.value).startswith("sfdc: query failed: cannot reach sf.test:443: connection reset (")


def test_a_port_nobody_listens_on_fails_the_token_request_at_once(waits: list[float]) -> None:
    port = closed_port()
    auth = {
        "method": "password",
        "username": "u",
        "password": SECRET,
        "login_url": f"https://127.0.0.1:{port}",
    }
    connector = SalesforceConnector("sfdc", make_source(auth=auth), sleep=waits.append)

    with pytest.raises(SourceUnreachableError) as raised:
        pull_deals(connector)

    assert waits == []  # not retried: the port will be as closed in a minute
    assert str(raised.value) == (
        f"sfdc: token request failed: cannot reach 127.0.0.1:{port}: connection refused "
        "(check auth.login_url and that the service is up)"
    )
    assert (raised.value.address, raised.value.cause) == (f"127.0.0.1:{port}", "connection refused")


def test_an_untrusted_certificate_fails_at_once_and_names_ca_bundle(waits: list[float]) -> None:
    with untrusted_tls_server() as port:
        connector = SalesforceConnector(
            "sfdc", make_source(instance_url=f"https://127.0.0.1:{port}"), sleep=waits.append
        )
        with pytest.raises(SourceUnreachableError) as raised:
            pull_deals(connector)

    assert waits == []
    text = str(raised.value)
    assert text.startswith(
        f"sfdc: token request failed: cannot reach 127.0.0.1:{port}: TLS certificate not trusted: "
    )
    assert text.endswith("(set ca_bundle to the PEM of the CA that signs the server's certificate)")
    assert "oauth2" not in text
    assert SECRET not in text


def test_usage_counts_calls_and_reads_the_org_allocation(
    org: responses.RequestsMock, sf_connector: SalesforceConnector
) -> None:
    org.get(QUERY, json=query_page([]), headers={"Sforce-Limit-Info": "api-usage=18/15000"})

    pull_deals(sf_connector)

    usage = sf_connector.usage()
    assert (usage.calls, usage.retries, usage.org_used, usage.org_max) == (3, 0, 18, 15000)


def test_jwt_bearer_posts_a_signed_assertion_to_the_login_url(
    rsps: responses.RequestsMock, waits: list[float], tmp_path: Path
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "key.pem").write_bytes(pem)
    auth = {
        "method": "jwt",
        "client_id": "consumer",
        "username": "int@example.com",
        "private_key_file": str(tmp_path / "key.pem"),
        "login_url": "https://login.test",
    }
    rsps.post("https://login.test/services/oauth2/token", json=token_body())
    rsps.get(QUERY, json=query_page([]))
    rsps.get(
        f"{API}/sobjects/Opportunity/describe/",
        json={
            "name": "Opportunity",
            "fields": [
                {"name": "Id"},
                {"name": "SystemModstamp"},
                {"name": "IsDeleted"},
                {"name": "OwnerId"},
                {"name": "AccountId"},
                {"name": "Amount"},
                {"name": "StageName"},
                {"name": "Type"},
                {"name": "IsClosed"},
                {"name": "IsWon"},
                {"name": "CreatedDate"},
                {"name": "CloseDate"},
            ],
        },
    )

    pull_deals(SalesforceConnector("sfdc", make_source(auth=auth), sleep=waits.append))

    form = parse_qs(str(rsps.calls[0].request.body))
    assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    claims = jwt.decode(
        form["assertion"][0], key.public_key(), algorithms=["RS256"], audience="https://login.test"
    )
    assert (claims["iss"], claims["sub"]) == ("consumer", "int@example.com")
    assert 0 < claims["exp"] - datetime.now(UTC).timestamp() <= 180


def test_unreadable_private_key_is_an_auth_failure(
    rsps: responses.RequestsMock, waits: list[float], tmp_path: Path
) -> None:
    auth = {
        "method": "jwt",
        "client_id": "c",
        "username": "u",
        "private_key_file": str(tmp_path / "missing.pem"),
    }
    connector = SalesforceConnector("sfdc", make_source(auth=auth), sleep=waits.append)

    with pytest.raises(AuthFailedError, match=r"sfdc: cannot read auth\.private_key_file"):
        pull_deals(connector)


def test_password_grant_appends_the_security_token(rsps: responses.RequestsMock, waits: list[float]) -> None:
    auth = {
        "method": "password",
        "username": "u@example.com",
        "password": "pw",
        "security_token": "TOK",
        "client_id": "c",
        "client_secret": "s",
        "login_url": "https://login.test",
    }
    rsps.post("https://login.test/services/oauth2/token", status=400, json={"error": "invalid_grant"})

    with pytest.raises(AuthFailedError):
        pull_deals(SalesforceConnector("sfdc", make_source(auth=auth), sleep=waits.append))

    form = parse_qs(str(rsps.calls[0].request.body))
    assert form == {
        "grant_type": ["password"],
        "username": ["u@example.com"],
        "password": ["pwTOK"],
        "client_id": ["c"],
        "client_secret": ["s"],
    }


def test_configured_ca_bundle_beats_requests_ca_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/bogus.pem")

    pinned = BundleSession("/etc/okrsync/ca.pem").merge_environment_settings(HOST, {}, None, None, None)
    default = BundleSession(None).merge_environment_settings(HOST, {}, None, None, None)

    assert pinned["verify"] == "/etc/okrsync/ca.pem"
    assert default["verify"] == "/nonexistent/bogus.pem"  # no bundle configured: the environment decides


@pytest.mark.parametrize(
    ("status", "code", "headers", "error", "retry_after"),
    [
        (401, "INVALID_SESSION_ID", {}, AuthExpiredError, None),
        (403, "REQUEST_LIMIT_EXCEEDED", {}, QuotaExhaustedError, None),
        (403, "INSUFFICIENT_ACCESS", {}, RejectedRequestError, None),
        (400, "MALFORMED_QUERY", {}, RejectedRequestError, None),
        (400, "INVALID_FIELD", {}, RejectedRequestError, None),
        (400, "INVALID_TYPE", {}, RejectedRequestError, None),
        (404, "NOT_FOUND", {}, RejectedRequestError, None),
        (300, None, {}, RejectedRequestError, None),
        (408, None, {}, TransientCrmError, None),
        (429, None, {"retry-after": "3"}, TransientCrmError, 3.0),
        (500, "UNKNOWN_EXCEPTION", {}, TransientCrmError, None),
        (
            503,
            "SERVER_UNAVAILABLE",
            {"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"},
            TransientCrmError,
            None,
        ),
    ],
)
def test_classify_maps_status_and_code_to_what_happens_next(
    status: int, code: str | None, headers: dict[str, str], error: type[Exception], retry_after: float | None
) -> None:
    result = classify("sfdc", status, code=code, text="query failed: m", headers=headers)

    assert type(result) is error
    assert getattr(result, "retry_after", None) == retry_after
    assert str(result).startswith("sfdc: query failed: m")
