"""Issues #5 and #14: wall time and peak RSS of `compute_key_results` over a large store.

    python -m tests.benchmarks.bench_rollup [--rows 2000000] [--pg-rows 10000000] [--small 100000]
        [--runs 3] [--pg URL] [--backend sqlite|postgresql] [--keep DIR]

10 key results (7 grouped by owner, 200 active owners, baselines `previous_period`) over N
deals and N calls, on SQLite at `--small` and `--rows`, and, with `--pg` or
OKRSYNC_TEST_PG_SERVER (a URL of a PostgreSQL server the benchmark may create scratch
databases on), on PostgreSQL at those sizes and at `--pg-rows`. Each store is built once
(`dataset`), then rolled up by `--runs` fresh processes, each of which only opens the store
and runs the rollup as the worker's cycle does: its wall time, its peak RSS (`ru_maxrss`)
and a digest of every value. The median run is reported. Equal digests at one size on both
backends mean identical results. With `--keep DIR`, SQLite stores stay in DIR and PostgreSQL
databases stay on the server, and a later run reuses them. Results go to
tests/benchmarks/results/rollup.json and stdout. Numbers only: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import select
from sqlalchemy.engine import make_url

from syncer.rollup import ROLLUP_CONNECTIONS, compute_key_results
from syncer.store.tables import CallRow, DealRow
from syncer.values import KeyResultValue
from tests.benchmarks import dataset

RESULTS = Path(__file__).with_name("results") / "rollup.json"
PG_SERVER_VARIABLE = "OKRSYNC_TEST_PG_SERVER"
SAMPLE = 2_000  # rows per stream read back through the ORM to compare the backends' data


def run_rollup(url: str) -> tuple[float, list[KeyResultValue]]:
    """Open the store, run the rollup once: (seconds, values)."""
    store = dataset.open_bench_store(url)
    try:
        with store.sessions() as session:
            started = time.perf_counter()
            values = compute_key_results(
                session, dataset.settings(), now=dataset.NOW, connections=ROLLUP_CONNECTIONS
            )  # as the worker's cycle runs it
            return time.perf_counter() - started, values
    finally:
        store.close()


def digest(values: list[KeyResultValue]) -> str:
    """A fingerprint of every value, baseline and target: equal digests, identical results."""
    text = "\n".join(
        f"{v.key_result}|{v.group_kind}|{v.group_key}|{v.value}|{v.baseline}|{v.target}" for v in values
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def rows_digest(url: str) -> str:
    """A fingerprint of the first deals and calls as the ORM reads them: the same on both backends."""
    store = dataset.open_bench_store(url)
    try:
        with store.sessions() as session:
            text = "\n".join(
                repr([getattr(row, column.key) for column in table.__table__.columns])
                for table in (DealRow, CallRow)
                for row in session.scalars(select(table).order_by(table.id).limit(SAMPLE))
            )
    finally:
        store.close()
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def child(url: str) -> None:
    """One fresh process: imports and store opening first, then one rollup; ru_maxrss before and after."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    seconds, values = run_rollup(url)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rss_before_kib": before, "rss_peak_kib": peak, "seconds": seconds,
                      "values": len(values), "digest": digest(values)}))  # fmt: skip


def fresh_run(url: str) -> dict[str, Any]:
    # Through a shell that forks rather than execs: Linux carries ru_maxrss across execve, so a
    # child exec'd straight from this process would report this process's peak.
    probe = subprocess.run(
        ["/bin/sh", "-c", '"$0" -m tests.benchmarks.bench_rollup --child "$1"; exit $?', sys.executable, url],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    result: dict[str, Any] = json.loads(probe.stdout.strip().splitlines()[-1])
    return result


def measure(url: str, *, runs: int) -> dict[str, Any]:
    """`runs` fresh processes: the median wall time and peak RSS, and the values' digest."""
    probes = [fresh_run(url) for _ in range(runs)]
    digests = {probe["digest"] for probe in probes}
    assert len(digests) == 1, f"runs over one store disagree: {digests}"
    return {
        "rollup_seconds_median": round(statistics.median(p["seconds"] for p in probes), 3),
        "rollup_seconds_runs": [round(p["seconds"], 3) for p in probes],
        "peak_rss_mib": round(statistics.median(p["rss_peak_kib"] for p in probes) / 1024, 1),
        "rss_before_rollup_mib": round(statistics.median(p["rss_before_kib"] for p in probes) / 1024, 1),
        "values": probes[0]["values"],
        "digest": probes[0]["digest"],
    }


def bench_store(backend: str, url: str, rows: int, *, runs: int, keep: bool) -> dict[str, Any]:
    started = time.perf_counter()
    reused = keep and dataset.built_rows(url) == rows
    if not reused:
        reset(url)
        dataset.build_store(url, rows)
    loaded = time.perf_counter() - started
    state = "reused" if reused else f"loaded in {loaded:.0f} s"
    print(f"{backend}: {rows:,} deals + {rows:,} calls {state}", file=sys.stderr)
    result = {
        "backend": backend,
        "rows_per_stream": rows,
        "load_seconds": None if reused else round(loaded, 1),
    }
    result |= measure(url, runs=runs) | {"rows_digest": rows_digest(url)}
    print(f"  {result}", file=sys.stderr)
    if not keep:
        reset(url)
    return result


def reset(url: str) -> None:
    """Remove the store: its file, or the scratch database's tables."""
    if url.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
        return
    with psycopg.connect(dataset.libpq_url(url), autocommit=True) as connection:
        connection.execute("DROP SCHEMA public CASCADE")
        connection.execute("CREATE SCHEMA public")


def scratch_database(server: str, rows: int, *, drop: bool = False) -> str:
    """Create (or drop) the scratch database for `rows` on `server`; its URL."""
    admin = make_url(server).set(drivername="postgresql+psycopg")
    name = f"okrsync_bench_rollup_{rows}"
    with psycopg.connect(
        dataset.libpq_url(admin.render_as_string(hide_password=False)), autocommit=True
    ) as c:
        exists = c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if drop and exists:
            c.execute(f"DROP DATABASE {name}")
        elif not drop and not exists:
            c.execute(f"CREATE DATABASE {name}")
    return admin.set(database=name).render_as_string(hide_password=False)


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "load_average_1m_at_start": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "note": "shared machine: other developers' test runs compete for the same cores",
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000, help="deals and calls (each), both backends")
    parser.add_argument("--pg-rows", type=int, default=10_000_000, help="the PostgreSQL-only large size")
    parser.add_argument("--small", type=int, default=100_000, help="the small size, for the RSS comparison")
    parser.add_argument("--runs", type=int, default=3, help="fresh rollup processes per store")
    parser.add_argument("--pg", default=os.environ.get(PG_SERVER_VARIABLE), help="PostgreSQL server URL")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), help="only this backend")
    parser.add_argument("--keep", help="keep the stores (SQLite files in this folder) and reuse them")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child)
        return
    report: dict[str, Any] = {"machine": machine(), "key_results": len(dataset.KEY_RESULTS),
                              "owners": dataset.OWNERS, "results": []}  # fmt: skip
    sizes = sorted({size for size in (args.small, args.rows) if size})
    keep = args.keep is not None
    if args.backend in (None, "sqlite"):
        with tempfile.TemporaryDirectory(prefix="okrsync-bench-") as scratch:
            folder = Path(args.keep or scratch)
            folder.mkdir(parents=True, exist_ok=True)
            for rows in sizes:
                url = f"sqlite:///{folder}/rollup-{rows}.db"
                report["results"].append(bench_store("sqlite", url, rows, runs=args.runs, keep=keep))
    if args.pg and args.backend in (None, "postgresql"):
        for rows in sorted({*sizes, *([args.pg_rows] if args.pg_rows else [])}):
            url = scratch_database(args.pg, rows)
            try:
                report["results"].append(bench_store("postgresql", url, rows, runs=args.runs, keep=keep))
            finally:
                if not keep:
                    scratch_database(args.pg, rows, drop=True)
    report["backends_agree"] = agreement(report["results"])
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


def agreement(results: list[dict[str, Any]]) -> dict[str, bool]:
    """Per size measured on both backends: do their rows and their values agree?"""
    agree = {}
    for rows in sorted({r["rows_per_stream"] for r in results}):
        at_size = [r for r in results if r["rows_per_stream"] == rows]
        if len({r["backend"] for r in at_size}) > 1:
            agree[str(rows)] = all(
                len({r[key] for r in at_size}) == 1 for key in ("digest", "rows_digest", "values")
            )
    return agree


if __name__ == "__main__":
    main()
