"""The OAuth 2.0 token endpoint: client credentials, username-password and JWT bearer grants.

Responses and errors as in docs/crm-apis.md §1.8: a token JSON with the sandbox's own https URL as
`instance_url`, or 400 `{"error", "error_description"}`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import threading
from dataclasses import dataclass, field
from typing import Any

import jwt

from sandbox.salesforce.org import Org
from sandbox.salesforce.tokens import TokenStore

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
LOGIN_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")
INVALID_CLIENT = (400, {"error": "invalid_client", "error_description": "invalid client credentials"})
AUTH_FAILURE = (400, {"error": "invalid_grant", "error_description": "authentication failure"})
INVALID_ASSERTION = (400, {"error": "invalid_grant", "error_description": "invalid assertion"})


@dataclass(slots=True)
class ConnectedApp:
    """The connected app and login the sandbox accepts."""

    client_id: str
    client_secret: str
    instance_url: str
    username: str
    password: str
    security_token: str
    jwt_public_keys: list[bytes] = field(default_factory=list)  # PEM keys whose RS256 assertions pass


class OAuthEndpoint:
    """Answers `POST /services/oauth2/token`."""

    def __init__(self, app: ConnectedApp, tokens: TokenStore, org: Org) -> None:
        self.app, self._tokens, self._org = app, tokens, org
        self._lock = threading.Lock()

    def register_jwt_key(self, public_key_pem: bytes) -> None:
        with self._lock:
            self.app.jwt_public_keys.append(public_key_pem)

    def token(self, form: dict[str, str], authorization: str | None) -> tuple[int, dict[str, Any]]:
        """(status, JSON body) for a token request."""
        grant = form.get("grant_type", "")
        client_id, client_secret = _client_credentials(form, authorization)
        if grant == "client_credentials":
            if (client_id, client_secret) != (self.app.client_id, self.app.client_secret):
                return INVALID_CLIENT
            return self._issue(self._org.running_user_id, scope=None)
        if grant == "password":
            if (client_id, client_secret) != (self.app.client_id, self.app.client_secret):
                return INVALID_CLIENT
            expected = self.app.password + self.app.security_token
            if (
                form.get("username", "").lower() != self.app.username.lower()
                or form.get("password") != expected
            ):
                return AUTH_FAILURE
            return self._issue(self._org.running_user_id, scope=None)
        if grant == JWT_GRANT:
            return self._jwt(form.get("assertion", ""))
        return 400, {"error": "unsupported_grant_type", "error_description": "grant type not supported"}

    def _jwt(self, assertion: str) -> tuple[int, dict[str, Any]]:
        audiences = [*LOGIN_AUDIENCES, self.app.instance_url]
        with self._lock:
            keys = list(self.app.jwt_public_keys)
        claims = None
        for key in keys:
            try:
                claims = jwt.decode(
                    assertion, key, algorithms=["RS256"], audience=audiences,
                    options={"require": ["iss", "sub", "aud", "exp"]},
                )  # fmt: skip
                break
            except jwt.InvalidAudienceError:
                return 400, {"error": "invalid_grant", "error_description": "audience is invalid"}
            except jwt.PyJWTError:
                continue
        if claims is None:
            return INVALID_ASSERTION
        if claims["iss"] != self.app.client_id:
            return 400, {"error": "invalid_client_id", "error_description": "client identifier invalid"}
        users = self._org.find_ids("User", "Username", str(claims["sub"]))
        active = [u for u in users if (self._org.get("User", u) or {}).get("IsActive")]
        if not active:
            return 400, {"error": "invalid_grant", "error_description": "user hasn't approved this consumer"}
        return self._issue(active[0], scope="api")

    def _issue(self, user_id: str, *, scope: str | None) -> tuple[int, dict[str, Any]]:
        token = self._tokens.issue(user_id)
        issued_at = str(int(self._org.clock.now().timestamp() * 1000))
        identity = f"{self.app.instance_url}/id/{self._org.org_id}/{user_id}"
        signature = hmac.new(self.app.client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256)
        body: dict[str, Any] = {
            "access_token": token,
            "signature": base64.b64encode(signature.digest()).decode(),
            "token_format": "opaque",
            "instance_url": self.app.instance_url,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
        }
        if scope:
            body["scope"] = scope
        return 200, body


def _client_credentials(form: dict[str, str], authorization: str | None) -> tuple[str, str]:
    """Client id and secret from the form body, or from HTTP Basic as simple-salesforce sends them."""
    if authorization and authorization.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(authorization.split(" ", 1)[1]).decode()
        except (binascii.Error, UnicodeDecodeError):
            return "", ""
        client_id, _, client_secret = decoded.partition(":")
        return client_id, client_secret
    return form.get("client_id", ""), form.get("client_secret", "")
