"""The Alembic migrations build exactly the schema the models declare."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from syncer.store.database import open_store
from syncer.store.tables import Base

pytestmark = pytest.mark.store


def test_migrated_store_matches_the_models(store_url: str) -> None:
    store = open_store(store_url)
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    store.close()
    assert differences == [], "a model changed without a migration (or the other way round)"
