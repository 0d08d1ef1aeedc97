"""Shared fixtures: store URLs for every available backend, and the store and session on them.

`store_url` runs a test on SQLite, and on PostgreSQL too when the environment names a server
(`OKRSYNC_TEST_PG_SERVER`: a throwaway database is created for the session and dropped after)
or a database (`OKRSYNC_TEST_PG_URL`: its public schema is wiped before each test).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from syncer.store.database import Store, open_store

PG_SERVER = os.environ.get("OKRSYNC_TEST_PG_SERVER")
PG_URL = os.environ.get("OKRSYNC_TEST_PG_URL")
BACKENDS = ["sqlite", *(["postgresql"] if PG_SERVER or PG_URL else [])]


def _is_loopback(address: object) -> bool:
    if not isinstance(address, tuple):
        return True  # a Unix socket path: stays on this machine
    host = str(address[0])
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name other than localhost would need DNS: not allowed either


@pytest.fixture(autouse=True, scope="session")
def loopback_only() -> Iterator[None]:
    """Tests reach nothing beyond 127.0.0.1: any other connection attempt fails the test."""
    connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> None:
        if not _is_loopback(address):
            raise AssertionError(f"a test tried to reach {address!r}: tests may only talk to 127.0.0.1")
        return connect(self, address)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", guarded)
        yield


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A PostgreSQL database for this test session."""
    if PG_URL:
        yield PG_URL
        return
    assert PG_SERVER is not None
    name = f"okrsync_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _wipe(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store on each available backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'okrsync.db'}"
    url: str = request.getfixturevalue("pg_database")
    _wipe(url)
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """The store at `store_url`, open for the test and closed after it."""
    opened = open_store(store_url)
    yield opened
    opened.close()


@pytest.fixture
def session(store: Store) -> Iterator[Session]:
    """One transaction on `store`, committed when the test ends."""
    with store.sessions.begin() as opened:
        yield opened
