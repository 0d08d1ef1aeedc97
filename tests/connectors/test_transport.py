"""connectors/transport.py over real exception chains: each one made by actually connecting, with
requests (as the Salesforce connector does) and with urllib3 alone (as hubspot-api-client does),
to a closed port, an unresolvable name, a TLS server nobody trusts, a silent or resetting server
and a proxy that refuses. Offline is fine: `.invalid` never resolves (RFC 6761)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import requests
import urllib3

from connectors.transport import Endpoint, TransportFailure, classify, connection_failed, unreachable
from syncer.errors import SourceUnreachableError, TransientTransportError
from syncer.retry import crm_calls
from tests.connectors.transport_servers import (
    closed_port,
    resetting_server,
    serving,
    silent_server,
    tls_server,
    untrusted_tls_server,
)

SECRET_PATH = "/services/oauth2/token?client_secret=hunter2"  # what no message may repeat
TRUST_FIX = "set ca_bundle to the CA's PEM"


def endpoint(url: str) -> Endpoint:
    return Endpoint(url, "instance_url", trust_fix=TRUST_FIX)


def failure_of(request: Callable[[], object]) -> BaseException:
    with pytest.raises(Exception) as raised:  # noqa: PT011 - any exception: its chain is the subject
        request()
    return raised.value


def requests_get(url: str, *, timeout: float | tuple[float, float] = 5.0) -> Callable[[], object]:
    """A GET through a session that ignores *_PROXY variables, as a test machine may set them."""

    def get() -> object:
        with requests.Session() as session:
            session.trust_env = False
            return session.get(url, timeout=timeout)

    return get


def urllib3_get(url: str, *, timeout: float = 5.0) -> Callable[[], object]:
    """A GET with urllib3's retries off, as okrsync builds hubspot-api-client (retry=False)."""

    def get() -> object:
        return urllib3.PoolManager(retries=False).request("GET", url, timeout=timeout)

    return get


def classified(exc: BaseException, url: str) -> TransportFailure:
    failure = classify(exc, endpoint(url))
    assert failure is not None, f"no transport failure found in {exc!r}"
    return failure


def assert_no_secrets(text: str) -> None:
    for secret in ("/services", "oauth2", "client_secret", "hunter2", "?"):
        assert secret not in text


# --- Not retried: the same request would fail the same way in a minute ---


@pytest.mark.parametrize("client", [requests_get, urllib3_get])
def test_a_closed_port_is_connection_refused_and_not_retried(
    client: Callable[..., Callable[[], object]],
) -> None:
    port = closed_port()
    url = f"https://127.0.0.1:{port}{SECRET_PATH}"

    failure = classified(failure_of(client(url)), url)

    assert (failure.address, failure.cause, failure.retryable) == (
        f"127.0.0.1:{port}",
        "connection refused",
        False,
    )
    assert str(failure) == (
        f"cannot reach 127.0.0.1:{port}: connection refused (check instance_url and that the service is up)"
    )
    assert_no_secrets(str(failure))


@pytest.mark.parametrize("client", [requests_get, urllib3_get])
def test_a_name_that_does_not_resolve_is_a_dns_failure(client: Callable[..., Callable[[], object]]) -> None:
    url = f"https://nonexistent.invalid{SECRET_PATH}"

    failure = classified(failure_of(client(url)), url)

    assert (failure.address, failure.cause, failure.retryable) == (
        "nonexistent.invalid:443",
        "DNS lookup failed",
        False,
    )
    assert failure.fix == "check instance_url / the network"
    assert_no_secrets(str(failure))


@pytest.mark.parametrize("client", [requests_get, urllib3_get])
def test_an_untrusted_certificate_names_the_reason_and_the_trust_fix(
    client: Callable[..., Callable[[], object]],
) -> None:
    with untrusted_tls_server() as port:
        url = f"https://127.0.0.1:{port}{SECRET_PATH}"
        failure = classified(failure_of(client(url)), url)

    assert failure.address == f"127.0.0.1:{port}"
    assert failure.cause.startswith("TLS certificate not trusted: self")  # "self-signed certificate"
    assert (failure.fix, failure.retryable) == (TRUST_FIX, False)
    assert_no_secrets(str(failure))


def test_an_expired_certificate_says_so() -> None:
    with tls_server(expired=True) as (port, certificate):
        url = f"https://127.0.0.1:{port}{SECRET_PATH}"

        def get() -> object:  # the certificate is trusted: only its dates are wrong
            with requests.Session() as session:
                session.trust_env = False
                return session.get(url, timeout=5, verify=str(certificate))

        failure = classified(failure_of(get), url)

    assert failure.address == f"127.0.0.1:{port}"
    assert failure.cause == "TLS certificate not valid today: certificate has expired"
    assert not failure.retryable
    assert "renew" in failure.fix  # not the trust fix: no CA bundle makes an expired certificate valid
    assert_no_secrets(str(failure))


@contextmanager
def refusing_proxy() -> Iterator[int]:
    """An HTTP proxy that answers every CONNECT with 407; yields its port."""

    def refuse(connection: socket.socket) -> None:
        with connection:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")

    with serving(refuse) as port:
        yield port


def proxied_get(url: str, proxy: str) -> Callable[[], object]:
    def get() -> object:
        with requests.Session() as session:
            session.trust_env = False
            return session.get(url, proxies={"https": proxy}, timeout=5)

    return get


def test_a_proxy_nobody_listens_on_is_named_without_its_credentials() -> None:
    url = f"https://127.0.0.1:{closed_port()}{SECRET_PATH}"
    proxy = f"http://proxy-user:proxy-pass@127.0.0.1:{closed_port()}"

    failure = classified(failure_of(proxied_get(url, proxy)), url)

    assert (failure.cause, failure.retryable) == ("the proxy refused the connection", False)
    assert failure.fix == "check HTTPS_PROXY / HTTP_PROXY / NO_PROXY"
    assert "proxy-user" not in str(failure)
    assert "proxy-pass" not in str(failure)
    assert_no_secrets(str(failure))


def test_a_proxy_refusing_the_tunnel_gives_its_status_line() -> None:
    url = f"https://127.0.0.1:{closed_port()}{SECRET_PATH}"
    with refusing_proxy() as proxy_port:
        exc = failure_of(proxied_get(url, f"http://proxy-user:proxy-pass@127.0.0.1:{proxy_port}"))

    failure = classified(exc, url)

    assert failure.cause == "the proxy refused the tunnel: 407 Proxy Authentication Required"
    assert not failure.retryable
    assert "proxy-pass" not in str(failure)


# --- Retried: the next attempt may get through ---


@pytest.mark.parametrize("client", [requests_get, urllib3_get])
def test_a_server_that_never_answers_is_a_read_timeout_worth_retrying(
    client: Callable[..., Callable[[], object]],
) -> None:
    with silent_server() as port:
        url = f"http://127.0.0.1:{port}{SECRET_PATH}"
        failure = classified(failure_of(client(url, timeout=0.2)), url)

    assert (failure.address, failure.cause, failure.retryable) == (
        f"127.0.0.1:{port}",
        "no answer in time (read timeout)",
        True,
    )
    assert_no_secrets(str(failure))


@pytest.mark.parametrize("client", [requests_get, urllib3_get])
def test_a_reset_connection_is_worth_retrying(client: Callable[..., Callable[[], object]]) -> None:
    with resetting_server() as port:
        url = f"http://127.0.0.1:{port}{SECRET_PATH}"
        failure = classified(failure_of(client(url)), url)

    assert (failure.cause, failure.retryable) == ("connection reset", True)


def garbled_body() -> None:
    try:
        raise ValueError("Expecting value: line 1 column 1")
    except ValueError as inner:
        raise requests.exceptions.InvalidJSONError(inner) from inner


def test_an_error_with_no_transport_failure_in_its_chain_is_none() -> None:
    assert classify(failure_of(garbled_body), endpoint("https://org.example")) is None


def test_a_connection_error_of_unknown_cause_is_retried_and_named_by_its_type() -> None:
    failure = connection_failed(requests.ConnectionError("odd"), endpoint("https://org.example:8443/x?y"))

    assert str(failure) == (
        "cannot reach org.example:8443: connection failed (ConnectionError) (check instance_url / the network)"
    )
    assert failure.retryable


# --- What the connectors raise, and how crm_calls treats it ---


def attempts_until_given_up(failure: TransportFailure) -> tuple[int, BaseException]:
    """How many times crm_calls sends a request failing with `failure`, and what it raises then."""
    attempts = 0

    def send() -> None:
        nonlocal attempts
        for attempt in crm_calls(sleep=lambda _seconds: None):
            with attempt:
                attempts += 1
                raise unreachable(failure, source="sfdc", operation="query")

    raised = failure_of(send)
    return attempts, raised


def test_refused_is_raised_at_once_and_a_reset_after_the_retry_policy() -> None:
    port = closed_port()
    refused = classified(failure_of(requests_get(f"https://127.0.0.1:{port}/")), "https://127.0.0.1")
    with resetting_server() as reset_port:
        reset = classified(failure_of(requests_get(f"http://127.0.0.1:{reset_port}/")), "http://127.0.0.1")

    refused_attempts, refused_error = attempts_until_given_up(refused)
    reset_attempts, reset_error = attempts_until_given_up(reset)

    assert (refused_attempts, type(refused_error)) == (1, SourceUnreachableError)
    assert (reset_attempts, type(reset_error)) == (6, TransientTransportError)
    assert str(refused_error) == (
        f"sfdc: query failed: cannot reach 127.0.0.1:{port}: connection refused "
        "(check instance_url and that the service is up)"
    )
    assert "\n" not in str(reset_error)
