"""Transport failures of both connectors: what went wrong between okrsync and the CRM's host.

A request that never got an HTTP answer fails in urllib3 (under requests for Salesforce, directly
for HubSpot, docs/crm-apis.md §2 and §4) with a chain of wrapped exceptions. `classify()` reads
that chain and says, in one line, which host:port failed, why in plain words and what to fix:

    cannot reach login.salesforce.com:443: DNS lookup failed (check auth.login_url / the network)

and whether the same request is worth sending again in this cycle. A name that does not resolve,
a port nobody listens on, a certificate the bundle does not trust or a proxy that refuses will
fail the same way in a minute: they are not retried. Timeouts and resets are, with the usual
backoff (`syncer.retry.crm_calls`). Either way, once the source cannot be reached the cycle sends
it nothing more (docs/architecture.md "Talking to CRMs").

Messages carry the host and port only: never a path, query string, header or proxy URL.
"""

from __future__ import annotations

import errno
import http.client
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3.exceptions as u3

from syncer.errors import SourceUnreachableError, TransientTransportError

CHAIN_LIMIT = 12  # wrappers of wrappers: requests → MaxRetryError → NewConnectionError → OSError
DEFAULT_PORTS = {"https": 443, "http": 80}
PROXY_FIX = "check HTTPS_PROXY / HTTP_PROXY / NO_PROXY"
NO_ROUTE = frozenset({errno.ENETUNREACH, errno.EHOSTUNREACH})
# OpenSSL's X509_V_ERR_CERT_NOT_YET_VALID and X509_V_ERR_CERT_HAS_EXPIRED: no bundle fixes those.
CERT_DATES = frozenset({9, 10})
CLOCK_FIX = "the server must renew its certificate; or this machine's clock is wrong"
RESETS = (ConnectionResetError, ConnectionAbortedError, BrokenPipeError, http.client.RemoteDisconnected)
RETRIED_FIX = "retried with backoff; check the network if it persists"
TUNNEL_FAILED = "Tunnel connection failed:"
STATUS_LINE_LIMIT = 80  # a proxy's status line is short; anything longer is cut


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a connector sends requests, and what the user would change to fix a failure there."""

    url: str  # the configured URL (a failed request's own URL wins when the exception has it)
    setting: str  # the YAML key holding it: instance_url, auth.login_url, base_url
    trust_fix: str  # how to make this client trust another CA


@dataclass(frozen=True, slots=True)
class TransportFailure:
    address: str  # host:port
    cause: str  # plain words: "connection refused"
    fix: str  # what to check
    retryable: bool  # worth the same request again in this cycle

    def __str__(self) -> str:
        return f"cannot reach {self.address}: {self.cause} ({self.fix})"


def classify(exc: BaseException, endpoint: Endpoint) -> TransportFailure | None:
    """The transport failure behind `exc`, or None when its chain shows none (a garbled body…)."""
    chain = exception_chain(exc)
    address = _address(chain, endpoint.url)
    found = _cause(chain, endpoint)
    if found is None:
        return None
    cause, fix, retryable = found
    return TransportFailure(address, cause, fix, retryable)


def connection_failed(exc: BaseException, endpoint: Endpoint) -> TransportFailure:
    """`classify(exc)`, or a retryable "connection failed" for a connection error of unknown cause."""
    return classify(exc, endpoint) or TransportFailure(
        _address(exception_chain(exc), endpoint.url),
        f"connection failed ({type(exc).__name__})",
        f"check {endpoint.setting} / the network",
        retryable=True,
    )


def unreachable(failure: TransportFailure, *, source: str, operation: str) -> SourceUnreachableError:
    """The okrsync error: TransientTransportError (retried) or SourceUnreachableError (not)."""
    kind = TransientTransportError if failure.retryable else SourceUnreachableError
    return kind(f"{operation} failed: {failure}", source=source, address=failure.address, cause=failure.cause)


def exception_chain(exc: BaseException) -> list[BaseException]:
    """`exc` and every exception it wraps: `.reason` (MaxRetryError), exceptions in `.args`
    (requests' and urllib3's wrappers), `__cause__` and `__context__`; breadth first."""
    seen: list[BaseException] = []
    todo = [exc]
    while todo and len(seen) < CHAIN_LIMIT:
        current = todo.pop(0)
        if any(current is known for known in seen):
            continue
        seen.append(current)
        linked = [getattr(current, "reason", None), *current.args, current.__cause__, current.__context__]
        todo += [e for e in linked if isinstance(e, BaseException)]
    return seen


def _address(chain: Iterable[BaseException], fallback_url: str) -> str:
    """host:port of the failed request (requests keeps it on the exception), else of the endpoint."""
    for exc in chain:
        url = getattr(getattr(exc, "request", None), "url", None)
        if isinstance(url, str) and url:
            return host_port(url)
    return host_port(fallback_url)


def host_port(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or "?"
    try:
        port = parts.port or DEFAULT_PORTS.get(parts.scheme, 443)
    except ValueError:  # a port that is no number
        port = DEFAULT_PORTS.get(parts.scheme, 443)
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _cause(chain: list[BaseException], endpoint: Endpoint) -> tuple[str, str, bool] | None:
    """(cause, fix, retryable), first match wins: a proxy wraps the others, and urllib3's
    NameResolutionError and NewConnectionError are ConnectTimeoutErrors, so order matters."""
    if _has(chain, u3.ProxyError):
        cause, retryable = _proxy_cause(chain)
        return cause, PROXY_FIX, retryable
    if _has(chain, u3.NameResolutionError, socket.gaierror):
        return "DNS lookup failed", f"check {endpoint.setting} / the network", False
    verify = _first(chain, ssl.SSLCertVerificationError)
    if verify is not None:
        detail = getattr(verify, "verify_message", None) or "verification failed"
        if getattr(verify, "verify_code", None) in CERT_DATES:  # trusted, but out of its dates
            return f"TLS certificate not valid today: {detail}", CLOCK_FIX, False
        return f"TLS certificate not trusted: {detail}", endpoint.trust_fix, False
    if _has(chain, ssl.SSLEOFError):  # the peer hung up: a reset, not a certificate problem
        return "connection closed by the server (TLS EOF)", f"check {endpoint.setting} / the network", True
    tls = _first(chain, ssl.SSLError, u3.SSLError)
    if tls is not None:
        reason = getattr(_first(chain, ssl.SSLError), "reason", None) or type(tls).__name__
        return f"TLS handshake failed: {reason}", f"check that {endpoint.setting} names an https port", False
    if _has(chain, ConnectionRefusedError):
        return "connection refused", f"check {endpoint.setting} and that the service is up", False
    if any(isinstance(e, OSError) and e.errno in NO_ROUTE for e in chain):
        return "no route to the host (network unreachable)", "check the network / firewall", False
    return _retryable_cause(chain, endpoint)


def _retryable_cause(chain: list[BaseException], endpoint: Endpoint) -> tuple[str, str, bool] | None:
    """Timeouts and resets, and a connection that failed for a reason not named above: the next
    attempt may get through, so the usual retry policy applies."""
    if _has(chain, u3.ReadTimeoutError):
        return "no answer in time (read timeout)", RETRIED_FIX, True
    if _has(chain, TimeoutError) or (
        _has(chain, u3.ConnectTimeoutError) and not _has(chain, u3.NewConnectionError)
    ):  # NewConnectionError subclasses ConnectTimeoutError: only a TimeoutError inside says "timed out"
        return "connection timed out", f"check {endpoint.setting} / the network / a firewall", True
    if _has(chain, *RESETS, u3.ProtocolError):
        return "connection reset", RETRIED_FIX, True
    if _has(chain, u3.NewConnectionError):  # another OSError opening the connection: the OS's words
        return _os_words(chain), f"check {endpoint.setting} / the network", True
    return None


def _proxy_cause(chain: list[BaseException]) -> tuple[str, bool]:
    """What the proxy did, and whether another attempt may get through (a slow proxy may)."""
    if _has(chain, ConnectionRefusedError):
        return "the proxy refused the connection", False
    if _has(chain, u3.NameResolutionError, socket.gaierror):
        return "the proxy's host name does not resolve", False
    if _has(chain, TimeoutError, u3.ReadTimeoutError):
        return "the proxy did not answer in time", True
    if _has(chain, *RESETS, u3.ProtocolError):
        return "the proxy dropped the connection", True
    # http.client's text, "Tunnel connection failed: 407 Proxy Authentication Required": the
    # proxy's status line only (never its URL or credentials), cut short.
    tunnel = next((str(e) for e in chain if str(e).startswith(TUNNEL_FAILED)), None)
    if tunnel is not None:
        status_line = " ".join(tunnel.removeprefix(TUNNEL_FAILED).split())[:STATUS_LINE_LIMIT]
        return f"the proxy refused the tunnel: {status_line}", False
    return "the proxy failed", False


def _os_words(chain: list[BaseException]) -> str:
    """The innermost OSError's own words ("Cannot assign requested address"), without its errno."""
    words = next((e.strerror for e in reversed(chain) if isinstance(e, OSError) and e.strerror), None)
    return f"connection failed: {words}" if words else "connection failed"


def _has(chain: Iterable[BaseException], *kinds: type[BaseException]) -> bool:
    return any(isinstance(e, kinds) for e in chain)


def _first(chain: Iterable[BaseException], *kinds: type[BaseException]) -> BaseException | None:
    return next((e for e in chain if isinstance(e, kinds)), None)
