"""Store fixtures for rollup tests: SQLite always, PostgreSQL too when the environment names one.

Like tests/conftest.py's `store_url` (same variables, same session database), but faster for
the many small rollup tests: SQLite stores are copies of one migrated template, and the
PostgreSQL database keeps its schema and is emptied row by row.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session

from syncer.store.database import Store, open_store
from syncer.store.tables import Base

PG_VARIABLES = ("OKRSYNC_TEST_PG_URL", "OKRSYNC_TEST_PG_SERVER")  # read by tests/conftest.py
BACKENDS = [
    pytest.param("sqlite", marks=pytest.mark.store),
    *(
        [pytest.param("postgresql", marks=pytest.mark.store)]
        if any(map(os.environ.get, PG_VARIABLES))
        else []
    ),
]


def empty_store(store: Store) -> None:
    """Delete every row (a PostgreSQL test database is shared by all tests)."""
    with store.sessions.begin() as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(delete(table))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite store at the current schema, migrated once and copied for each test."""
    path = tmp_path_factory.mktemp("template") / "okrsync.db"
    open_store(f"sqlite:///{path}").close()
    return path


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty store: a fresh SQLite file, or the emptied PostgreSQL test database."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        shutil.copyfile(template, tmp_path / "okrsync.db")
        return f"sqlite:///{tmp_path}/okrsync.db"
    url: str = request.getfixturevalue("pg_database")  # tests/conftest.py
    store = open_store(url)
    try:
        empty_store(store)
    finally:
        store.close()
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    yield opened
    opened.close()


@pytest.fixture
def session(store: Store) -> Iterator[Session]:
    with store.sessions() as opened:
        yield opened
