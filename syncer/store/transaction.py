"""Store transactions that outlive a transient fault, and the last translation to StoreError.

`transaction(store, work)` runs `work(session)` in one transaction and commits it. When the
store drops the connection, aborts the transaction (serialization failure, deadlock) or stays
locked (SQLite), the transaction was rolled back whole, so `work` runs again from its start on
a fresh connection, a few times with backoff (`syncer.retry.store_transactions`). `work` must
therefore keep no effect of a failed attempt outside the session: it returns what it computed,
and the caller stores that only once the transaction is committed.

A commit whose connection drops may have been applied or not; every transaction run through
here is written so that running it twice leaves the same rows (upserts keyed by id, a cursor
set to a value, a run row updated in place); a run start that commits twice leaves the first
row to the `abandoned` sweep of the second attempt.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from syncer.errors import StoreError
from syncer.retry import store_transactions
from syncer.store.database import Store
from syncer.store.faults import first_line, shown_url, translate

T = TypeVar("T")
Sessions = Store | sessionmaker[Session]  # the store, or its `sessions` where only those are passed


def transaction(
    store: Sessions,
    work: Callable[[Session], T],
    *,
    max_attempts: int = 4,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """`work(session)` in one committed transaction, run again on a transient store fault."""
    for attempt in store_transactions(max_attempts=max_attempts, sleep=sleep):
        with attempt:
            return once(store, work)
    raise AssertionError("store_transactions re-raises the last error")  # pragma: no cover


def once(store: Sessions, work: Callable[[Session], T]) -> T:
    """`work(session)` in one committed transaction, any SQLAlchemy error raised as a StoreError."""
    sessions = store.sessions if isinstance(store, Store) else store
    try:
        with sessions.begin() as session:
            return work(session)
    except SQLAlchemyError as exc:
        raise store_error(store, exc) from exc


def store_error(store: Sessions, exc: SQLAlchemyError) -> StoreError:
    """The StoreError for an error the engine hook did not translate: a driver error on an engine
    without the hook, or one SQLAlchemy raised itself (a session left unusable, a bad statement)."""
    engine = store.engine if isinstance(store, Store) else store.kw.get("bind")
    url = shown_url(engine.url.render_as_string(hide_password=False)) if engine is not None else "(store)"
    if isinstance(exc, DBAPIError):
        translated = translate(url, exc, disconnect=exc.connection_invalidated)
        if translated is not None:
            return translated
    return StoreError(f"the store {url} failed: {type(exc).__name__}: {first_line(exc)}")
