"""Who may reach `okrsync serve`: the status page shows every rep's numbers, so it is either on
loopback only or behind `serve.auth_token`.

Rules on the built `Settings`, run by `rules.check_rules`; each message says what to write.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from syncer.config.models import Settings
from syncer.config.violations import Violation

MIN_TOKEN_LENGTH = 16  # a guessable token is no protection; `openssl rand -hex 32` gives 64
TOKEN_VARIABLE = "OKRSYNC_SERVE_TOKEN"


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost: addresses no other machine can reach."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:  # a host name, or "" (every interface): reachable from elsewhere
        return False


def check_serve_access(settings: Settings) -> Iterator[Violation]:
    serve = settings.serve
    if serve.auth_token is None:
        if not is_loopback(serve.host):
            yield Violation(
                ("serve", "host"),
                f"serve.host `{serve.host}` lets other machines read every rep's numbers without a "
                f"password: set serve.auth_token: ${{{TOKEN_VARIABLE}}}, or host: 127.0.0.1",
            )
        return
    length = len(serve.auth_token.get_secret_value())
    if length < MIN_TOKEN_LENGTH:
        # Never quote the token: only its length.
        what = "is empty" if length == 0 else f"has {length} characters"
        yield Violation(
            ("serve", "auth_token"),
            f"serve.auth_token {what}: use at least {MIN_TOKEN_LENGTH} random characters "
            "(e.g. `openssl rand -hex 32`)",
        )
