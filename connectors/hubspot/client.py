"""Authentication and the hubspot-api-client of one portal: every HTTP call goes through here.

Builds `hubspot.HubSpot(access_token=…, host=base_url)` (docs/crm-apis.md §4.1) with the client's own
urllib3 retries off, because they skip POST (search, batch) and would double up with tenacity
(§4.3). Calls pass `_preload_content=False` and hand raw JSON to mapping.py. The only module that
calls `.get_secret_value()`. Maps no records.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import hubspot

from connectors.hubspot.errors import endpoint, translated
from connectors.hubspot.limits import CallKind, RateLimiter
from syncer.config.models import HubSpotOAuth, HubSpotSource
from syncer.contract import ApiUsage
from syncer.errors import (
    AuthExpiredError,
    AuthFailedError,
    CrmError,
    RejectedRequestError,
    TransientCrmError,
)
from syncer.retry import crm_calls, reauthenticated

if TYPE_CHECKING:
    from tenacity import RetryCallState

log = logging.getLogger(__name__)

REQUEST_TIMEOUT = (10.0, 120.0)  # (connect, read) seconds; HubSpot gives up at 100 s (docs/crm-apis.md §3.3)
TOKEN_MARGIN_SECONDS = 60.0  # refresh this long before `expires_in` ends: 401 is no refresh signal (§3.8)


@dataclass(frozen=True, slots=True)
class Apis:
    """The generated APIs of one token, built once (each discovery attribute builds a new pool)."""

    objects: Any
    search: Any
    batch: Any
    owners: Any
    pipelines: Any
    properties: Any
    groups: Any
    schemas: Any


def open_apis(host: str, token: str) -> Apis:
    # retry=False: no urllib3 retries at all; tenacity retries each request (docs/crm-apis.md §4.3).
    client = hubspot.HubSpot(access_token=token, host=host, retry=False)
    crm = client.crm
    return Apis(
        objects=crm.objects.basic_api,
        search=crm.objects.search_api,
        batch=crm.objects.batch_api,
        owners=crm.owners.owners_api,
        pipelines=crm.pipelines.pipelines_api,
        properties=crm.properties.core_api,
        groups=crm.properties.groups_api,
        schemas=crm.schemas.core_api,
    )


class PortalClient:
    """One portal's authenticated client: each call rate-limited, counted, retried while transient,
    and replayed once after re-authenticating on a 401 (docs/architecture.md "Talking to CRMs")."""

    def __init__(
        self,
        source: str,
        config: HubSpotSource,
        *,
        sleep: Callable[[float], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        self._config = config
        self._host = config.base_url.rstrip("/")
        self._endpoint = endpoint(config.base_url)
        self._sleep = sleep
        self._clock = clock
        self._limiter = RateLimiter(config.rate_limit, clock=clock, sleep=sleep)
        self._apis: Apis | None = None
        self._expires_at: float | None = None
        self._calls = 0
        self._retries = 0

    @reauthenticated
    def call(self, operation: str, request: Callable[[Apis], Any], *, kind: CallKind = "general") -> Any:
        """Run one request and return its JSON body; a second 401 in a row raises AuthExpiredError."""
        apis = self._connected()
        return self._send(operation, lambda: request(apis), kind)

    def forget_token(self) -> None:
        self._apis, self._retries = None, self._retries + 1

    def usage(self) -> ApiUsage:
        return ApiUsage(self._calls, self._retries)

    def close(self) -> None:
        self._apis = None

    def _send(self, operation: str, request: Callable[[], Any], kind: CallKind) -> Any:
        for attempt in crm_calls(sleep=self._sleep, on_retry=self._count_retry):
            with attempt, translated(self.source, operation, to=self._endpoint):
                self._limiter.take(kind)
                self._calls += 1
                try:
                    response = request()
                finally:
                    self._limiter.done(kind)
                return _json(self.source, operation, response)
        raise AssertionError("unreachable: crm_calls re-raises the last error")

    def _connected(self) -> Apis:
        expired = self._expires_at is not None and self._clock() >= self._expires_at
        if self._apis is None or expired:
            self._apis = open_apis(self._host, self._token())
        return self._apis

    def _token(self) -> str:
        auth = self._config.auth
        if not isinstance(auth, HubSpotOAuth):
            return auth.access_token.get_secret_value()
        form = {
            "grant_type": "refresh_token",
            "client_id": auth.client_id.get_secret_value(),
            "client_secret": auth.client_secret.get_secret_value(),
            "refresh_token": auth.refresh_token.get_secret_value(),
        }
        oauth = hubspot.HubSpot(host=self._host, retry=False).oauth.tokens_api
        try:
            body = self._send("token request", lambda: oauth.create(**form, **RAW), "general")
        except (AuthExpiredError, RejectedRequestError) as exc:  # 400/401: the credentials are wrong
            raise self._token_refused(exc) from exc
        fields = body if isinstance(body, dict) else {}
        token, lifetime = fields.get("access_token"), fields.get("expires_in")
        if not isinstance(token, str) or not token:
            raise AuthFailedError("token request returned no access_token", source=self.source)
        if isinstance(lifetime, int | float):
            self._expires_at = self._clock() + max(float(lifetime) - TOKEN_MARGIN_SECONDS, 0.0)
        return token

    def _token_refused(self, exc: CrmError) -> AuthFailedError:
        return AuthFailedError(
            "token request refused; check auth.client_id, auth.client_secret and auth.refresh_token "
            "(a refresh token dies when the app is uninstalled)",
            source=self.source,
            status=exc.status,
            code=exc.code,
        )

    def refused(self, operation: str) -> str:
        if isinstance(self._config.auth, HubSpotOAuth):
            return f"{operation} failed: HubSpot refused a freshly refreshed token; check the app's scopes"
        return (
            f"{operation} failed: the private app token is invalid or revoked; "
            "set a valid token in auth.access_token"
        )

    def _count_retry(self, state: RetryCallState) -> None:
        self._retries += 1


RAW: dict[str, Any] = {"_preload_content": False, "_request_timeout": REQUEST_TIMEOUT}


def _json(source: str, operation: str, response: Any) -> Any:
    data = getattr(response, "data", b"")
    if not data:
        return {}
    try:
        return json.loads(data)
    except ValueError:  # a 2xx that is not JSON (a proxy page): worth another try
        raise TransientCrmError(f"{operation} returned an unreadable body", source=source) from None
