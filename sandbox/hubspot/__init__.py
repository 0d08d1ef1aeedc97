"""A local HubSpot: the CRM v3 API over plain HTTP on 127.0.0.1, seeded with the sample sales org.

    from hubspot import HubSpot
    from sandbox.hubspot import HubSpotSandbox

    with HubSpotSandbox(now=datetime(2026, 11, 15, 12, tzinfo=UTC)) as hs:
        client = HubSpot(access_token=hs.access_token, host=hs.base_url)   # a private-app token
        page = client.crm.deals.basic_api.get_page(limit=100, properties=["amount", "dealstage"])
        found = client.crm.objects.search_api.do_search("deals", {"filterGroups": [...], "limit": 200})
        # OAuth instead: client.oauth.tokens_api.create(grant_type="refresh_token",
        #     client_id=hs.client_id, client_secret=hs.client_secret, refresh_token=hs.refresh_token)

Tests read and change the portal through `hs.portal` and the helpers (`update`, `archive`,
`bulk_touch`), count calls through `hs.requests`, and inject failures with `fail_next`,
`reject_upserts`, `expire_tokens` and `set_rate_limits`. Owner ids are stable for a given
(now, seed, scale): `hs.owner_ids[sample_user.key]`. The key-result custom object exists only with
`key_results_schema=True` (otherwise the connector creates it through `POST /crm/v3/schemas`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sandbox.http_server import SandboxHttpServer, ServedSandbox
from sandbox.hubspot.auth import OAUTH_TOKEN_TTL, OAuthApp, TokenStore
from sandbox.hubspot.faults import FaultPlan
from sandbox.hubspot.limits import DAILY_LIMIT, SEARCH_PER_SECOND, TEN_SECONDLY_LIMIT, RateLimits
from sandbox.hubspot.portal import HsRecord, Portal
from sandbox.hubspot.request_log import LoggedRequest, RequestLog
from sandbox.hubspot.schemas import KEY_RESULTS_SCHEMA, create_schema
from sandbox.hubspot.seeding import owner_ids, seed_portal
from sandbox.hubspot.server import HubSpotApi
from sandbox.hubspot.state import SandboxState
from sandbox.salesforce.clock import SandboxClock
from sandbox.sample_org import DEFAULT_SCALE, SampleOrg, SampleScale, generate_sample_org

__all__ = ["HsRecord", "HubSpotSandbox", "HubSpotSettings", "LoggedRequest"]

OAUTH_APP = OAuthApp(
    client_id="5f2c1a9e-okrsync-sandbox-client",
    client_secret="okrsync-sandbox-client-secret",
    refresh_token="na1-okrsync-sandbox-refresh-token",
    authorization_code="okrsync-sandbox-auth-code",
    redirect_uri="http://localhost/oauth-callback",
)


@dataclass(frozen=True, slots=True)
class HubSpotSettings:
    """How the sandbox behaves beyond its data; the defaults are a Professional portal's."""

    ticking: bool | None = None  # None: frozen at `now` when one is given, wall time otherwise
    ten_secondly_limit: int | None = TEN_SECONDLY_LIMIT  # None: no burst limit
    daily_limit: int = DAILY_LIMIT
    search_per_second: int | None = SEARCH_PER_SECOND  # None: search unthrottled
    token_ttl: timedelta = OAUTH_TOKEN_TTL  # OAuth access tokens (`expires_in`)
    port: int = 0  # 0: a free port on 127.0.0.1
    portal_id: int | None = None  # None: the sample portal's id


class HubSpotSandbox(ServedSandbox):
    """The sandbox portal and its HTTP server; a context manager that starts and stops the server."""

    def __init__(
        self,
        *,
        now: datetime | None = None,
        seed: int = 7,
        scale: SampleScale = DEFAULT_SCALE,
        key_results_schema: bool = False,
        settings: HubSpotSettings = HubSpotSettings(),
    ) -> None:
        """Seed the portal from the sample org around `now` (default: the current time); the server
        starts with `start()` or `with`."""
        start = now or datetime.now(UTC)
        ticking = now is None if settings.ticking is None else settings.ticking
        self.clock = SandboxClock(start, ticking=ticking)
        self.sample: SampleOrg = generate_sample_org(now=start, seed=seed, scale=scale)
        self.portal = Portal(self.clock)
        seed_portal(self.portal, self.sample)
        if settings.portal_id is not None:
            self.portal.portal_id = settings.portal_id
        if key_results_schema:
            create_schema(self.portal, KEY_RESULTS_SCHEMA)
        self.owner_ids: dict[str, str] = owner_ids(self.sample)  # sample user key -> owner id
        self.requests = RequestLog()
        self._faults = FaultPlan()
        self._limits = RateLimits(
            ten_secondly=settings.ten_secondly_limit,
            daily=settings.daily_limit,
            search_per_second=settings.search_per_second,
        )
        self._tokens = TokenStore(self.clock, OAUTH_APP, ttl=settings.token_ttl)
        self._state = SandboxState(self.portal, self._tokens, self._limits, self._faults, self.requests)
        self._port = settings.port

    # -- lifecycle (start, stop, with: ServedSandbox)

    def _open_server(self) -> SandboxHttpServer:
        server = SandboxHttpServer(HubSpotApi(self._state), host="127.0.0.1", port=self._port)
        self._state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
        return server

    # -- connection details

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT` (once started): hubspot-api-client's `host`, the YAML's `base_url`."""
        if not self._state.base_url:
            raise RuntimeError("the sandbox is not started")
        return self._state.base_url

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/oauth/v1/token"

    @property
    def access_token(self) -> str:
        """The private-app token (never expires; `expire_tokens(private_app=True)` replaces it)."""
        return self._tokens.private_app_token

    @property
    def client_id(self) -> str:
        return OAUTH_APP.client_id

    @property
    def client_secret(self) -> str:
        return OAUTH_APP.client_secret

    @property
    def refresh_token(self) -> str:
        return OAUTH_APP.refresh_token

    @property
    def authorization_code(self) -> str:
        return OAUTH_APP.authorization_code

    @property
    def redirect_uri(self) -> str:
        return OAUTH_APP.redirect_uri

    @property
    def daily_usage(self) -> tuple[int, int]:
        """(used, maximum) of the daily request allocation."""
        return self._limits.daily_used, self._limits.daily

    def issue_token(self) -> str:
        """A valid OAuth access token, without an HTTP call."""
        return self._tokens.issue()

    # -- reading and changing data (as HubSpot users and workflows would)

    def get(self, object_type: str, record_id: str) -> HsRecord:
        """A record by type (`deals`, `0-3`, `p_key_results`, …) and id; KeyError when absent."""
        return self.portal.object_type(object_type).records[record_id]

    def records(self, object_type: str, *, archived: bool = False) -> list[HsRecord]:
        """The records of a type in id order (live ones, or the archived ones)."""
        with self.portal.lock:
            records = self.portal.object_type(object_type).records.values()
            return [record for record in records if record.archived == archived]

    def create(self, object_type: str, properties: Mapping[str, object]) -> HsRecord:
        return self.portal.create(object_type, properties)

    def update(self, object_type: str, record_id: str, properties: Mapping[str, object]) -> HsRecord:
        """Change properties; bumps `hs_lastmodifieddate` and `updatedAt` to the clock's now."""
        return self.portal.update(object_type, record_id, properties)

    def archive(self, object_type: str, record_id: str) -> HsRecord:
        return self.portal.archive(object_type, record_id)

    def bulk_touch(
        self, object_type: str, n: int, *, step: timedelta = timedelta(milliseconds=1)
    ) -> list[str]:
        """Modify `n` records at once (cloning records when the type has fewer), modification times
        `step` apart and ending now; for tests of pulls past the 10,000-result search cap."""
        return self.portal.bulk_touch(object_type, n, step=step)

    # -- failure injection

    def fail_next(
        self,
        n: int = 1,
        *,
        status: int = 429,
        policy: str | None = None,
        path_contains: str | None = None,
        retry_after: int | None = None,
        message: str | None = None,
        category: str | None = None,
    ) -> None:
        """Fail the next `n` requests (or the next `n` whose path contains `path_contains`, which may
        target `/oauth/v1/token`) with `status`; a 429 has the RATE_LIMIT body of `policy`
        (TEN_SECONDLY_ROLLING by default, SECONDLY, DAILY). `retry_after` adds a Retry-After header;
        `message` and `category` replace the error body's defaults (not on a 429)."""
        self._faults.fail_next(
            n,
            status=status,
            policy=policy,
            path_contains=path_contains,
            retry_after=retry_after,
            message=message,
            category=category,
        )

    def reject_upserts(
        self, messages: Mapping[str, str], *, times: int | None = 1, category: str = "VALIDATION_ERROR"
    ) -> None:
        """Fail batch update/upsert inputs: `{record id or idProperty value: error message}`; each
        fails `times` times (None: always) with `category` (LOCKED, RATE_LIMITS, … are retryable),
        answered with HTTP 207 and the others applied."""
        self._faults.reject(messages, times=times, category=category)

    def expire_tokens(self, *, private_app: bool = False) -> None:
        """Expire every OAuth access token (the next call gets 401); with `private_app`, also revoke
        the private-app token (`access_token` then holds a new one)."""
        self._tokens.expire_all(private_app=private_app)

    def set_rate_limits(
        self,
        *,
        ten_secondly: int | None = None,
        daily: int | None = None,
        daily_used: int | None = None,
        search_per_second: int | None = None,
    ) -> None:
        """Change the limits (and the daily count); the rolling windows start empty."""
        limits = self._limits
        limits.ten_secondly = limits.ten_secondly if ten_secondly is None else ten_secondly
        limits.daily = limits.daily if daily is None else daily
        limits.daily_used = limits.daily_used if daily_used is None else daily_used
        limits.search_per_second = (
            limits.search_per_second if search_per_second is None else search_per_second
        )
        limits.reset()

    def clear_faults(self) -> None:
        """Drop every pending injected failure and rejection."""
        self._faults.clear()
