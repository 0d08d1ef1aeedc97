"""HubSpot failures → okrsync errors: `translated()` at every call site, `classify()` the table.

Each hubspot-api-client sub-package defines its own `ApiException` (docs/crm-apis.md §4.4), so the
boundary catches every one of them. `classify()` is pure: it never refreshes, sleeps or logs.
Messages carry the source, operation, status, HubSpot category; never headers, tokens or bodies.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import urllib3
from hubspot.crm.objects.exceptions import ApiException as ObjectsApiException
from hubspot.crm.owners.exceptions import ApiException as OwnersApiException
from hubspot.crm.pipelines.exceptions import ApiException as PipelinesApiException
from hubspot.crm.properties.exceptions import ApiException as PropertiesApiException
from hubspot.crm.schemas.exceptions import ApiException as SchemasApiException
from hubspot.oauth.exceptions import ApiException as OAuthApiException

from connectors.transport import Endpoint, exception_chain, unreachable
from connectors.transport import classify as classify_transport
from syncer.errors import (
    AuthExpiredError,
    CrmError,
    QuotaExhaustedError,
    RejectedRequestError,
    TransientCrmError,
)
from syncer.retry import failure_text, retry_after_seconds

API_EXCEPTIONS = (
    ObjectsApiException,
    OwnersApiException,
    PipelinesApiException,
    PropertiesApiException,
    SchemasApiException,
    OAuthApiException,
)
# 423 Locked (wait ≥ 2 s), 477 migration, 408 timeout: all worth another try (docs/crm-apis.md §3.3).
TRANSIENT_STATUSES = frozenset({408, 423, 429, 477})
# Seconds to wait on a 429 without Retry-After, by policy (docs/crm-apis.md §3.7, the Node SDK's values).
POLICY_WAIT_SECONDS = {"TEN_SECONDLY_ROLLING": 10.0, "SECONDLY": 1.0}
LOCKED_WAIT_SECONDS = 2.0  # 423: "the lock lasts 2 s" (docs/crm-apis.md §3.3)
# Retry-After above this is read as milliseconds: HubSpot documents both units (§3.7).
RETRY_AFTER_MS_THRESHOLD = 1_000.0
# hubspot-api-client trusts the system's CA store, which OpenSSL lets SSL_CERT_FILE replace.
TRUST_FIX = (
    "add the CA that signs the server's certificate to the system's trust store, or point SSL_CERT_FILE at it"
)


def classify(source: str, status: int, *, body: Any, headers: Mapping[str, str], operation: str) -> CrmError:
    """The okrsync error for one failed HubSpot response (status, JSON body, headers)."""
    fields = body if isinstance(body, Mapping) else {}
    category = _text(fields.get("category")) or _text(fields.get("errorType"))
    text = failure_text(operation, _text(fields.get("message")))
    if status == 401:
        return AuthExpiredError(text, source=source, status=status, code=category)
    if status == 429 and fields.get("policyName") == "DAILY":
        return QuotaExhaustedError(
            f"{text}; the portal's daily API limit is used up (it resets at the portal's midnight), "
            "the source stops for this run",
            source=source,
            status=status,
            code="DAILY",
        )
    if status in TRANSIENT_STATUSES or status >= 500:
        wait = retry_after_seconds(headers, millis_from=RETRY_AFTER_MS_THRESHOLD)
        if wait is None and status == 429:
            wait = POLICY_WAIT_SECONDS.get(_text(fields.get("policyName")) or "", 1.0)
        if wait is None and status == 423:
            wait = LOCKED_WAIT_SECONDS
        code = _text(fields.get("policyName")) or category
        return TransientCrmError(text, source=source, status=status, code=code, retry_after=wait)
    return RejectedRequestError(text, source=source, status=status, code=category)


def parse_body(raw: object) -> Any:
    """The JSON of an error or response body (bytes or str); None when it is not JSON."""
    try:
        return json.loads(raw) if isinstance(raw, (bytes, str)) and raw else None
    except ValueError:
        return None


def endpoint(base_url: str) -> Endpoint:
    """Where requests go, for transport failures' texts: the configured base_url."""
    return Endpoint(base_url, "base_url", trust_fix=TRUST_FIX)


@contextmanager
def translated(source: str, operation: str, *, to: Endpoint) -> Iterator[None]:
    """Turn every hubspot sub-package's ApiException and urllib3 errors into okrsync errors.

    `to` is where the request goes, named when no HTTP answer came back (the shared rules in
    connectors/transport.py decide whether that is worth another try).
    """
    try:
        yield
    except API_EXCEPTIONS as exc:
        if not exc.status:
            raise _no_answer(exc, source, operation, to) from exc
        headers = dict(exc.headers or {})
        raise classify(
            source, exc.status, body=parse_body(exc.body), headers=headers, operation=operation
        ) from exc
    except AttributeError as exc:
        wrapped = _unanswered_api_exception(exc)
        if wrapped is None:
            raise
        raise _no_answer(wrapped, source, operation, to) from wrapped
    except urllib3.exceptions.HTTPError as exc:  # no answer: DNS, refused, timeouts, resets…
        failure = classify_transport(exc, to)
        if failure is not None:
            raise unreachable(failure, source=source, operation=operation) from exc
        raise TransientCrmError(f"{operation} failed: {type(exc).__name__}", source=source) from exc


def _no_answer(exc: Exception, source: str, operation: str, to: Endpoint) -> CrmError:
    """An ApiException of status 0: the client's own wrapper for an SSL error (rest.py), or for a
    request it could not prepare (retried as before: its text is the client's, flattened)."""
    failure = classify_transport(exc, to)
    if failure is not None:
        return unreachable(failure, source=source, operation=operation)
    return TransientCrmError(failure_text(operation, getattr(exc, "reason", None)), source=source)


def _unanswered_api_exception(exc: AttributeError) -> Exception | None:
    """The status-0 ApiException behind `exc`, if any. hubspot-api-client's api_client decodes the
    body of every ApiException it re-raises; a status-0 one has no body, so an SSL error reaches
    the caller as "'NoneType' object has no attribute 'decode'" with the real error as context."""
    return next(
        (e for e in exception_chain(exc) if isinstance(e, API_EXCEPTIONS) and not e.status),
        None,
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
