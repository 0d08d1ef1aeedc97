"""Bearer tokens: a private-app token, and OAuth access tokens from `POST /oauth/v1/token`
(refresh_token and authorization_code grants; refresh tokens do not rotate).

A missing, unknown or expired token gets 401 INVALID_AUTHENTICATION (docs/crm-apis.md §3.8). OAuth
access tokens live `expires_in` seconds of the sandbox clock (HubSpot: 1,800).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sandbox.hubspot.exchange import HubSpotError, correlation_id
from sandbox.salesforce.clock import SandboxClock

OAUTH_TOKEN_TTL = timedelta(minutes=30)
CREDENTIALS_NOT_FOUND = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find "
    "more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)


@dataclass(frozen=True, slots=True)
class OAuthApp:
    client_id: str
    client_secret: str
    refresh_token: str
    authorization_code: str
    redirect_uri: str


@dataclass(slots=True)
class _Token:
    expires_at: datetime | None  # None: a private-app token, valid until revoked
    oauth: bool


class TokenStore:
    """Issued tokens and the OAuth app; thread-safe."""

    def __init__(self, clock: SandboxClock, app: OAuthApp, *, ttl: timedelta = OAUTH_TOKEN_TTL) -> None:
        self.clock = clock
        self.app = app
        self.ttl = ttl
        self._lock = threading.Lock()
        self._tokens: dict[str, _Token] = {}
        self.private_app_token = self._new_private_token()

    def _new_private_token(self) -> str:
        token = f"pat-na1-{secrets.token_hex(4)}-{secrets.token_hex(2)}-{secrets.token_hex(6)}"
        with self._lock:
            self._tokens[token] = _Token(None, oauth=False)
        return token

    def issue(self) -> str:
        """A fresh OAuth access token."""
        token = f"CO{secrets.token_urlsafe(30)}"
        with self._lock:
            self._tokens[token] = _Token(self.clock.now() + self.ttl, oauth=True)
        return token

    def check(self, authorization: str | None) -> bool:
        """Whether the request is authorized; True for an OAuth token (no daily headers then). 401 otherwise."""
        scheme, _, token = (authorization or "").partition(" ")
        with self._lock:
            entry = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if entry is None:
            raise HubSpotError(401, CREDENTIALS_NOT_FOUND, category="INVALID_AUTHENTICATION")
        if entry.expires_at is not None and self.clock.now() >= entry.expires_at:
            ago = int((self.clock.now() - entry.expires_at).total_seconds())
            message = f"The OAuth token used to make this call expired {ago} second(s) ago."
            raise HubSpotError(401, message, category="INVALID_AUTHENTICATION")
        return entry.oauth

    def expire_all(self, *, private_app: bool) -> None:
        """Expire every OAuth access token (and revoke the private-app token when asked: a new one is made)."""
        now = self.clock.now()
        with self._lock:
            for token, entry in list(self._tokens.items()):
                if entry.oauth:
                    entry.expires_at = min(entry.expires_at or now, now)
                elif private_app:
                    del self._tokens[token]
        if private_app:
            self.private_app_token = self._new_private_token()

    def grant(self, form: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        """The token endpoint: (status, body)."""
        app = self.app
        problem = self._grant_problem(form)
        if problem is not None:
            status, message = problem
            return 400, {"status": status, "message": message, "correlationId": correlation_id()}
        body = {"token_type": "bearer", "refresh_token": app.refresh_token, "access_token": self.issue(),
                "expires_in": int(self.ttl.total_seconds())}  # fmt: skip
        return 200, body

    def _grant_problem(self, form: Mapping[str, str]) -> tuple[str, str] | None:
        app = self.app
        grant = form.get("grant_type")
        if grant not in ("refresh_token", "authorization_code"):
            return "BAD_GRANT_TYPE", "missing or unknown grant type"
        if form.get("client_id") != app.client_id:
            return "BAD_CLIENT_ID", "missing or unknown client id"
        if form.get("client_secret") != app.client_secret:
            return "BAD_CLIENT_SECRET", "missing or invalid client secret"
        if grant == "refresh_token" and form.get("refresh_token") != app.refresh_token:
            return "BAD_REFRESH_TOKEN", "missing or unknown refresh token"
        if grant == "authorization_code" and form.get("code") != app.authorization_code:
            return "BAD_AUTH_CODE", "missing or unknown auth code"
        if grant == "authorization_code" and form.get("redirect_uri") != app.redirect_uri:
            return "BAD_REDIRECT_URI", "redirect uri does not match the one used to get the code"
        return None
