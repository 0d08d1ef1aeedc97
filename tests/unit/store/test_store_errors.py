"""Driver and SQLAlchemy errors leave the store as StoreErrors; transient ones rerun the transaction.

The translation tests wrap fake driver errors that carry the attributes the real drivers set
(psycopg's `sqlstate`, sqlite3's message); the real faults are produced in
tests/hostile/test_store_faults.py and tests/integration/test_store_connection_loss.py.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import (
    DataError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    PendingRollbackError,
    ProgrammingError,
    StatementError,
)
from sqlalchemy.orm import Session

from syncer.errors import (
    StoreConflictError,
    StoreConnectionLostError,
    StoreDataError,
    StoreError,
    StoreUnavailableError,
    TransientStoreError,
)
from syncer.store.database import Store
from syncer.store.faults import translate
from syncer.store.tables import OwnerRow
from syncer.store.transaction import store_error, transaction

URL = "postgresql+psycopg://okr@db/okr"


class FakePgError(Exception):
    """What psycopg 3 raises: the server's SQLSTATE in `sqlstate`."""

    def __init__(self, message: str, sqlstate: str | None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


# psycopg's OperationalError, recognised by its class name (syncer imports no driver)
OperationalErrorFake = type("OperationalError", (FakePgError,), {})


def wrapped(cls: type[Exception], driver_error: Exception) -> Exception:
    return cls("UPDATE runs SET …", {}, driver_error)


@pytest.mark.parametrize(
    ("error", "disconnect", "expected"),
    [
        (wrapped(OperationalError, OperationalErrorFake("could not serialize access", "40001")), False, StoreConflictError),
        (wrapped(OperationalError, OperationalErrorFake("deadlock detected", "40P01")), False, StoreConflictError),
        (wrapped(OperationalError, sqlite3.OperationalError("database is locked")), False, StoreConflictError),
        (wrapped(OperationalError, sqlite3.OperationalError("database table is locked")), False, StoreConflictError),
        (wrapped(OperationalError, OperationalErrorFake("terminating connection due to administrator command", "57P01")), False, StoreConnectionLostError),
        (wrapped(OperationalError, OperationalErrorFake("connection failure", "08006")), False, StoreConnectionLostError),
        (wrapped(InterfaceError, Exception("the connection is closed")), True, StoreConnectionLostError),
        (wrapped(OperationalError, sqlite3.OperationalError("database or disk is full")), False, StoreUnavailableError),
        (wrapped(OperationalError, sqlite3.OperationalError("attempt to write a readonly database")), False, StoreUnavailableError),
        (wrapped(OperationalError, OperationalErrorFake('database "okr" does not exist', "3D000")), False, StoreUnavailableError),
        (wrapped(DataError, FakePgError("value too long for type character varying(18)", "22001")), False, StoreDataError),
        (wrapped(IntegrityError, sqlite3.IntegrityError("NOT NULL constraint failed: owners.source")), False, StoreDataError),
        (wrapped(ProgrammingError, FakePgError('relation "runs" does not exist', "42P01")), False, StoreError),
    ],
)  # fmt: skip
def test_each_driver_error_becomes_its_store_error(
    error: Exception, disconnect: bool, expected: type[StoreError]
) -> None:
    translated = translate(URL, error, disconnect=disconnect)
    assert type(translated) is expected
    assert str(translated).count("\n") == 0
    assert "okr@db/okr" in str(translated)


def test_transient_kinds_are_exactly_the_connection_losses_and_conflicts() -> None:
    assert issubclass(StoreConnectionLostError, TransientStoreError)
    assert issubclass(StoreConnectionLostError, StoreUnavailableError)  # still "the store is unavailable"
    assert issubclass(StoreConflictError, TransientStoreError)
    for permanent in (StoreUnavailableError, StoreDataError, StoreError):
        assert not issubclass(permanent, TransientStoreError)


def test_a_refused_value_names_the_driver_error_for_the_quarantine_reason() -> None:
    truncation = type("StringDataRightTruncation", (FakePgError,), {})
    error = wrapped(DataError, truncation("value too long", "22001"))
    translated = translate(URL, error, disconnect=False)
    assert isinstance(translated, StoreDataError)
    assert translated.driver_error == "StringDataRightTruncation"


def test_an_error_that_is_not_the_drivers_is_left_alone() -> None:
    bug = StatementError("a bind parameter failed", "SELECT 1", {}, TypeError("not a date"))
    assert translate(URL, bug, disconnect=False) is None
    assert translate(URL, ValueError("x"), disconnect=False) is None


# ---------------------------------------------------------------- on a real store


def _owners(store: Store) -> list[str]:
    with store.sessions() as session:
        return list(session.scalars(select(OwnerRow.id).order_by(OwnerRow.id)))


def _add_owner(session: Session, owner_id: str) -> None:
    session.execute(
        insert(OwnerRow).values(
            source="crm",
            id=owner_id,
            active=True,
            record_id=owner_id,
            modified_at=datetime(2026, 1, 5, tzinfo=UTC),
        )
    )


def test_a_real_refused_row_is_a_store_data_error(store: Store) -> None:
    with pytest.raises(StoreDataError):
        transaction(store, lambda session: session.execute(insert(OwnerRow).values(source=None, id="a")))


def test_an_error_sqlalchemy_raises_itself_is_a_store_error(store: Store) -> None:
    error = store_error(store, PendingRollbackError("this session's transaction has been rolled back"))
    assert type(error) is StoreError
    assert "PendingRollbackError" in str(error)


def test_a_transient_error_twice_then_success_reruns_the_whole_transaction(store: Store) -> None:
    waits: list[float] = []
    attempts: list[int] = []

    def work(session: Session) -> str:
        attempts.append(len(attempts) + 1)
        _add_owner(session, f"u{len(attempts)}")  # each attempt writes, then the first two fail
        if len(attempts) <= 2:
            raise StoreConflictError("could not serialize access (40001)")
        return "done"

    assert transaction(store, work, sleep=waits.append) == "done"
    assert attempts == [1, 2, 3]
    assert len(waits) == 2
    assert all(w > 0 for w in waits)
    assert _owners(store) == ["u3"]  # the failed attempts were rolled back whole


def test_a_lost_connection_is_retried_too(store: Store) -> None:
    calls: list[int] = []

    def work(session: Session) -> int:
        calls.append(1)
        if len(calls) == 1:
            raise StoreConnectionLostError("the connection to the store was lost")
        return int(session.execute(text("SELECT 1")).scalar_one())

    assert transaction(store, work, sleep=lambda _s: None) == 1
    assert len(calls) == 2


@pytest.mark.parametrize(
    "error",
    [
        StoreDataError("the store refused a value", driver_error="DataError"),
        StoreUnavailableError("the store's disk is full"),
        StoreError("the store refused a statement"),
        ValueError("a bug"),
    ],
)
def test_a_permanent_error_is_not_retried(store: Store, error: Exception) -> None:
    calls: list[int] = []
    waits: list[float] = []

    def work(session: Session) -> None:
        calls.append(1)
        _add_owner(session, "kept-out")
        raise error

    with pytest.raises(type(error)):
        transaction(store, work, sleep=waits.append)
    assert (len(calls), waits) == (1, [])
    assert _owners(store) == []


def test_retries_stop_after_the_last_attempt_with_the_last_error(store: Store) -> None:
    calls: list[int] = []

    def work(_session: Session) -> None:
        calls.append(1)
        raise StoreConflictError(f"deadlock detected (attempt {len(calls)})")

    with pytest.raises(StoreConflictError, match=r"attempt 4\)"):
        transaction(store, work, sleep=lambda _s: None)
    assert len(calls) == 4


def test_a_real_serialization_failure_is_a_conflict_and_its_rerun_succeeds(store: Store) -> None:
    """Two SERIALIZABLE transactions each read what the other writes: PostgreSQL aborts one (40001)."""
    if store.dialect != "postgresql":
        pytest.skip("PostgreSQL only: SQLite serializes writers with a lock instead")
    both_read = threading.Barrier(2, timeout=10)
    outcomes: dict[str, int | StoreError] = {}

    def writer(name: str, sleep_log: list[float]) -> None:
        attempts = 0

        def work(session: Session) -> int:
            nonlocal attempts
            attempts += 1
            session.connection(execution_options={"isolation_level": "SERIALIZABLE"})
            count = len(list(session.scalars(select(OwnerRow.id))))
            if attempts == 1:
                both_read.wait()  # both have read before either writes
            _add_owner(session, f"{name}{count}")
            return attempts

        try:
            outcomes[name] = transaction(store, work, sleep=sleep_log.append)
        except StoreError as exc:  # pragma: no cover - reported by the assertion below
            outcomes[name] = exc

    waits: list[float] = []
    threads = [threading.Thread(target=writer, args=(name, waits)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes.values(), key=str) == [1, 2], outcomes  # one committed at once, one after a rerun
    assert len(waits) == 1
    assert _owners(store) in (["a0", "b1"], ["a1", "b0"])  # the rerun saw the first one's row
