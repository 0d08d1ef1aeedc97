"""The HTTPS server of the Salesforce sandbox and its routes under `/services/data/v{NN.N}/`.

Every REST request is logged, may meet an injected failure, needs a live Bearer token (401
INVALID_SESSION_ID otherwise) and counts against the daily API allocation (403
REQUEST_LIMIT_EXCEEDED once used up; CRM-API-NOTES §1.6, §1.7). The token request
(`POST /services/oauth2/token`) is not counted. Every response carries `Sforce-Limit-Info`.
"""

from __future__ import annotations

import json
import logging
import re
import ssl
import threading
from collections.abc import Callable
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from connectors.sandbox.salesforce import (
    bulk_api,
    collections_api,
    describe,
    query_api,
    sobjects_api,
    tooling_api,
)
from connectors.sandbox.salesforce.errors import ApiError, not_found
from connectors.sandbox.salesforce.exchange import ApiRequest, ApiResponse, SandboxState
from connectors.sandbox.salesforce.request_log import LoggedRequest, redact_form, redact_headers
from connectors.sandbox.tls import SandboxCertificate

log = logging.getLogger(__name__)

Handler = Callable[[SandboxState, ApiRequest], ApiResponse]
UNKNOWN_EXCEPTION_MESSAGE = "An unexpected error occurred. Please include this ErrorId if you contact support"
TOKEN_PATH = "/services/oauth2/token"
API_VERSIONS = ("57.0", "58.0", "59.0", "60.0", "61.0", "62.0")
_VERSIONED = re.compile(r"/services/data/v(?P<version>\d+\.\d)(?:/(?P<resource>.*))?")
_OBJECT, _ID = r"(?P<object>\w+)", r"(?P<id>[0-9A-Za-z]{15,18})"
_EXTERNAL = r"(?P<field>\w+)/(?P<value>[^/]+)"


def _resources(state: SandboxState, request: ApiRequest) -> ApiResponse:
    prefix = request.url_prefix()
    names = ("sobjects", "query", "queryAll", "limits", "composite")
    return ApiResponse(200, {name: f"{prefix}/{name}" for name in names})


def _limits(state: SandboxState, request: ApiRequest) -> ApiResponse:
    return ApiResponse(200, state.usage.limits_body())


# (method, resource pattern, kind for the request log, handler); the first match wins.
ROUTES: list[tuple[str, re.Pattern[str], str, Handler]] = [
    (method, re.compile(pattern), kind, handler)
    for method, pattern, kind, handler in [
        ("GET", r"", "resources", _resources),
        ("GET", r"(?P<endpoint>query|queryAll)", "query", query_api.run_query),
        (
            "GET",
            r"(?P<endpoint>query|queryAll)/(?P<locator>\w+)-(?P<offset>\d+)",
            "query_more",
            query_api.query_more,
        ),
        ("GET", r"limits", "limits", _limits),
        ("GET", r"sobjects", "describe_global", describe.describe_global),
        ("GET", rf"sobjects/{_OBJECT}/describe", "describe", describe.describe_object),
        ("GET", rf"sobjects/{_OBJECT}", "sobject_info", describe.object_info),
        ("POST", r"tooling/sobjects/CustomField", "tooling_create_field", tooling_api.create_field),
        (
            "POST",
            r"sobjects/(?P<object>PermissionSet|FieldPermissions|PermissionSetAssignment)",
            "permission_create",
            tooling_api.create_permission_record,
        ),
        ("POST", rf"sobjects/{_OBJECT}", "sobject_create", sobjects_api.create_record),
        ("GET", rf"sobjects/{_OBJECT}/{_ID}", "sobject_get", sobjects_api.get_record),
        ("PATCH", rf"sobjects/{_OBJECT}/{_ID}", "sobject_update", sobjects_api.update_record),
        ("DELETE", rf"sobjects/{_OBJECT}/{_ID}", "sobject_delete", sobjects_api.delete_record),
        (
            "GET",
            rf"sobjects/{_OBJECT}/{_EXTERNAL}",
            "sobject_get_by_external_id",
            sobjects_api.get_by_external_id,
        ),
        ("PATCH", rf"sobjects/{_OBJECT}/{_EXTERNAL}", "sobject_upsert", sobjects_api.upsert_record),
        ("PATCH", r"composite/sobjects", "composite_update", collections_api.update_records),
        ("POST", r"composite/sobjects", "composite_create", collections_api.create_records),
        ("DELETE", r"composite/sobjects", "composite_delete", collections_api.delete_records),
        (
            "PATCH",
            rf"composite/sobjects/{_OBJECT}/(?P<field>\w+)",
            "composite_upsert",
            collections_api.upsert_records,
        ),
        ("GET", r"jobs/query", "bulk_query_list", bulk_api.list_jobs),
        ("POST", r"jobs/query", "bulk_query_create", bulk_api.create_job),
        ("GET", r"jobs/query/(?P<job>\w+)", "bulk_query_status", bulk_api.get_job),
        ("PATCH", r"jobs/query/(?P<job>\w+)", "bulk_query_abort", bulk_api.abort_job),
        ("DELETE", r"jobs/query/(?P<job>\w+)", "bulk_query_delete", bulk_api.delete_job),
        ("GET", r"jobs/query/(?P<job>\w+)/results", "bulk_query_results", bulk_api.get_results),
    ]
]


class SalesforceApi:
    """Answers one parsed request: token endpoint, then the versioned REST routes."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def handle(self, request: ApiRequest) -> tuple[ApiResponse, str]:
        """The response and the kind of request it was (for the log); every response carries usage."""
        try:
            response, kind = self._dispatch(request)
        except Exception:
            # A sandbox bug must reach the client as an error it can see, not as a dropped connection.
            log.exception("sandbox request failed", extra={"path": request.path})
            response, kind = _error(ApiError(500, "UNKNOWN_EXCEPTION", UNKNOWN_EXCEPTION_MESSAGE)), "failed"
        response.headers["Sforce-Limit-Info"] = self.state.usage.header()
        return response, kind

    def _dispatch(self, request: ApiRequest) -> tuple[ApiResponse, str]:
        if request.path.rstrip("/") == TOKEN_PATH and request.method == "POST":
            return self._token(request), "token"
        if request.path.rstrip("/") == "/services/data":
            versions = [
                {"label": "Sandbox", "url": f"/services/data/v{v}", "version": v} for v in API_VERSIONS
            ]
            return ApiResponse(200, versions), "versions"
        match = _VERSIONED.fullmatch(request.path)
        if match is None:
            return _error(not_found()), "unknown"
        request = replace(request, version=match["version"], resource=(match["resource"] or "").strip("/"))
        kind, handler, request = _route(request)
        return self._serve(request, handler), kind

    def _serve(self, request: ApiRequest, handler: Handler | None) -> ApiResponse:
        state = self.state
        try:
            injected = state.faults.request_failure(request.path)
            if injected is not None:
                error, retry_after = injected
                response = _error(error)
                if retry_after is not None:
                    response.headers["Retry-After"] = str(retry_after)
                return response
            if not self._authorized(request):
                response = _error(ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid"))
                response.headers["WWW-Authenticate"] = "Token"
                return response
            if not state.usage.consume():
                return _error(ApiError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."))
            if handler is None:
                raise _unroutable(request)
            return handler(state, request)
        except ApiError as error:
            return _error(error)

    def _authorized(self, request: ApiRequest) -> bool:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() in ("bearer", "oauth") and self.state.tokens.user_for(token.strip()) is not None

    def _token(self, request: ApiRequest) -> ApiResponse:
        injected = self.state.faults.request_failure(request.path)
        if injected is not None:
            error, _ = injected
            return ApiResponse(
                error.status, {"error": error.error_code.lower(), "error_description": error.message}
            )
        form = dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
        status, body = self.state.oauth.token(form, request.headers.get("authorization"))
        return ApiResponse(status, body)


def _route(request: ApiRequest) -> tuple[str, Handler | None, ApiRequest]:
    known_path = False
    for method, pattern, kind, handler in ROUTES:
        match = pattern.fullmatch(request.resource)
        if match is None:
            continue
        known_path = True
        if method == request.method:
            return kind, handler, replace(request, route=match.groupdict())
    return ("method_not_allowed" if known_path else "unknown"), None, request


def _unroutable(request: ApiRequest) -> ApiError:
    allowed = sorted({m for m, p, _, _ in ROUTES if p.fullmatch(request.resource)})
    if allowed:
        message = f"HTTP Method '{request.method}' not allowed. Allowed are {','.join(allowed)}"
        return ApiError(405, "METHOD_NOT_ALLOWED", message)
    return not_found()


def _error(error: ApiError) -> ApiResponse:
    return ApiResponse(error.status, error.body())


class SandboxHttpServer(ThreadingHTTPServer):
    """A threading HTTPS server on 127.0.0.1 that hands requests to a SalesforceApi."""

    daemon_threads = True

    def __init__(self, api: SalesforceApi, certificate: SandboxCertificate, *, host: str, port: int) -> None:
        super().__init__((host, port), _RequestHandler)
        self.api = api
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate.cert_file, certificate.key_file)
        # The handshake runs in the request thread, so one slow client cannot stall accept().
        self.socket = context.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: clients that reject the certificate or drop the connection are not server faults."""

    def serve_in_background(self) -> threading.Thread:
        thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, name="salesforce-sandbox", daemon=True
        )
        thread.start()
        return thread


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as requests sessions expect
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
        params = dict(parse_qsl(split.query, keep_blank_values=True))
        request = ApiRequest(self.command, unquote(split.path), params, headers, body)
        api = self.server.api
        response, kind = api.handle(request)
        api.state.log.append(
            LoggedRequest(
                at=api.state.org.clock.now(),
                method=request.method,
                path=request.path,
                params=params,
                headers=redact_headers(headers),
                body=_logged_body(request, kind),
                kind=kind,
                status=response.status,
            )
        )
        self._send(response)

    def _send(self, response: ApiResponse) -> None:
        raw = isinstance(response.body, bytes)  # Bulk API results: CSV, Content-Type set by the route
        payload = (
            b"" if response.body is None else response.body if raw else json.dumps(response.body).encode()
        )
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.body is not None and not raw:
            self.send_header("Content-Type", "application/json;charset=UTF-8")
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
