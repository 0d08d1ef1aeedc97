"""Opening the store: engine, SQLite pragmas, and the schema version check.

A new database is created at the current schema on first use; an existing one that is
behind must be upgraded on purpose with `okrsync db upgrade` (a worker never migrates a
shared production store behind ops' back).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from syncer.config.store_url import store_url_problem
from syncer.errors import StoreError, StoreMissingError, StoreSchemaError, StoreUnavailableError
from syncer.store.faults import shown_url, translate_faults

MIGRATIONS = Path(__file__).with_name("migrations")


@dataclass(frozen=True)
class Store:
    engine: Engine
    sessions: sessionmaker[Session]

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers (status page) never block the worker
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable at each WAL checkpoint; safe with WAL
    cursor.execute("PRAGMA busy_timeout=30000")  # a second process waits instead of failing
    # A large sort (the rollup's GROUP BY over a period's records) may use two helper threads:
    # 25-35 % faster on the rollup benchmark; small sorts stay on one thread.
    cursor.execute("PRAGMA threads=2")
    cursor.close()


def create_store_engine(url: str) -> Engine:
    """The engine of the store at `url`; its connection and disk faults raise StoreUnavailableError."""
    problem = store_url_problem(url)
    if problem:
        raise StoreUnavailableError(f"cannot open the store: {problem}")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite:///"):
        directory = Path(url.removeprefix("sqlite:///").split("?", 1)[0]).expanduser().parent
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailableError(
                f"cannot create the store's directory {directory}: {exc.strerror or type(exc).__name__}; "
                "create it or point `store:` somewhere writable"
            ) from None
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    translate_faults(engine)
    return engine


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def schema_head() -> str:
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head is not None
    return head


def schema_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Apply every pending migration; StoreSchemaError when the store is not at a known revision."""
    revision = schema_revision(engine)
    _refuse_unknown(engine, revision, fix="")
    try:
        command.upgrade(alembic_config(engine), "head")
    except StoreUnavailableError:  # the connection or the disk, not the migration
        raise
    except (StoreError, SQLAlchemyError, CommandError) as exc:  # a migration that cannot apply: say which
        what = (
            _first_line(exc) if isinstance(exc, StoreError) else f"{type(exc).__name__}: {_first_line(exc)}"
        )
        raise StoreSchemaError(
            f"the store's schema could not be upgraded from {revision or 'nothing'} to {schema_head()}: {what}"
        ) from exc


NewStore = Callable[[str], None]  # told where a new store is about to be created; may refuse by raising


def refuse_new_store(where: str) -> None:
    """For commands that only read the store (`status`, `report`, `db reset-source`): create none."""
    raise StoreMissingError(
        f"no okrsync store at {where} yet: the first `okrsync run -c FILE` creates it "
        "(or `okrsync db upgrade -c FILE`); check `store:` or --store if one should be there"
    )


def open_store(url: str, *, on_new: NewStore | None = None) -> Store:
    """Open the store, creating it at the current schema when it is new.

    `on_new` hears of a new store before anything is created: a command announces it ("creating
    a new store at …") or refuses it (`refuse_new_store`), so a mistyped path in `status` leaves
    no empty database behind.
    """
    told = on_new is not None and _is_missing_sqlite_file(url)
    if told and on_new is not None:
        on_new(shown_url(url))
    engine = create_store_engine(url)
    try:
        revision = schema_revision(engine)
        if is_empty(engine):
            if on_new is not None and not told:
                on_new(shown_url(url))
            upgrade(engine)
        elif revision != schema_head():
            _refuse_unknown(engine, revision, fix=" (nothing was changed)")
            raise StoreSchemaError(
                f"the store's schema is at {revision}, this okrsync needs {schema_head()}: "
                "run `okrsync db upgrade -c FILE`"
            )
    except StoreError:
        engine.dispose()
        raise
    except SQLAlchemyError as exc:  # what the engine hook leaves: errors SQLAlchemy raises itself
        engine.dispose()
        raise StoreUnavailableError(
            f"cannot open the store {shown_url(url)}: {type(exc).__name__}: {_first_line(exc)}"
        ) from exc
    return Store(engine=engine, sessions=sessionmaker(engine, expire_on_commit=False))


def is_empty(engine: Engine) -> bool:
    """No okrsync schema and no table at all: a new store (an empty file or database)."""
    return schema_revision(engine) is None and not inspect(engine).get_table_names()


def _is_missing_sqlite_file(url: str) -> bool:
    """A SQLite URL whose file does not exist yet (connecting would create it)."""
    if not url.startswith("sqlite:///"):
        return False
    path = url.removeprefix("sqlite:///").split("?", 1)[0]
    return path not in ("", ":memory:") and not Path(path).expanduser().exists()


def _refuse_unknown(engine: Engine, revision: str | None, *, fix: str) -> None:
    """StoreSchemaError when no migration can apply: a newer schema, or tables without a version."""
    scripts = ScriptDirectory(str(MIGRATIONS))
    if revision is not None and revision not in {script.revision for script in scripts.walk_revisions()}:
        raise StoreSchemaError(
            f"the store's schema ({revision}) is newer than this okrsync knows (up to {schema_head()}): "
            f"run the okrsync release that upgraded it, or a later one; `db upgrade` cannot go back{fix}"
        )
    tables = set(inspect(engine).get_table_names()) if revision is None else set()
    if "alembic_version" in tables:
        raise StoreSchemaError(
            "the store's alembic_version table is empty, so its schema version is unknown: restore the "
            f"store from a backup, or insert its revision (this okrsync's is {schema_head()}) if you know "
            f"the schema is complete{fix}"
        )
    if tables:
        raise StoreSchemaError(
            f"the store's database holds tables ({', '.join(sorted(tables)[:3])}, …) but no okrsync schema "
            f"version: is it another application's database? Point `store:` at an empty database{fix}"
        )


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else ""
