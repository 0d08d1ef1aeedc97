"""Access tokens the sandbox issued: who they act for, and when they stop working.

A session ends after `ttl` without use (Salesforce's session timeout, 2 h by default; §1.7), or
when a test calls `expire_all`. Time is the sandbox clock, so tests expire tokens by advancing it.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sandbox.salesforce.clock import SandboxClock

DEFAULT_TOKEN_TTL = timedelta(hours=2)


@dataclass(slots=True)
class _Session:
    user_id: str
    last_used: datetime


class TokenStore:
    """Issued tokens; thread-safe."""

    def __init__(self, clock: SandboxClock, *, org_id: str, ttl: timedelta = DEFAULT_TOKEN_TTL) -> None:
        self._clock = clock
        self._org_id = org_id
        self.ttl = ttl
        self._lock = threading.Lock()
        self._sessions: dict[str, _Session] = {}

    def issue(self, user_id: str) -> str:
        """A new token acting for `user_id`, shaped like a Salesforce session id (`00D…!AQ…`)."""
        token = f"{self._org_id[:15]}!AQ{secrets.token_urlsafe(72)}"
        with self._lock:
            self._sessions[token] = _Session(user_id, self._clock.now())
        return token

    def user_for(self, token: str) -> str | None:
        """The user a live token acts for (and it counts as a use), or None."""
        now = self._clock.now()
        with self._lock:
            session = self._sessions.get(token)
            if session is None:
                return None
            if now - session.last_used > self.ttl:
                del self._sessions[token]
                return None
            session.last_used = max(session.last_used, now)
            return session.user_id

    def expire_all(self) -> None:
        """End every session: the next call with any issued token gets 401 INVALID_SESSION_ID."""
        with self._lock:
            self._sessions.clear()
