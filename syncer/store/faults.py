"""Database failures as `StoreError`s that say what happened and what to do, in one line.

Installed on every store engine (`create_store_engine`), so every command and the worker get
the same message whichever statement failed. Only faults of the store itself are translated
(connection, disk, permissions); a statement the database refuses (`DataError`,
`IntegrityError`) is left to the code that issued it.
"""

from __future__ import annotations

from sqlalchemy import Engine, event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError

from syncer.errors import StoreUnavailableError

# (what SQLite says, what ops should do) — sqlite3 raises OperationalError for all of them.
_SQLITE_FAULTS = (
    ("disk is full", "the store's disk is full: free space, then run again (the failed transaction was rolled back)"),
    ("readonly database", "the store is read-only: give okrsync write access to the file and its directory"),
    ("unable to open database file", "cannot open the store file: check that its directory exists and is writable"),
    ("disk i/o error", "the store's disk failed to read or write: check the disk, then run again"),
    ("database is locked", "another process holds the store locked too long: stop it, or use PostgreSQL"),
    ("file is not a database", "the store file is not a SQLite database: point `store:` at okrsync's file"),
)  # fmt: skip


def shown_url(url: str) -> str:
    """The store URL without its password, for messages (a host from a variable is masked later)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "(a store URL that cannot be read)"


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__


def translate_faults(engine: Engine) -> None:
    """Make `engine` raise StoreUnavailableError for connection, disk and permission faults."""
    url = shown_url(engine.url.render_as_string(hide_password=False))

    def handle_error(context: ExceptionContext) -> None:
        if context.is_pre_ping:
            return  # the pool reconnects by itself
        original = context.original_exception
        if context.is_disconnect:
            raise StoreUnavailableError(
                f"the connection to the store {url} was lost ({first_line(original)}): "
                "run again once the database is back; nothing half-written was kept"
            ) from original
        if not _is_operational(original) and _advice(first_line(original)) is None:
            return
        raise StoreUnavailableError(_message(url, original)) from original

    event.listen(engine, "handle_error", handle_error)


def _is_operational(exc: BaseException) -> bool:
    """sqlite3's and psycopg's OperationalError (and psycopg's AdminShutdown, …), by name:
    syncer imports no driver."""
    return any(cls.__name__ == "OperationalError" for cls in type(exc).__mro__)


def _advice(text: str) -> str | None:
    return next((advice for fragment, advice in _SQLITE_FAULTS if fragment in text.lower()), None)


def _message(url: str, exc: BaseException) -> str:
    text = first_line(exc)
    advice = _advice(text)
    if advice is not None:
        return f"{advice} ({url}: {text})"
    return f"the store {url} failed: {text}; check that the database is up and reachable, then run again"
