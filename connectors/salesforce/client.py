"""Authentication and the simple-salesforce client of one org: every HTTP call goes through here.

okrsync requests the OAuth token itself from the org's (or login host's) token endpoint and hands
it to `Salesforce(session_id=…)`, because simple-salesforce only logs in to `*.salesforce.com`
(docs/crm-apis.md §2.4). The only module that calls `.get_secret_value()`. Maps no records.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, TypeVar

import jwt
import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.util import Usage

from connectors.salesforce.errors import classify_token, endpoint, translated
from connectors.salesforce.mapping import QueryResult, to_query_result
from connectors.salesforce.soql import query_options
from syncer.config.models import AccessToken, ClientCredentials, JwtBearer, Password, SalesforceSource
from syncer.contract import ApiUsage
from syncer.errors import AuthFailedError, QuotaExhaustedError, TransientCrmError
from syncer.retry import crm_calls, reauthenticated

if TYPE_CHECKING:
    from requests.sessions import _Cert, _Settings, _TextMapping, _Verify
    from tenacity import RetryCallState

log = logging.getLogger(__name__)
T = TypeVar("T")

TOKEN_PATH = "/services/oauth2/token"  # docs/crm-apis.md §1.8
JWT_LIFETIME = timedelta(minutes=3)  # what Salesforce expects of `exp` (docs/crm-apis.md §1.8)
# (connect, read) seconds; the org itself gives up on a REST call after 10 minutes (§1.6).
REQUEST_TIMEOUT = (10.0, 600.0)


class BundleSession(requests.Session):
    """A session that trusts the configured CA bundle even when REQUESTS_CA_BUNDLE is set.

    requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override a session's `verify` for every
    request (docs/architecture.md "Talking to CRMs"); proxies and the rest of the environment still apply.
    """

    def __init__(self, ca_bundle: str | None) -> None:
        super().__init__()
        self.ca_bundle = ca_bundle
        if ca_bundle is not None:
            self.verify = ca_bundle

    def merge_environment_settings(
        self,
        url: str | bytes | None,
        proxies: _TextMapping | None,
        stream: bool | None,
        verify: _Verify | None,
        cert: _Cert | None,
    ) -> _Settings:
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if self.ca_bundle is not None and verify in (None, True):
            settings["verify"] = self.ca_bundle
        return settings


def token_request(source: SalesforceSource, *, name: str) -> tuple[str, dict[str, str]] | None:
    """(token URL, form) for the configured OAuth flow; None for a static access token."""
    auth = source.auth
    match auth:
        case ClientCredentials():
            form = {
                "grant_type": "client_credentials",
                "client_id": auth.client_id.get_secret_value(),
                "client_secret": auth.client_secret.get_secret_value(),
            }
            return source.instance_url.rstrip("/") + TOKEN_PATH, form
        case JwtBearer():
            form = {
                "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                "assertion": _assertion(auth, name=name),
            }
            return auth.login_url.rstrip("/") + TOKEN_PATH, form
        case Password():
            return auth.login_url.rstrip("/") + TOKEN_PATH, _password_form(auth)
        case AccessToken():
            return None


def _assertion(auth: JwtBearer, *, name: str) -> str:
    """The RS256 JWT of the bearer flow: iss = consumer key, sub = user, aud = login host (§1.8)."""
    try:
        with open(auth.private_key_file, encoding="utf-8") as key_file:
            key = key_file.read()
    except OSError as exc:
        raise AuthFailedError(
            f"cannot read auth.private_key_file ({type(exc).__name__}); check the path", source=name
        ) from None
    claims = {
        "iss": auth.client_id.get_secret_value(),
        "sub": auth.username,
        "aud": auth.login_url.rstrip("/"),
        "exp": int((datetime.now(UTC) + JWT_LIFETIME).timestamp()),
    }
    return jwt.encode(claims, key, algorithm="RS256")


def _password_form(auth: Password) -> dict[str, str]:
    # The OAuth password grant wants the security token appended to the password.
    token = auth.security_token.get_secret_value() if auth.security_token else ""
    form = {
        "grant_type": "password",
        "username": auth.username,
        "password": auth.password.get_secret_value() + token,
    }
    if auth.client_id:
        form["client_id"] = auth.client_id.get_secret_value()
    if auth.client_secret:
        form["client_secret"] = auth.client_secret.get_secret_value()
    return form


def static_token(source: SalesforceSource) -> str | None:
    return source.auth.access_token.get_secret_value() if isinstance(source.auth, AccessToken) else None


class OrgClient:
    """One org's authenticated client: each call counted, retried while transient, and replayed once
    after re-authenticating on a 401 (docs/architecture.md "Talking to CRMs")."""

    def __init__(self, source: str, config: SalesforceSource, *, sleep: Callable[[float], None]) -> None:
        self.source = source
        self._config = config
        self._sleep = sleep
        self._session = BundleSession(config.ca_bundle)
        self._instance = endpoint(config.instance_url)
        self._session.hooks["response"].append(self._remember_headers)
        self._last_headers: dict[str, str] = {}
        self._sf: Salesforce | None = None
        self.user_id: str | None = None  # the integration user, once a token names it
        self.org_id: str | None = None  # the organization, once a token names it
        self._calls = 0
        self._counted = 0  # calls that count against the org's allocation (not token requests)
        self._retries = 0
        self._org: Usage | None = None

    @reauthenticated
    def call(self, operation: str, request: Callable[[Salesforce], T]) -> T:
        """Run one request; a second 401 in a row raises AuthExpiredError."""
        sf = self._connected()
        for attempt in crm_calls(sleep=self._sleep, on_retry=self._count_retry):
            self._check_budget(operation)
            with attempt, translated(self.source, operation, to=self._instance, headers=self._last_headers):
                self._calls += 1
                self._counted += 1
                result = request(sf)
                # simple-salesforce parses Sforce-Limit-Info into api_usage (docs/crm-apis.md §1.6).
                usage = sf.api_usage.get("api-usage")
                self._org = usage if isinstance(usage, Usage) else self._org
                return result
        raise AssertionError("unreachable: crm_calls re-raises the last error")

    def forget_token(self) -> None:
        self._sf, self._retries = None, self._retries + 1

    def iter_query_pages(self, soql: str, *, include_deleted: bool) -> Iterator[QueryResult]:
        """Each page of a query as it arrives: query, then queryMore until done (§1.1, §2.1)."""
        _, pages = self.open_query(soql, include_deleted=include_deleted)
        yield from pages

    def open_query(self, soql: str, *, include_deleted: bool) -> tuple[int, Iterator[QueryResult]]:
        """(totalSize, pages): runs the query now; queryMore runs as the pages are read.

        `totalSize` counts every row of the query, not of the first page (§1.1): what a
        `SELECT COUNT()` of the same statement would say, known without another call.
        """
        options = query_options(self._config.page_size)
        page, total = self.call("query", _query(self.source, soql, include_deleted, options))
        return total, self._iter_more(page, options)

    def _iter_more(self, page: QueryResult, options: dict[str, str]) -> Iterator[QueryResult]:
        """`page`, then each queryMore page; the next page is requested before this one is handed on.

        While the caller stores a page, the org prepares the next: the pull then takes about as long
        as the reading alone (issue #14). One page ahead at most, so two pages are held at once; a
        failure of the page ahead is raised when that page is asked for, as if it were read then.
        A caller that stops early (a signal, a failed store) leaves the page ahead behind: it is
        read on a daemon thread, so not even its retry waits hold the process up.
        """
        while True:
            following = page.next_url
            ahead = None if following is None else _Ahead(self._reader(following, options))
            yield page
            if ahead is None:
                return
            page = ahead.result()

    def _reader(self, next_url: str, options: dict[str, str]) -> Callable[[], QueryResult]:
        return lambda: self.call("queryMore", _query_more(self.source, next_url, options))

    def usage(self) -> ApiUsage:
        org = self._org
        return ApiUsage(self._calls, self._retries, org.used if org else None, org.total if org else None)

    def close(self) -> None:
        self._session.close()

    def _check_budget(self, operation: str) -> None:
        """QuotaExhaustedError before a call that would pass this run's share of the daily allocation.

        The allocation is read from the last Sforce-Limit-Info (§1.6); token requests do not count
        against it. Nothing is known before the first response, so the first call always goes.
        """
        org = self._org
        if org is None or not org.total:
            return
        allowed = int(org.total * self._config.api_budget_share)
        if self._counted < allowed and org.used < org.total:
            return
        raise QuotaExhaustedError(
            f"{operation} not sent: this run used {self._counted} API calls, its budget is {allowed} "
            f"({self._config.api_budget_share:.0%} of the org's daily {org.total}; the org has used "
            f"{org.used}); the source stops here and resumes next run. Raise api_budget_share to allow more",
            source=self.source,
            code="API_BUDGET_SPENT",
        )

    def _connected(self) -> Salesforce:
        if self._sf is None:
            token = static_token(self._config) or self._fetch_token()
            self._sf = Salesforce(
                instance_url=self._config.instance_url,
                session_id=token,
                session=self._session,
                version=self._config.api_version,
                parse_float=Decimal,  # money stays exact
                object_pairs_hook=None,  # plain dicts: json's C decoder, not an OrderedDict per row
            )
        return self._sf

    def _fetch_token(self) -> str:
        request = token_request(self._config, name=self.source)
        if request is None:
            raise AssertionError("a static token needs no token request")
        url, form = request
        # The client-credentials flow asks the org itself; the others the login host (§1.8).
        setting = "instance_url" if isinstance(self._config.auth, ClientCredentials) else "auth.login_url"
        to = endpoint(url, setting)
        for attempt in crm_calls(sleep=self._sleep, on_retry=self._count_retry):
            with attempt, translated(self.source, "token request", to=to, headers=self._last_headers):
                self._calls += 1
                response = self._session.post(url, data=form, timeout=REQUEST_TIMEOUT)
                return self._read_token(response)
        raise AssertionError("unreachable: crm_calls re-raises the last error")

    def _read_token(self, response: requests.Response) -> str:
        try:
            body: object = response.json()
        except ValueError:
            body = None
        fields = body if isinstance(body, dict) else {}
        token = fields.get("access_token")
        if response.status_code == 200 and isinstance(token, str) and token:
            identity = fields.get("id")  # …/id/{org id}/{user id} (docs/crm-apis.md §1.8)
            parts = identity.rstrip("/").split("/") if isinstance(identity, str) else []
            self.user_id = parts[-1] if parts else None
            self.org_id = parts[-2] if len(parts) >= 2 and parts[-3:-2] == ["id"] else None
            return token
        error, description = fields.get("error"), fields.get("error_description")
        raise classify_token(
            self.source,
            status=response.status_code if response.status_code != 200 else 400,
            error=error if isinstance(error, str) else None,
            description=description if isinstance(description, str) else "the response has no access_token",
            headers=self._last_headers,
        )

    def refused(self, operation: str) -> str:
        if isinstance(self._config.auth, AccessToken):
            return (
                f"{operation} failed: the access token is invalid or expired; "
                "set a fresh token in auth.access_token"
            )
        return f"{operation} failed: the org refused a freshly issued token; check the connected app's session policy"

    def _count_retry(self, state: RetryCallState) -> None:
        self._retries += 1

    def _remember_headers(self, response: requests.Response, *args: object, **kwargs: object) -> None:
        # simple-salesforce's exceptions carry no headers; classify() needs Retry-After.
        self._last_headers.clear()
        retry_after = response.headers.get("Retry-After")
        if retry_after is not None:
            self._last_headers["Retry-After"] = retry_after


class _Ahead:
    """One queryMore page read on a daemon thread; `result()` waits for it (a signal still lands)."""

    def __init__(self, read: Callable[[], QueryResult]) -> None:
        self._read = read
        self._done = threading.Event()
        self._page: QueryResult | None = None
        self._error: BaseException | None = None
        threading.Thread(target=self._run, name="okrsync-queryMore", daemon=True).start()

    def _run(self) -> None:
        try:
            self._page = self._read()
        except BaseException as exc:  # handed to the reader, who raises it where it asks for the page
            self._error = exc
        finally:
            self._done.set()

    def result(self) -> QueryResult:
        self._done.wait()
        if self._error is not None:
            raise self._error
        assert self._page is not None
        return self._page


def _query(
    source: str, soql: str, include_deleted: bool, options: dict[str, str]
) -> Callable[[Salesforce], tuple[QueryResult, int]]:
    def run(sf: Salesforce) -> tuple[QueryResult, int]:
        # queryAll also returns deleted rows (IsDeleted = true), so deletes reach the store (§1.1).
        raw = sf.query(soql, include_deleted=include_deleted, headers=options, timeout=REQUEST_TIMEOUT)
        page = _page(source, raw)
        total = raw.get("totalSize")
        return page, total if isinstance(total, int) else len(page.rows)

    return run


def _query_more(source: str, next_url: str, options: dict[str, str]) -> Callable[[Salesforce], QueryResult]:
    def run(sf: Salesforce) -> QueryResult:
        raw = sf.query_more(next_url, identifier_is_url=True, headers=options, timeout=REQUEST_TIMEOUT)
        return _page(source, raw)

    return run


def _page(source: str, raw: object) -> QueryResult:
    page = to_query_result(raw)
    if page is None:  # a 200 that is not a query result (a proxy page): worth another try
        raise TransientCrmError("query returned an unreadable page", source=source)
    return page
