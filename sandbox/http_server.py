"""The HTTP server both sandboxes run on 127.0.0.1, and the start/stop lifecycle around it.

Shared by both sandboxes; each puts a `SandboxApi` behind the server, which turns the raw request
into its own request type, answers it and logs it. The server reads requests and writes responses;
with an ssl context (Salesforce) it serves HTTPS, without one (HubSpot) plain HTTP.
"""

from __future__ import annotations

import json
import ssl
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar
from urllib.parse import parse_qsl, urlsplit

RequestT = TypeVar("RequestT")


@dataclass(frozen=True, slots=True)
class RawRequest:
    """A request as it came off the wire: the path still quoted, the query unparsed."""

    method: str
    path: str
    query: str
    headers: dict[str, str]  # lower-case names
    body: bytes


class Response(Protocol):
    @property
    def status(self) -> int: ...
    @property
    def body(self) -> Any: ...  # JSON-able; None with no body; bytes are sent as they are
    @property
    def headers(self) -> dict[str, str]: ...


class SandboxApi(ABC, Generic[RequestT]):
    """What a sandbox puts behind the server: its parsing, its answers and its request log."""

    name: ClassVar[str]  # of the server thread
    json_content_type: ClassVar[str]  # sent with JSON bodies

    @abstractmethod
    def parse(self, raw: RawRequest) -> RequestT:
        """The sandbox's own request."""

    @abstractmethod
    def handle(self, request: RequestT) -> tuple[Response, str]:
        """The response and the kind of request it was (for the log)."""

    @abstractmethod
    def record(self, request: RequestT, kind: str, status: int) -> None:
        """Append the request to the sandbox's request log."""


class SandboxHttpServer(ThreadingHTTPServer):
    """A threading HTTP server (HTTPS with an ssl context) that hands requests to a SandboxApi."""

    daemon_threads = True

    def __init__(
        self, api: SandboxApi[Any], *, host: str, port: int, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        super().__init__((host, port), _RequestHandler)
        self.api = api
        if ssl_context is not None:
            # The handshake runs in the request thread, so one slow client cannot stall accept().
            self.socket = ssl_context.wrap_socket(
                self.socket, server_side=True, do_handshake_on_connect=False
            )

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: clients that reject the certificate or drop the connection are not server faults."""

    def serve_in_background(self) -> threading.Thread:
        thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, name=self.api.name, daemon=True
        )
        thread.start()
        return thread


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as requests sessions and urllib3 pools expect
    disable_nagle_algorithm = True  # headers and body go out in two writes: don't wait for delayed ACKs
    timeout = 30
    server: SandboxHttpServer

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log is the record of what happened."""

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        api = self.server.api
        request = api.parse(RawRequest(self.command, split.path, split.query, headers, body))
        response, kind = api.handle(request)
        api.record(request, kind, response.status)
        self._send(response)

    def _send(self, response: Response) -> None:
        raw = isinstance(response.body, bytes)  # e.g. Bulk API results: CSV, Content-Type set by the route
        payload = (
            b"" if response.body is None else response.body if raw else json.dumps(response.body).encode()
        )
        if "Date" in response.headers:  # the API's own clock (a sandbox clock can be frozen or moved)
            self.send_response_only(response.status)
            self.send_header("Server", self.version_string())
        else:
            self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.body is not None and not raw:
            self.send_header("Content-Type", self.server.api.json_content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def logged_body(body: bytes, kind: str, redact_form: Callable[[dict[str, str]], dict[str, str]]) -> Any:
    """A request body as the log keeps it: a token request's form redacted, JSON parsed, else text."""
    if not body:
        return None
    if kind == "token":
        return redact_form(dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)))
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")


class ServedSandbox(ABC):
    """A sandbox whose server runs in a background thread; a context manager that starts and stops it."""

    _server: SandboxHttpServer | None = None

    @abstractmethod
    def _open_server(self) -> SandboxHttpServer:
        """A new server, bound to its port (and the sandbox's URLs set from it), not yet serving."""

    def start(self) -> Self:
        """Start serving in a background thread (idempotent)."""
        if self._server is None:
            self._server = self._open_server()
            self._server.serve_in_background()
        return self

    def stop(self) -> None:
        """Stop the server; the sandbox's data stays readable."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
