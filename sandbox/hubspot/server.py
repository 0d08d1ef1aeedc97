"""The HubSpot sandbox's API, served over plain HTTP by `sandbox.http_server`, and its routes.

Every request is logged and may meet an injected failure. API routes need a Bearer token (401
INVALID_AUTHENTICATION otherwise) and count against the rate limits: search against its own
per-second cap, everything else against the 10-second bucket, all against the daily count
(docs/crm-apis.md §3.7). `POST /oauth/v1/token` needs neither.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import replace
from urllib.parse import parse_qs, parse_qsl, unquote

from sandbox.http_server import RawRequest, SandboxApi, logged_body
from sandbox.hubspot import meta_api, objects_api, search
from sandbox.hubspot.exchange import ApiRequest, ApiResponse, HubSpotError, error_response
from sandbox.hubspot.request_log import LoggedRequest, redact_form
from sandbox.hubspot.state import SandboxState

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
        ("GET", r"/account-info/v3/details", "account_details", meta_api.account_details),
    ]
]


class HubSpotApi(SandboxApi[ApiRequest]):
    """Answers one parsed request."""

    name = "hubspot-sandbox"
    json_content_type = "application/json;charset=utf-8"

    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def parse(self, raw: RawRequest) -> ApiRequest:
        path = unquote(raw.path).rstrip("/") or "/"
        return ApiRequest(
            raw.method, path, parse_qs(raw.query, keep_blank_values=True), raw.headers, raw.body
        )

    def record(self, request: ApiRequest, kind: str, status: int) -> None:
        self.state.log.append(
            LoggedRequest(
                at=self.state.portal.clock.now(),
                method=request.method,
                path=request.path,
                params={name: ",".join(values) for name, values in request.params.items()},
                body=logged_body(request.body, kind, redact_form),
                kind=kind,
                status=status,
            )
        )

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
