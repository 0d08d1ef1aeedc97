"""The worker's HTTP side: `/healthz`, `/metrics` and the status page at `/`.

Serves from a daemon thread with the standard library's threading server: three read-only
pages need no framework. The pages come in as callables, so this module knows nothing of the
scheduler and tests can serve fixed answers.

With a token (`serve.auth_token`), every page but `/healthz` asks for `Authorization: Bearer
<token>`: the status page and /metrics show every rep's numbers, while a load balancer's or
kubelet's probe carries no credentials and learns nothing from /healthz.
"""

from __future__ import annotations

import errno
import hmac
import json
import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST

from syncer.errors import OkrsyncError
from syncer.serve.telemetry import Health

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pages:
    """What the server answers: each callable is called once per request."""

    health: Callable[[], Health]
    metrics: Callable[[], bytes]
    status: Callable[[], str]
    # The bearer token every page but /healthz requires, or None (open: loopback only, see
    # syncer/config/serve_access.py). A callable, so a reloaded config's token applies at once.
    token: Callable[[], str | None] = lambda: None


OPEN_PATHS = frozenset({"/healthz"})  # probes carry no credentials


class ListenError(OkrsyncError):
    """`serve` cannot bind its address: one line for the operator, exit 1, no traceback."""


def authorized(header: str | None, token: str | None) -> bool:
    """Whether an `Authorization` header carries `Bearer <token>` (always, when there is no token)."""
    if token is None:
        return True
    scheme, _, given = (header or "").strip().partition(" ")
    # http.server decodes headers as latin-1: encoding back gives the bytes the client sent.
    sent = given.strip().encode("latin-1", "replace")
    # compare_digest takes as long for a near miss as for a far one: no timing hint at the token.
    return scheme.lower() == "bearer" and hmac.compare_digest(sent, token.encode())


def _handler(pages: Pages) -> type[BaseHTTPRequestHandler]:
    class StatusHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path not in OPEN_PATHS and not authorized(self.headers.get("Authorization"), pages.token()):
                self._send(
                    401, "text/plain", b"unauthorized: send Authorization: Bearer <serve.auth_token>\n"
                )
                return
            try:
                if path == "/healthz":
                    health = pages.health()
                    body = {
                        "status": "ok" if health.healthy else "unhealthy",
                        "reason": health.reason,
                        "last_success": health.last_success,
                    }
                    self._send(200 if health.healthy else 503, "application/json", json.dumps(body).encode())
                elif path == "/metrics":
                    self._send(200, CONTENT_TYPE_LATEST, pages.metrics())
                elif path == "/":
                    self._send(200, "text/html; charset=utf-8", pages.status().encode())
                else:
                    self._send(404, "text/plain", b"not found\n")
            except Exception:
                # Deliberately broad, the worker's page guard (as the scheduler's job guard): a bug
                # in one page must not take the worker down; the traceback goes to the log.
                log.exception("web page failed", extra={"path": path})
                self._send(500, "text/plain", b"internal error\n")

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            if status == 401:
                self.send_header("WWW-Authenticate", 'Bearer realm="okrsync"')
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            log.debug("http request", extra={"request": format % args})

    return StatusHandler


def open_web_server(host: str, port: int, pages: Pages) -> ThreadingHTTPServer:
    """Start serving `pages` in a daemon thread; call `.shutdown()` then `.server_close()`.

    Raises ListenError when the address cannot be bound (in use, not this machine's, …).
    """
    try:
        server = _server_class(host)((host.strip("[]"), port), _handler(pages))
    except OSError as exc:  # gaierror too: a host name that does not resolve
        raise ListenError(
            f"serve cannot listen on {address(host, port)}: {_why_not(exc)}"
        ) from None  # the reason is the whole story: no traceback
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="web", daemon=True).start()
    return server


def address(host: str, port: int) -> str:
    """`host:port`, with an IPv6 address in brackets as a URL writes it."""
    bare = host.strip("[]")
    return f"[{bare}]:{port}" if ":" in bare else f"{bare}:{port}"


def _server_class(host: str) -> type[ThreadingHTTPServer]:
    if ":" not in host:
        return ThreadingHTTPServer

    class IPv6Server(ThreadingHTTPServer):
        address_family = socket.AF_INET6

    return IPv6Server


_FIXES = {
    errno.EADDRINUSE: "address already in use — stop what listens there or set serve.port / --port",
    errno.EACCES: "permission denied — a port below 1024 needs root: set serve.port / --port to 1024 or above",
    errno.EADDRNOTAVAIL: "no such address on this machine — set serve.host to one of its addresses, "
    "like 127.0.0.1",
}


def _why_not(exc: OSError) -> str:
    if isinstance(exc, socket.gaierror):
        return "unknown host — set serve.host to an address of this machine, like 127.0.0.1"
    fix = _FIXES.get(exc.errno or 0)
    return fix or f"{(exc.strerror or type(exc).__name__).lower()} — check serve.host and serve.port / --port"
