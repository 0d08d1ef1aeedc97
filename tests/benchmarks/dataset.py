"""The benchmark's store and settings: canonical rows bulk-loaded, and 10 key results over them.

Rows are generated from a fixed seed, so SQLite and PostgreSQL hold the same data and must
produce the same key-result values. They bypass the ORM on purpose (a million ORM inserts
would take minutes): SQLite gets `executemany` of the exact text/REAL/0-1 values SQLAlchemy
stores for these column types, PostgreSQL gets `COPY`.
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from syncer.config.models import Settings
from syncer.store.database import open_store

SEED = 5  # issue #5
OWNERS = 200  # active reps; a few inactive ones own old records too
INACTIVE_OWNERS = 20
NOW = datetime(2026, 6, 15, 16, 0, tzinfo=UTC)  # mid Q2: current and previous quarter are both full
FIRST_DAY = date(2026, 1, 1)  # records span two quarters: Q1 (the baseline) and Q2 (current)
DAYS = 181
BATCH = 20_000
SOURCE = "sfdc"
DEAL_COLUMNS = (
    "source", "id", "owner_id", "account_id", "amount", "currency", "stage", "pipeline", "type",
    "is_closed", "is_won", "created_at", "close_date", "modified_at", "deleted", "attributes",
)  # fmt: skip
CALL_COLUMNS = (
    "source", "id", "owner_id", "occurred_at", "duration_seconds", "outcome", "direction",
    "modified_at", "deleted", "attributes",
)  # fmt: skip
OWNER_COLUMNS = ("source", "id", "name", "email", "active", "team", "region", "record_id", "modified_at")
SEGMENTS = ("smb", "mid_market", "enterprise")
OUTCOMES = ("connected", "connected", "voicemail", "no_answer")


def owner_ids() -> list[str]:
    return [f"005{i:05d}" for i in range(OWNERS + INACTIVE_OWNERS)]


def iter_owners() -> Iterator[tuple[Any, ...]]:
    for i, owner in enumerate(owner_ids()):
        active = i < OWNERS
        yield (SOURCE, owner, f"Rep {i}", f"rep{i}@example.com", active, f"team-{i % 8}",
               ("amer", "emea", "apac")[i % 3], f"U-{owner}", NOW)  # fmt: skip


def _owner(rng: random.Random, owners: list[str]) -> str | None:
    # 1% of records have no owner (queues, integrations): they count in the total only.
    return None if rng.random() < 0.01 else owners[rng.randrange(len(owners))]


def _instant(rng: random.Random) -> datetime:
    return datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=UTC) + timedelta(
        seconds=rng.randrange(DAYS * 86_400)
    )


def iter_deals(rows: int) -> Iterator[tuple[Any, ...]]:
    """Deals closing over two quarters: 60% closed (half of them won), the rest still open."""
    rng, owners = random.Random(SEED), owner_ids()
    for n in range(rows):
        closing = _instant(rng)
        created = closing - timedelta(days=rng.randrange(1, 120), seconds=rng.randrange(86_400))
        closed = rng.random() < 0.6
        won = closed and rng.random() < 0.5
        stage = "Closed Won" if won else "Closed Lost" if closed else "Negotiation"
        amount = Decimal(rng.randrange(50_000, 20_000_000)) / 100
        attributes = {"segment": SEGMENTS[rng.randrange(3)], "seats": rng.randrange(1, 500)}
        yield (SOURCE, f"006{n:012d}", _owner(rng, owners), f"001{rng.randrange(rows // 4 + 1):012d}",
               amount, "USD", stage, "default", ("new", "expansion", "renewal")[n % 3], closed, won,
               created, closing.date(), NOW, n % 500 == 0, attributes)  # fmt: skip


def iter_calls(rows: int) -> Iterator[tuple[Any, ...]]:
    """Calls over two quarters, half outbound, most connected; 1 in 500 deleted."""
    rng, owners = random.Random(SEED + 1), owner_ids()
    for n in range(rows):
        yield (SOURCE, f"00T{n:012d}", _owner(rng, owners), _instant(rng), rng.randrange(0, 1_800),
               OUTCOMES[n % 4], ("inbound", "outbound")[rng.randrange(2)], NOW, n % 500 == 0, {})  # fmt: skip


def build_store(url: str, rows: int) -> None:
    """Create the store at `url` (empty, current schema) and load `rows` deals and `rows` calls."""
    open_store(url).close()
    if url.startswith("sqlite:///"):
        _load_sqlite(url.removeprefix("sqlite:///"), rows)
    else:
        _load_postgresql(url, rows)


def _sqlite_value(value: Any) -> Any:
    """The value as SQLAlchemy stores it in SQLite (checked against the ORM in `bench_rollup`)."""
    match value:
        case bool():
            return int(value)
        case datetime():
            return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        case date():
            return value.isoformat()
        case Decimal():
            return float(value)  # SQLite's NUMERIC affinity keeps money as REAL
        case dict():
            return json.dumps(value)
    return value


def _load_sqlite(path: str, rows: int) -> None:
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA synchronous=OFF")  # a throw-away store: no need to be durable
        for table, columns, source in (
            ("owners", OWNER_COLUMNS, iter_owners()),
            ("deals", DEAL_COLUMNS, iter_deals(rows)),
            ("calls", CALL_COLUMNS, iter_calls(rows)),
        ):
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            for batch in _batches(source):
                connection.executemany(sql, [tuple(map(_sqlite_value, row)) for row in batch])
            connection.commit()
    finally:
        connection.close()


def _load_postgresql(url: str, rows: int) -> None:
    with psycopg.connect(libpq_url(url)) as connection, connection.cursor() as cursor:
        for table, columns, source in (
            ("owners", OWNER_COLUMNS, iter_owners()),
            ("deals", DEAL_COLUMNS, iter_deals(rows)),
            ("calls", CALL_COLUMNS, iter_calls(rows)),
        ):
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in source:
                    copy.write_row([json.dumps(v) if isinstance(v, dict) else v for v in row])
        connection.commit()
        # A production store is analysed by autovacuum long before it holds a million rows.
        connection.autocommit = True
        cursor.execute("ANALYZE")


def libpq_url(url: str) -> str:
    """An SQLAlchemy PostgreSQL URL as libpq takes it (no `+psycopg`)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _batches(rows: Iterator[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


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
