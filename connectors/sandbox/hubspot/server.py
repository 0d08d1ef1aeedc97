"""The plain-HTTP server of the HubSpot sandbox and its routes.

Every request is logged and may meet an injected failure. API routes need a Bearer token (401
INVALID_AUTHENTICATION otherwise) and count against the rate limits: search against its own
per-second cap, everything else against the 10-second bucket, all against the daily count
(CRM-API-NOTES §3.7). `POST /oauth/v1/token` needs neither.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, parse_qsl, unquote, urlsplit

from connectors.sandbox.hubspot import meta_api, objects_api, search
from connectors.sandbox.hubspot.exchange import ApiRequest, ApiResponse, HubSpotError, error_response
from connectors.sandbox.hubspot.request_log import LoggedRequest, redact_form
from connectors.sandbox.hubspot.state import SandboxState

log = logging.getLogger(__name__)

Handler = Callable[[SandboxState, ApiRequest], ApiResponse]
TOKEN_PATH = "/oauth/v1/token"
_TYPE, _ID = r"(?P<type>[\w-]+)", r"(?P<id>[^/]+)"
_SCHEMAS = r"/(?:crm/v3|crm-object-schemas/v3)/schemas"

# (method, path pattern, kind for the request log, handler); the first match wins.
ROUTES: list[tuple[str, re.Pattern[str], str, Handler]] = [
    (method, re.compile(pattern), kind, handler)
    for method, pattern, kind, handler in [
        ("GET", rf"/crm/v3/objects/{_TYPE}", "list", objects_api.list_objects),
        ("POST", rf"/crm/v3/objects/{_TYPE}/search", "search", search.search),
        ("POST", rf"/crm/v3/objects/{_TYPE}/batch/read", "batch_read", objects_api.batch_read),
        ("POST", rf"/crm/v3/objects/{_TYPE}/batch/update", "batch_update", objects_api.batch_update),
        ("POST", rf"/crm/v3/objects/{_TYPE}/batch/upsert", "batch_upsert", objects_api.batch_upsert),
        ("GET", rf"/crm/v3/objects/{_TYPE}/{_ID}", "read", objects_api.read_object),
        ("GET", rf"/crm/v3/properties/{_TYPE}", "properties", meta_api.list_properties),
        ("POST", rf"/crm/v3/properties/{_TYPE}", "property_create", meta_api.create_property),
        (
            "POST",
            rf"/crm/v3/properties/{_TYPE}/groups",
            "property_group_create",
            meta_api.create_property_group,
        ),
        ("GET", rf"/crm/v3/properties/{_TYPE}/(?P<name>\w+)", "property", meta_api.read_property),
        ("GET", _SCHEMAS, "schemas", meta_api.list_schemas),
        ("POST", _SCHEMAS, "schema_create", meta_api.post_schema),
        ("GET", rf"{_SCHEMAS}/{_TYPE}", "schema", meta_api.read_schema),
        ("GET", r"/crm/v3/owners", "owners", meta_api.list_owners),
        ("GET", rf"/crm/v3/owners/{_ID}", "owner", meta_api.read_owner),
        ("GET", rf"/crm/v3/pipelines/{_TYPE}", "pipelines", meta_api.list_pipelines),
        ("GET", rf"/crm/v3/pipelines/{_TYPE}/{_ID}", "pipeline", meta_api.read_pipeline),
    ]
]


class HubSpotApi:
    """Answers one parsed request."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def handle(self, request: ApiRequest) -> tuple[ApiResponse, str]:
        """The response and the kind of request it was (for the log)."""
        if request.path == TOKEN_PATH and request.method == "POST":
            return self._token(request), "token"
        kind, handler, request = _route(request)
        try:
            return self._serve(request, kind, handler), kind
        except HubSpotError as error:
            return error_response(error), kind
        except Exception:
            # A sandbox bug must reach the client as an error it can see, not as a dropped connection.
            log.exception("sandbox request failed", extra={"path": request.path})
            return error_response(HubSpotError(500, "internal error", category="INTERNAL_ERROR")), "failed"

    def _serve(self, request: ApiRequest, kind: str, handler: Handler | None) -> ApiResponse:
        state = self.state
        injected = state.faults.request_failure(request.path)
        if injected is not None:
            raise injected
        oauth = state.tokens.check(request.headers.get("authorization"))
        if handler is None:
            raise HubSpotError(404 if kind == "unknown" else 405, f"No route for {request.method} {request.path}",
                               category="OBJECT_NOT_FOUND")  # fmt: skip
        is_search = kind == "search"
        try:
            state.limits.consume(search=is_search)
        except HubSpotError as error:
            error.headers |= {} if is_search else state.limits.headers(daily=not oauth)
            raise
        response = handler(state, request)
        if not is_search:  # search answers carry no rate-limit headers (§3.7)
            response.headers |= state.limits.headers(daily=not oauth)
        return response

    def _token(self, request: ApiRequest) -> ApiResponse:
        injected = self.state.faults.request_failure(request.path)
        if injected is not None:
            return error_response(injected)
        form = dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
        status, body = self.state.tokens.grant(form)
        return ApiResponse(status, body)


def _route(request: ApiRequest) -> tuple[str, Handler | None, ApiRequest]:
    known_path = False
    for method, pattern, kind, handler in ROUTES:
        match = pattern.fullmatch(request.path)
        if match is None:
            continue
        known_path = True
        if method == request.method:
            return kind, handler, replace(request, route=match.groupdict())
    return ("method_not_allowed" if known_path else "unknown"), None, request


class SandboxHttpServer(ThreadingHTTPServer):
    """A threading HTTP server on 127.0.0.1 that hands requests to a HubSpotApi."""

    daemon_threads = True

    def __init__(self, api: HubSpotApi, *, host: str, port: int) -> None:
        super().__init__((host, port), _RequestHandler)
        self.api = api

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: clients that drop the connection are not server faults."""

    def serve_in_background(self) -> threading.Thread:
        thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, name="hubspot-sandbox", daemon=True
        )
        thread.start()
        return thread


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as urllib3 pools expect
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
        params = parse_qs(split.query, keep_blank_values=True)
        path = unquote(split.path).rstrip("/") or "/"
        request = ApiRequest(self.command, path, params, headers, body)
        api = self.server.api
        response, kind = api.handle(request)
        api.state.log.append(
            LoggedRequest(
                at=api.state.portal.clock.now(),
                method=request.method,
                path=path,
                params={name: ",".join(values) for name, values in params.items()},
                body=_logged_body(request, kind),
                kind=kind,
                status=response.status,
            )
        )
        self._send(response)

    def _send(self, response: ApiResponse) -> None:
        payload = b"" if response.body is None else json.dumps(response.body).encode()
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.body is not None:
            self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def _logged_body(request: ApiRequest, kind: str) -> Any:
    if not request.body:
        return None
    if kind == "token":
        return redact_form(dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True)))
    try:
        return json.loads(request.body)
    except ValueError:
        return request.body.decode("utf-8", "replace")
