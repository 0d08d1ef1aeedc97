"""The benchmark's store and settings: rows generated in SQL, and 10 key results over them.

Every value of row n is a function of n alone: an integer hash of (n, field) that SQLite and
PostgreSQL compute identically (64-bit integer arithmetic modulo the prime 2^31 - 1), so both
backends hold the same data and must produce the same key-result values. The rows are made
by the database itself (a recursive CTE in SQLite, generate_series in PostgreSQL) with the
secondary indexes dropped and rebuilt after the load: 10,000,000 deals and calls take
minutes rather than the hour a Python loop with the ORM would. SQLite gets the text/REAL/0-1
values SQLAlchemy stores for these column types (`bench_rollup` reads them back through the
ORM to check), PostgreSQL its native types.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from typing import Any

import psycopg
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from syncer.config.models import Settings
from syncer.store.database import Store, create_store_engine
from syncer.store.tables import Base

OWNERS = 200  # active reps; a few inactive ones own old records too
INACTIVE_OWNERS = 20
NOW = datetime(2026, 6, 15, 16, 0, tzinfo=UTC)  # mid Q2: current and previous quarter are both full
FIRST_DAY = date(2026, 1, 1)  # records span two quarters: Q1 (the baseline) and Q2 (current)
DAYS = 181
SOURCE = "sfdc"
VERSION = 2  # of the generated rows: a kept store of another version is rebuilt
OWNER_COLUMNS = ("source", "id", "name", "email", "active", "team", "region", "record_id", "modified_at")
_PRIME = 2_147_483_647  # 2^31 - 1: a square of a residue stays below 2^62, inside a 64-bit integer
_EPOCH = int(datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=UTC).timestamp())
_NOW_EPOCH = int(NOW.timestamp())


def owner_ids() -> list[str]:
    return [f"005{i:05d}" for i in range(OWNERS + INACTIVE_OWNERS)]


def iter_owners() -> Iterator[tuple[Any, ...]]:
    for i, owner in enumerate(owner_ids()):
        active = i < OWNERS
        yield (SOURCE, owner, f"Rep {i}", f"rep{i}@example.com", active, f"team-{i % 8}",
               ("amer", "emea", "apac")[i % 3], f"U-{owner}", NOW)  # fmt: skip


class _Dialect:
    """The few SQL spellings that differ: padding, instants, dates, booleans, money and JSON."""

    def __init__(self, sqlite: bool) -> None:
        self.sqlite = sqlite

    def padded(self, prefix: str, number: str, width: int) -> str:
        if self.sqlite:
            return f"'{prefix}' || substr('{'0' * width}' || ({number}), -{width})"
        return f"'{prefix}' || lpad(({number})::text, {width}, '0')"

    def instant(self, seconds: str) -> str:
        """Seconds after FIRST_DAY's UTC midnight, as the column stores an instant."""
        if self.sqlite:  # SQLAlchemy's text form: '2026-01-01 05:00:00.000000'
            return f"strftime('%Y-%m-%d %H:%M:%S', {_EPOCH} + ({seconds}), 'unixepoch') || '.000000'"
        return f"to_timestamp({_EPOCH} + ({seconds}))"

    def day(self, seconds: str) -> str:
        """The UTC calendar date of that instant."""
        if self.sqlite:
            return f"date({_EPOCH} + ({seconds}), 'unixepoch')"
        return f"(to_timestamp({_EPOCH} + ({seconds})) AT TIME ZONE 'UTC')::date"

    def flag(self, condition: str) -> str:
        return f"CASE WHEN {condition} THEN 1 ELSE 0 END" if self.sqlite else f"({condition})"

    def money(self, cents: str) -> str:
        # SQLite keeps Numeric as REAL: cents / 100.0 is the double nearest to the exact amount,
        # as float(Decimal) is.
        return f"({cents}) / 100.0" if self.sqlite else f"(({cents})::numeric / 100)"

    def attributes(self, *pairs: str) -> str:
        return f"json_object({', '.join(pairs)})" if self.sqlite else f"json_build_object({', '.join(pairs)})"

    def pick(self, choices: tuple[str, ...], index: str) -> str:
        whens = " ".join(f"WHEN {n} THEN '{choice}'" for n, choice in enumerate(choices))
        return f"CASE ({index}) {whens} END"

    def numbers(self, rows: int) -> str:
        """A row source of n = 0 … rows - 1, named `n`."""
        if self.sqlite:
            return (
                f"(WITH RECURSIVE series(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM series "
                f"WHERE n + 1 < {rows}) SELECT n FROM series)"
            )
        return f"(SELECT generate_series(0, {rows - 1})::bigint AS n)"


def _random(field: int) -> str:
    """A hash of (n, field) in [0, 2^31 - 1): two rounds of squaring modulo the prime."""
    x = f"((n * 48271 + {field * 1_000_003 + 7}) % {_PRIME})"
    x = f"(({x} * {x} + 12345) % {_PRIME})"
    return f"(({x} * {x} + 54321) % {_PRIME})"


def _owner(sql: _Dialect, salt: int) -> str:
    # 1% of records have no owner (queues, integrations): they count in the total only.
    owner = sql.padded("005", f"{_random(salt + 1)} % {OWNERS + INACTIVE_OWNERS}", 5)
    return f"CASE WHEN {_random(salt)} % 100 = 0 THEN NULL ELSE {owner} END"


DEAL_COLUMNS = (
    "source", "id", "owner_id", "account_id", "amount", "currency", "stage", "pipeline", "type",
    "is_closed", "is_won", "created_at", "close_date", "modified_at", "deleted", "attributes",
)  # fmt: skip
CALL_COLUMNS = (
    "source", "id", "owner_id", "occurred_at", "duration_seconds", "outcome", "direction",
    "modified_at", "deleted", "attributes",
)  # fmt: skip


def deals_sql(sql: _Dialect, rows: int) -> str:
    """Deals closing over two quarters: 60% closed (half of them won), the rest still open."""
    closing = f"{_random(7)} % {DAYS * 86_400}"
    created = f"({closing}) - (1 + {_random(8)} % 119) * 86400 - {_random(9)} % 86400"
    closed, won = f"{_random(5)} % 10 < 6", f"{_random(6)} % 2 = 0"
    segment = sql.pick(("smb", "mid_market", "enterprise"), f"{_random(10)} % 3")
    values = (
        f"'{SOURCE}'", sql.padded("006", "n", 12), _owner(sql, 1),
        sql.padded("001", f"{_random(3)} % {rows // 4 + 1}", 12),
        sql.money(f"50000 + {_random(4)} % 19950000"), "'USD'",
        f"CASE WHEN {closed} THEN CASE WHEN {won} THEN 'Closed Won' ELSE 'Closed Lost' END "
        "ELSE 'Negotiation' END",
        "'default'", sql.pick(("new", "expansion", "renewal"), "n % 3"),
        sql.flag(closed), sql.flag(f"{closed} AND {won}"), sql.instant(created), sql.day(closing),
        sql.instant(str(_NOW_EPOCH - _EPOCH)), sql.flag("n % 500 = 0"),
        sql.attributes("'segment'", segment, "'seats'", f"1 + {_random(11)} % 499"),
    )  # fmt: skip
    return _insert("deals", DEAL_COLUMNS, values, sql, rows)


def calls_sql(sql: _Dialect, rows: int) -> str:
    """Calls over two quarters, half outbound, most connected; 1 in 500 deleted."""
    values = (
        f"'{SOURCE}'", sql.padded("00T", "n", 12), _owner(sql, 101),
        sql.instant(f"{_random(103)} % {DAYS * 86_400}"), f"{_random(104)} % 1800",
        sql.pick(("connected", "connected", "voicemail", "no_answer"), "n % 4"),
        sql.pick(("inbound", "outbound"), f"{_random(105)} % 2"),
        sql.instant(str(_NOW_EPOCH - _EPOCH)), sql.flag("n % 500 = 0"), sql.attributes(),
    )  # fmt: skip
    return _insert("calls", CALL_COLUMNS, values, sql, rows)


def _insert(table: str, columns: tuple[str, ...], values: tuple[str, ...], sql: _Dialect, rows: int) -> str:
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM {sql.numbers(rows)} AS numbers"
    )


def open_bench_store(url: str) -> Store:
    """The store at `url`, its tables created from the models if missing.

    Not `open_store`: the benchmark measures the rollup over the current tables and indexes,
    whatever the state of the migration chain being edited alongside.
    """
    engine = create_store_engine(url)
    Base.metadata.create_all(engine)
    return Store(engine=engine, sessions=sessionmaker(engine, expire_on_commit=False))


def build_store(url: str, rows: int) -> None:
    """Create the store at `url` (empty, current tables) and load `rows` deals and `rows` calls."""
    open_bench_store(url).close()
    if url.startswith("sqlite:///"):
        _load_sqlite(url.removeprefix("sqlite:///"), rows)
    else:
        _load_postgresql(url, rows)


def built_rows(url: str) -> int | None:
    """The rows per stream of a store this module built (at this VERSION), else None."""
    query = "SELECT rows FROM bench_dataset WHERE version = ?"
    try:
        if url.startswith("sqlite:///"):
            with sqlite3.connect(f"file:{url.removeprefix('sqlite:///')}?mode=ro", uri=True) as c:
                row = c.execute(query, (VERSION,)).fetchone()
        else:
            with psycopg.connect(libpq_url(url)) as c:
                row = c.execute(query.replace("?", "%s"), (VERSION,)).fetchone()
    except (sqlite3.Error, psycopg.Error):
        return None
    return None if row is None else int(row[0])


def _sqlite_value(value: Any) -> Any:
    """The value as SQLAlchemy stores it in SQLite."""
    match value:
        case bool():
            return int(value)
        case datetime():
            return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _load_sqlite(path: str, rows: int) -> None:
    sql = _Dialect(sqlite=True)
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA synchronous=OFF")  # a throw-away store: no need to be durable
        connection.execute("PRAGMA cache_size=-1000000")
        holder = ", ".join("?" * len(OWNER_COLUMNS))
        connection.execute("BEGIN")
        connection.executemany(
            f"INSERT INTO owners ({', '.join(OWNER_COLUMNS)}) VALUES ({holder})",
            [tuple(map(_sqlite_value, row)) for row in iter_owners()],
        )
        for table, statement in (("deals", deals_sql(sql, rows)), ("calls", calls_sql(sql, rows))):
            indexes = connection.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
                (table,),
            ).fetchall()
            for name, _sql in indexes:  # built once after the load: faster than row by row
                connection.execute(f"DROP INDEX {name}")
            connection.execute(statement)
            for _name, create in indexes:
                connection.execute(create)
        connection.execute("CREATE TABLE bench_dataset (version INTEGER, rows INTEGER)")
        connection.execute("INSERT INTO bench_dataset VALUES (?, ?)", (VERSION, rows))
        connection.execute("COMMIT")
    finally:
        connection.close()


def _load_postgresql(url: str, rows: int) -> None:
    sql = _Dialect(sqlite=False)
    with psycopg.connect(libpq_url(url)) as connection:
        with connection.cursor().copy(f"COPY owners ({', '.join(OWNER_COLUMNS)}) FROM STDIN") as copy:
            for row in iter_owners():
                copy.write_row(row)
        connection.commit()

    def load(table: str, statement: str) -> Callable[[], None]:
        def run() -> None:
            with psycopg.connect(libpq_url(url)) as own:
                own.execute("SET maintenance_work_mem = '512MB'")
                indexes = own.execute(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
                    "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
                    (table,),
                ).fetchall()
                for name, _sql in indexes:  # built once after the load: faster than row by row
                    own.execute(f"DROP INDEX {name}")
                own.execute(statement)
                for _name, create in indexes:
                    own.execute(create)

        return run

    with ThreadPoolExecutor(max_workers=2) as pool:  # deals and calls side by side, one core each
        for done in [
            pool.submit(load("deals", deals_sql(sql, rows))),
            pool.submit(load("calls", calls_sql(sql, rows))),
        ]:
            done.result()
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        # A production store is vacuumed and analysed by autovacuum (inserts trigger it since
        # PostgreSQL 13) long before it holds millions of rows.
        connection.execute("VACUUM ANALYZE")
        connection.execute("CREATE TABLE bench_dataset (version INTEGER, rows INTEGER)")
        connection.execute("INSERT INTO bench_dataset VALUES (%s, %s)", (VERSION, rows))


def libpq_url(url: str) -> str:
    """An SQLAlchemy PostgreSQL URL as libpq takes it (no `+psycopg`)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _kr(key: str, metric: dict[str, Any], target: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "metric": metric, "baseline": "previous_period", "target": target, **extra}


WON = {"is_won": True}
KEY_RESULTS = [
    _kr("revenue", {"stream": "deals", "kind": "sum", "field": "amount", "where": WON}, "+15%",
        group_by="owner"),
    _kr("new_logos", {"stream": "deals", "kind": "count", "where": {**WON, "type": "new"}}, "+10%",
        group_by="owner"),
    _kr("deal_size", {"stream": "deals", "kind": "avg", "field": "amount", "where": WON}, "+5%"),
    _kr("cycle_days", {"stream": "deals", "kind": "avg_days", "from": "created_at", "to": "close_date",
                       "where": WON}, "-10%", group_by="owner"),
    _kr("accounts", {"stream": "deals", "kind": "distinct_count", "field": "account_id", "where": WON},
        "+10%"),
    _kr("win_rate", {"stream": "deals", "kind": "ratio", "numerator": WON,
                     "denominator": {"is_closed": True}}, "+5pp", group_by="owner"),
    _kr("enterprise", {"stream": "deals", "kind": "sum", "field": "amount",
                       "where": {**WON, "segment": "enterprise", "seats": {"gte": 50}}}, "+20%",
        group_by="owner"),
    _kr("connects", {"stream": "calls", "kind": "count", "where": {"outcome": "connected"}}, "+20%",
        group_by="owner"),
    _kr("talk_time", {"stream": "calls", "kind": "sum", "field": "duration_seconds",
                      "where": {"outcome": "connected"}}, "+10%", group_by="owner"),
    _kr("call_length", {"stream": "calls", "kind": "avg", "field": "duration_seconds",
                        "where": {"direction": "outbound", "outcome": {"not": "no_answer"}}}, "+5%"),
]  # fmt: skip


def settings() -> Settings:
    """One source pulling deals and calls, New York time, one objective of 10 key results."""
    source = {
        "kind": "salesforce",
        "instance_url": "https://example.my.salesforce.com",
        "auth": {"method": "access_token", "access_token": "token"},
        "streams": {
            "deals": {"object": "Opportunity", "attributes": {"segment": "Segment__c", "seats": "Seats__c"}},
            "calls": {"object": "Task"},
        },
    }
    objective = {"key": "growth", "period": "current_quarter", "key_results": KEY_RESULTS}
    return Settings.model_validate(
        {"version": 1, "timezone": "America/New_York", "sources": {SOURCE: source}, "objectives": [objective]}
    )
