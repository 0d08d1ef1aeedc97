"""Database failures as `StoreError`s that say what happened and what to do, in one line.

Installed on every store engine (`create_store_engine`), so every command and the worker get
the same message whichever statement failed. Every driver error leaves the store as a
`StoreError`: a dropped connection as StoreConnectionLostError and a serialization failure,
deadlock or SQLite lock as StoreConflictError (both transient: `syncer.store.transaction` runs
the transaction again), a disk, permission or server fault as StoreUnavailableError, a value or
row the database refuses (`DataError`, `IntegrityError`) as StoreDataError, anything else as
StoreError. Errors raised by SQLAlchemy itself, before any driver call, are translated by
`syncer.store.transaction`.
"""

from __future__ import annotations

from sqlalchemy import Engine, event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError, DataError, DBAPIError, IntegrityError

from syncer.errors import (
    StoreConflictError,
    StoreConnectionLostError,
    StoreDataError,
    StoreError,
    StoreUnavailableError,
)

# SQLSTATEs of a transaction the server aborted so that it can be run again: serialization
# failure, deadlock; and of a connection it closed or refused on the way down (class 08,
# admin/crash shutdown, cannot connect now).
_CONFLICT_STATES = frozenset({"40001", "40P01"})
_SHUTDOWN_STATES = frozenset({"57P01", "57P02", "57P03"})
_LOCKED = ("database is locked", "database table is locked")

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
        error = translate(url, context.sqlalchemy_exception, disconnect=context.is_disconnect)
        if error is not None:
            raise error from context.original_exception

    event.listen(engine, "handle_error", handle_error)


def translate(url: str, wrapped: BaseException | None, *, disconnect: bool) -> StoreError | None:
    """The StoreError for a driver error SQLAlchemy wrapped (`wrapped`); None for anything that is
    not a driver error (a bug in a bind parameter, say), which goes up unchanged."""
    if not isinstance(wrapped, DBAPIError):
        return None
    original: BaseException = wrapped.orig if wrapped.orig is not None else wrapped
    text = first_line(original)
    state = sqlstate(original)
    if disconnect or state in _SHUTDOWN_STATES or (state or "").startswith("08"):
        return StoreConnectionLostError(
            f"the connection to the store {url} was lost ({text}): "
            "run again once the database is back; nothing half-written was kept"
        )
    if state in _CONFLICT_STATES or any(fragment in text.lower() for fragment in _LOCKED):
        return StoreConflictError(_message(url, original))
    if isinstance(wrapped, (DataError, IntegrityError)):
        return StoreDataError(
            f"the store {url} refused a value: {text}", driver_error=type(original).__name__
        )
    if _is_operational(original) or _advice(text) is not None:
        return StoreUnavailableError(_message(url, original))
    return StoreError(f"the store {url} refused a statement: {type(original).__name__}: {text}")


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE psycopg (3: `sqlstate`, 2: `pgcode`) attached to `exc`; None for SQLite."""
    state = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
    return state if isinstance(state, str) else None


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
    if sqlstate(exc) in _CONFLICT_STATES:
        return f"the store {url} aborted a transaction to resolve a conflict ({text}): run again; if it keeps happening, another process is writing the same rows"
    return f"the store {url} failed: {text}; check that the database is up and reachable, then run again"
