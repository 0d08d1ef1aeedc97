"""Alembic environment: runs on the engine the caller hands over (see database.alembic_config)."""

from __future__ import annotations

from alembic import context

from syncer.store.tables import Base

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copy
    )
    context.run_migrations()
