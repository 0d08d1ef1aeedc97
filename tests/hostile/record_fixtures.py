"""What the bad-record suite's fixtures are made of (defined in its module, so no other test in
tests/hostile/ sees them): one small sandbox of each CRM per module with the write-back fields
in place, and one migrated store per backend per module, emptied before each test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text

from sandbox.hubspot import HubSpotSandbox
from sandbox.salesforce import SalesforceSandbox
from syncer.store.database import create_store_engine, open_store
from syncer.store.tables import Base
from tests.hostile.orgs import (
    ensure_fields,
    hub_settings,
    next_second,
    open_hubspot,
    open_salesforce,
    sf_settings,
)


@contextmanager
def started_hubspot(folder: Path) -> Iterator[HubSpotSandbox]:
    with open_hubspot() as sandbox:
        ensure_fields(hub_settings(sandbox, folder, f"sqlite:///{folder / 'fields.db'}"))
        next_second()  # records seeded this second belong to the next cycle's window
        yield sandbox


@contextmanager
def started_salesforce(folder: Path) -> Iterator[SalesforceSandbox]:
    with open_salesforce() as sandbox:
        ensure_fields(sf_settings(sandbox, folder, f"sqlite:///{folder / 'fields.db'}"))
        next_second()
        yield sandbox


def migrate(url: str, *, postgresql: bool) -> str:
    """The store at the current schema (a PostgreSQL database another module used starts over)."""
    if postgresql:
        engine = create_store_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    open_store(url).close()
    return url


def emptied(url: str) -> str:
    """Every table of the store emptied; the schema stays (migrating for each test is slow)."""
    engine = create_store_engine(url)
    try:
        with engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(table.delete())
    finally:
        engine.dispose()
    return url
