"""Salesforce failures → okrsync errors: `translated()` at every call site, `classify()` the table.

`classify()` and `classify_token()` are pure: they never refresh, sleep or log. Messages carry the
source, operation, status, Salesforce error code and message text; never headers, tokens, query
strings or record bodies.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import requests
from simple_salesforce.exceptions import SalesforceError

from connectors.transport import Endpoint, connection_failed, unreachable
from syncer.errors import (
    AuthExpiredError,
    AuthFailedError,
    CrmError,
    QuotaExhaustedError,
    RejectedRequestError,
    TransientCrmError,
)
from syncer.retry import clean_message, failure_text, retry_after_seconds

# Plus every 5xx (docs/crm-apis.md §1.7, docs/architecture.md "Talking to CRMs").
TRANSIENT_STATUSES = frozenset({408, 429})
QUOTA_CODES = frozenset({"REQUEST_LIMIT_EXCEEDED"})  # 403: the org's API allocation (docs/crm-apis.md §1.7)
# The requests session trusts `ca_bundle` over REQUESTS_CA_BUNDLE (client.BundleSession).
TRUST_FIX = "set ca_bundle to the PEM of the CA that signs the server's certificate"


def classify(
    source: str, status: int, *, code: str | None, text: str, headers: Mapping[str, str] | None = None
) -> CrmError:
    """The okrsync error for one failed Salesforce response (status, errorCode, headers).

    `text` says what failed ("query failed: <Salesforce message>").
    """
    if status == 401:
        return AuthExpiredError(text, source=source, status=status, code=code)
    if status == 403 and code in QUOTA_CODES:
        return QuotaExhaustedError(
            f"{text}; the org's daily API allocation is used up, the source stops for this run",
            source=source,
            status=status,
            code=code,
        )
    if status in TRANSIENT_STATUSES or status >= 500:
        retry_after = retry_after_seconds(headers or {})
        return TransientCrmError(text, source=source, status=status, code=code, retry_after=retry_after)
    # 300 (several records match an external id), 400 MALFORMED_QUERY / INVALID_FIELD /
    # INVALID_TYPE, other 403s (permissions), 404, 405, 412: the same request fails again.
    return RejectedRequestError(text, source=source, status=status, code=code)


def classify_token(
    source: str, *, status: int, error: str | None, description: str | None, headers: Mapping[str, str]
) -> CrmError:
    """The error for a refused token request: 400/401/403 means the credentials are wrong (§1.8)."""
    if status in (400, 401, 403):
        detail = ": ".join(part for part in (error, clean_message(description or "")) if part)
        return AuthFailedError(
            f"token request refused ({detail or 'no reason given'}); "
            "check the connected app, its credentials and auth.method",
            source=source,
            status=status,
            code=error,
        )
    return classify(
        source, status, code=error, text=failure_text("token request", description), headers=headers
    )


def endpoint(url: str, setting: str = "instance_url") -> Endpoint:
    """Where requests go, for transport failures' texts: the configured URL and its YAML key."""
    return Endpoint(url, setting, trust_fix=TRUST_FIX)


@contextmanager
def translated(
    source: str, operation: str, *, to: Endpoint, headers: Mapping[str, str] | None = None
) -> Iterator[None]:
    """Turn simple-salesforce and requests exceptions into okrsync errors.

    `to` is where the request goes (named in transport failures). `headers` is read after a
    failure: the caller's view of the last response's headers, since simple-salesforce's
    exceptions carry the status and body but not the headers (§2.2).
    """
    try:
        yield
    except SalesforceError as exc:
        code, message = error_detail(exc.content)
        raise classify(
            source, exc.status, code=code, text=failure_text(operation, message), headers=headers
        ) from exc
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
        # No HTTP answer (DNS, refused, TLS, proxy, timeout, reset): the shared rules decide.
        raise unreachable(connection_failed(exc, to), source=source, operation=operation) from exc
    except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema) as exc:
        raise RejectedRequestError(f"{operation} failed: {type(exc).__name__}", source=source) from exc
    except requests.exceptions.RequestException as exc:  # a garbled or cut-off body
        raise TransientCrmError(f"{operation} failed: {type(exc).__name__}", source=source) from exc


def error_detail(content: object) -> tuple[str | None, str]:
    """(errorCode, message) of a REST error body: a JSON list of {errorCode, message} (§1.7)."""
    first = content[0] if isinstance(content, list) and content else content
    if isinstance(first, Mapping):
        code = first.get("errorCode")
        message = first.get("message")
        return (code if isinstance(code, str) else None, message if isinstance(message, str) else "")
    return None, ""  # an HTML or text body (a proxy, an outage page): not worth quoting
