"""The Salesforce sandbox's API, served over HTTPS by `sandbox.http_server`, and its routes under
`/services/data/v{NN.N}/`.

Every REST request is logged, may meet an injected failure, needs a live Bearer token (401
INVALID_SESSION_ID otherwise) and counts against the daily API allocation (403
REQUEST_LIMIT_EXCEEDED once used up; docs/crm-apis.md §1.6, §1.7). The token request
(`POST /services/oauth2/token`) is not counted. Every response carries `Sforce-Limit-Info`.
"""

from __future__ import annotations

import logging
import re
import ssl
from collections.abc import Callable
from dataclasses import replace
from email.utils import format_datetime
from urllib.parse import parse_qsl, quote, unquote, urlencode

from sandbox.http_server import RawRequest, SandboxApi, logged_body
from sandbox.salesforce import (
    bulk_api,
    collections_api,
    describe,
    query_api,
    sobjects_api,
    tooling_api,
)
from sandbox.salesforce.errors import ApiError, not_found
from sandbox.salesforce.exchange import ApiRequest, ApiResponse, SandboxState
from sandbox.salesforce.request_log import LoggedRequest, redact_form, redact_headers
from sandbox.tls import SandboxCertificate

log = logging.getLogger(__name__)

Handler = Callable[[SandboxState, ApiRequest], ApiResponse]
UNKNOWN_EXCEPTION_MESSAGE = "An unexpected error occurred. Please include this ErrorId if you contact support"
TOKEN_PATH = "/services/oauth2/token"
URI_LIMIT = 16_384  # the REST API answers a longer request URI with 414 (a long `?q=` SOQL, say)
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
        ("POST", r"tooling/sobjects/CustomObject", "tooling_create_object", tooling_api.create_object),
        (
            "POST",
            r"sobjects/(?P<object>PermissionSet|FieldPermissions|ObjectPermissions|PermissionSetAssignment)",
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


class SalesforceApi(SandboxApi[ApiRequest]):
    """Answers one parsed request: token endpoint, then the versioned REST routes."""

    name = "salesforce-sandbox"
    json_content_type = "application/json;charset=UTF-8"

    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def parse(self, raw: RawRequest) -> ApiRequest:
        params = dict(parse_qsl(raw.query, keep_blank_values=True))
        return ApiRequest(raw.method, unquote(raw.path), params, raw.headers, raw.body)

    def record(self, request: ApiRequest, kind: str, status: int) -> None:
        self.state.log.append(
            LoggedRequest(
                at=self.state.org.clock.now(),
                method=request.method,
                path=request.path,
                params=request.params,
                headers=redact_headers(request.headers),
                body=logged_body(request.body, kind, redact_form),
                kind=kind,
                status=status,
            )
        )

    def handle(self, request: ApiRequest) -> tuple[ApiResponse, str]:
        """The response and the kind of request it was (for the log); every response carries usage."""
        try:
            response, kind = self._dispatch(request)
        except Exception:
            # A sandbox bug must reach the client as an error it can see, not as a dropped connection.
            log.exception("sandbox request failed", extra={"path": request.path})
            response, kind = _error(ApiError(500, "UNKNOWN_EXCEPTION", UNKNOWN_EXCEPTION_MESSAGE)), "failed"
        response.headers["Sforce-Limit-Info"] = self.state.usage.header()
        # The org's own time: what If-Modified-Since is compared with (describe.py, §1.12).
        response.headers["Date"] = format_datetime(self.state.org.clock.now(), usegmt=True)
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
            if _uri_length(request) > URI_LIMIT:
                return _error(
                    ApiError(414, "URI_TOO_LONG", f"The request URI is longer than {URI_LIMIT} bytes")
                )
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


def _uri_length(request: ApiRequest) -> int:
    return len(quote(request.path)) + 1 + len(urlencode(request.params))


def _error(error: ApiError) -> ApiResponse:
    return ApiResponse(error.status, error.body())


def tls_context(certificate: SandboxCertificate) -> ssl.SSLContext:
    """The server side of TLS with the sandbox's certificate (clients trust its `ca_bundle`)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate.cert_file, certificate.key_file)
    return context
