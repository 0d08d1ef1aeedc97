"""A local Salesforce: the REST API over HTTPS on 127.0.0.1, seeded with the sample sales org.

    with SalesforceSandbox(now=datetime(2026, 11, 15, 12, tzinfo=UTC)) as sf:
        token = requests.post(sf.token_url, data={"grant_type": "client_credentials",
                              "client_id": sf.client_id, "client_secret": sf.client_secret},
                              verify=sf.ca_bundle).json()["access_token"]
        session = requests.Session()
        session.verify, session.trust_env = sf.ca_bundle, False  # REQUESTS_CA_BUNDLE would win otherwise
        client = simple_salesforce.Salesforce(instance_url=sf.instance_url, session_id=token, session=session)

Tests read and change the org through `sf.org`, count calls through `sf.requests`, and inject
failures with `fail_next`, `reject_writes`, `expire_tokens` and `set_api_limit`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sandbox.http_server import SandboxHttpServer, ServedSandbox
from sandbox.salesforce.bulk_jobs import BulkJobs
from sandbox.salesforce.clock import SandboxClock
from sandbox.salesforce.exchange import SandboxState
from sandbox.salesforce.faults import FaultPlan, WritePredicate, by_record_id
from sandbox.salesforce.ids import to_id18
from sandbox.salesforce.limits import DEFAULT_DAILY_LIMIT, ApiUsage
from sandbox.salesforce.metadata_dates import MetadataDates
from sandbox.salesforce.oauth import ConnectedApp, OAuthEndpoint
from sandbox.salesforce.org import Org
from sandbox.salesforce.org_schema import build_schema
from sandbox.salesforce.query_cursors import MAX_OPEN_CURSORS, QueryCursors
from sandbox.salesforce.request_log import RequestLog
from sandbox.salesforce.schema import Schema
from sandbox.salesforce.seeding import INTEGRATION_USERNAME, seed_org
from sandbox.salesforce.server import SalesforceApi, tls_context
from sandbox.salesforce.tokens import DEFAULT_TOKEN_TTL, TokenStore
from sandbox.salesforce.values import Garbled
from sandbox.sample_org import DEFAULT_SCALE, SampleOrg, SampleScale, generate_sample_org
from sandbox.tls import localhost_certificate

__all__ = ["SalesforceSandbox", "SandboxSettings"]

CLIENT_ID = "3MVG9okrsync.sandbox.client"
CLIENT_SECRET = "okrsync-sandbox-client-secret"
PASSWORD = "sandbox-password"
SECURITY_TOKEN = "SANDBOXTOKEN"


@dataclass(frozen=True, slots=True)
class SandboxSettings:
    """How the sandbox behaves beyond its data; the defaults are Salesforce's."""

    ticking: bool | None = None  # None: frozen at `now` when one is given, wall time otherwise
    token_ttl: timedelta = DEFAULT_TOKEN_TTL  # session timeout without use
    api_limit: int = DEFAULT_DAILY_LIMIT  # daily API requests
    max_open_cursors: int = MAX_OPEN_CURSORS
    port: int = 0  # 0: a free port on 127.0.0.1
    org_id: str = "00DDn0000SANDBX"  # 15 or 18 characters; another id plays another org
    user_currency: str = "EUR"  # the integration user's currency: what convertCurrency() gives
    dated_rates: bool = True  # Advanced Currency Management on: DatedConversionRate exists
    # How long before the sandbox's start its seeded metadata last changed: describes asked with
    # If-Modified-Since after that answer 304 until a test changes the object (§1.12).
    metadata_age: timedelta = timedelta(days=1)
    bulk_job_seconds: float | None = None  # wall time a Bulk query job takes; None: two status calls


class SalesforceSandbox(ServedSandbox):
    """The sandbox org and its HTTPS server; a context manager that starts and stops the server."""

    def __init__(
        self,
        *,
        now: datetime | None = None,
        seed: int = 7,
        scale: SampleScale = DEFAULT_SCALE,
        settings: SandboxSettings = SandboxSettings(),
    ) -> None:
        """Seed the org from the sample org around `now` (default: the current time); the server
        starts with `start()` or `with`."""
        start = now or datetime.now(UTC)
        ticking = now is None if settings.ticking is None else settings.ticking
        self.clock = SandboxClock(start, ticking=ticking)
        self.sample: SampleOrg = generate_sample_org(now=start, seed=seed, scale=scale)
        rates = {code: float(rate) for code, rate in self.sample.currency_rates.items()}
        self.org = Org(build_schema(dated_rates=settings.dated_rates), self.clock, currency_rates=rates)
        self.org.org_id = to_id18(settings.org_id)
        seed_org(self.org, self.sample, user_currency=settings.user_currency)
        self.requests = RequestLog()
        self._faults = FaultPlan()
        self._usage = ApiUsage(maximum=settings.api_limit)
        self._tokens = TokenStore(self.clock, org_id=self.org.org_id, ttl=settings.token_ttl)
        self._app = ConnectedApp(CLIENT_ID, CLIENT_SECRET, "", INTEGRATION_USERNAME, PASSWORD, SECURITY_TOKEN)
        self._cursors = QueryCursors(max_open=settings.max_open_cursors)
        self._bulk_jobs = BulkJobs(seconds=settings.bulk_job_seconds)
        self._metadata_dates = MetadataDates(start - settings.metadata_age)
        self.org.schema.on_change.append(lambda name: self._metadata_dates.touch(name, self.clock.now()))
        self._port = settings.port

    # -- lifecycle (start, stop, with: ServedSandbox)

    def _open_server(self) -> SandboxHttpServer:
        oauth = OAuthEndpoint(self._app, self._tokens, self.org)
        state = SandboxState(
            self.org,
            self._tokens,
            oauth,
            self._usage,
            self.requests,
            self._faults,
            self._cursors,
            bulk_jobs=self._bulk_jobs,
            metadata_dates=self._metadata_dates,
        )
        server = SandboxHttpServer(
            SalesforceApi(state),
            host="127.0.0.1",
            port=self._port,
            ssl_context=tls_context(localhost_certificate()),
        )
        self._app.instance_url = f"https://127.0.0.1:{server.server_address[1]}"
        return server

    # -- connection details

    @property
    def instance_url(self) -> str:
        """`https://127.0.0.1:PORT` (once started)."""
        if not self._app.instance_url:
            raise RuntimeError("the sandbox is not started")
        return self._app.instance_url

    @property
    def token_url(self) -> str:
        return f"{self.instance_url}/services/oauth2/token"

    @property
    def ca_bundle(self) -> str:
        """Path of the PEM CA certificate clients must trust."""
        return str(localhost_certificate().ca_bundle)

    @property
    def client_id(self) -> str:
        return self._app.client_id

    @property
    def client_secret(self) -> str:
        return self._app.client_secret

    @property
    def username(self) -> str:
        """The integration user's login (password grant, JWT `sub`)."""
        return self._app.username

    @property
    def password(self) -> str:
        return self._app.password

    @property
    def security_token(self) -> str:
        return self._app.security_token

    @property
    def schema(self) -> Schema:
        return self.org.schema

    @property
    def api_usage(self) -> tuple[int, int]:
        """(used, maximum) of the daily API allocation."""
        return self._usage.used, self._usage.maximum

    def issue_token(self) -> str:
        """A valid access token for the integration user, without an HTTP call."""
        return self._tokens.issue(self.org.running_user_id)

    # -- JWT bearer

    def register_jwt_key(self, public_key_pem: bytes) -> None:
        """Accept RS256 assertions signed by the private half of this key."""
        self._app.jwt_public_keys.append(public_key_pem)

    @property
    def jwt_private_key_pem(self) -> bytes:
        """A private key (PEM) whose assertions the sandbox accepts (made once per process)."""
        private_pem, public_pem = _jwt_key_pair()
        if public_pem not in self._app.jwt_public_keys:
            self.register_jwt_key(public_pem)
        return private_pem

    # -- failure injection

    def fail_next(
        self,
        n: int = 1,
        *,
        status: int = 503,
        error_code: str = "SERVER_UNAVAILABLE",
        path_contains: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        """Fail the next `n` REST requests (or the next `n` whose path contains `path_contains`,
        which may target `/services/oauth2/token`) with `status` and a Salesforce error body;
        `retry_after` adds a Retry-After header."""
        self._faults.fail_next(
            n,
            status=status,
            error_code=error_code,
            path_contains=path_contains,
            retry_after=retry_after,
        )

    def reject_writes(
        self,
        rule: Mapping[str, str] | Callable[[str, str | None, Mapping[str, Any]], str | None],
        *,
        times: int | None = 1,
    ) -> None:
        """Fail writes to some records with a per-record error code, `times` times per record
        (None: always). `rule` maps record ids to codes (`{id: "UNABLE_TO_LOCK_ROW"}`), or is a
        predicate `(object_name, record_id or None for a create, fields) -> code or None`."""
        decide: WritePredicate = by_record_id(rule) if isinstance(rule, Mapping) else rule
        self._faults.reject_writes(decide, times=times)

    def expire_tokens(self) -> None:
        """Invalidate every issued token: the next REST call gets 401 INVALID_SESSION_ID."""
        self._tokens.expire_all()

    def set_api_limit(self, *, max: int | None = None, used: int | None = None) -> None:
        """Set the daily API allocation and/or how much of it is used."""
        self._usage.set(maximum=max, used=used)

    def set_bulk_job_seconds(self, seconds: float | None) -> None:
        """Bulk query jobs created from now on complete `seconds` of wall time after creation
        (None: on their second status call)."""
        self._bulk_jobs.seconds = seconds

    def clear_faults(self) -> None:
        """Drop every pending injected failure."""
        self._faults.clear()

    def garble(self, record_id: str, field_name: str, wire: Any) -> None:
        """Serve `wire` as the record's `field_name` whatever the field's type (e.g. text in a
        number), as a record damaged by a broken integration; `org.update` repairs it."""
        with self.org.lock:
            record = self.org.lookup(record_id)
            if record is None:
                raise KeyError(record_id)
            record[field_name] = Garbled(wire)


@functools.cache
def _jwt_key_pair() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private_pem, public_pem
