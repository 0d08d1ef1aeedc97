"""The worker's HTTP side: `/healthz`, `/metrics` and the status page at `/`.

Serves from a daemon thread with the standard library's threading server: three read-only
pages need no framework. The pages come in as callables, so this module knows nothing of the
scheduler and tests can serve fixed answers.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST

from syncer.serve.telemetry import Health

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pages:
    """What the server answers: each callable is called once per request."""

    health: Callable[[], Health]
    metrics: Callable[[], bytes]
    status: Callable[[], str]


def _handler(pages: Pages) -> type[BaseHTTPRequestHandler]:
    class StatusHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
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
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            log.debug("http request", extra={"request": format % args})

    return StatusHandler


def open_web_server(host: str, port: int, pages: Pages) -> ThreadingHTTPServer:
    """Start serving `pages` in a daemon thread; call `.shutdown()` then `.server_close()`."""
    server = ThreadingHTTPServer((host, port), _handler(pages))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="web", daemon=True).start()
    log.info("serving", extra={"host": host, "port": server.server_address[1]})
    return server
