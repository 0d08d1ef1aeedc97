"""What a `store:` URL must be: a SQLite file or a PostgreSQL database, parsable, not in memory.

Only a URL of another kind is quoted (the loader shows `${NAME}` for what came from a variable).
"""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

PREFIXES = ("sqlite:///", "postgresql+psycopg://", "postgresql://")
EXAMPLES = "use sqlite:///okrsync.db or postgresql+psycopg://user@host/db"


def store_url_problem(value: str) -> str | None:
    """Why `value` cannot be okrsync's store, or None."""
    if value.strip() in ("sqlite://", "sqlite:"):
        return _memory_problem()
    if not value.startswith(PREFIXES):
        return f"'{value}' is not a store URL: {EXAMPLES}"
    try:
        url = make_url(value)
        port = url.port
    except (ArgumentError, ValueError):
        return f"the store URL cannot be read (is the port a number?): {EXAMPLES}"
    if port is not None and not 0 < port < 65536:
        return f"the store URL's port {port} is not a port (1-65535)"
    if url.get_backend_name() == "sqlite" and _in_memory(url):
        return _memory_problem()
    return None


def password(value: str) -> str | None:
    """The password the URL carries, if any (None when it cannot be read)."""
    try:
        return make_url(value).password
    except (ArgumentError, ValueError):
        return None


def _in_memory(url: URL) -> bool:
    database = url.database or ""
    return (
        not database
        or database.startswith((":memory:", "file::memory:"))
        or ("mode=memory" in str(url.query.get("mode", "")) or "mode=memory" in database)
    )


def _memory_problem() -> str:
    return (
        "an in-memory SQLite store forgets the cursors, the ledger and the history at every run "
        "(and would write everything again): use a file, like sqlite:///okrsync.db"
    )
