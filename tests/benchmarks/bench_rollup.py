"""Issue #5: wall time and peak RSS of `compute_key_results` over a large store.

    python -m tests.benchmarks.bench_rollup [--rows 1000000] [--small 100000] [--pg URL]

10 key results (7 grouped by owner, 200 active owners, baselines `previous_period`) over
`rows` deals and `rows` calls, on SQLite and, with `--pg` or OKRSYNC_TEST_PG_SERVER (a URL of
a PostgreSQL server the benchmark may create a scratch database on), on PostgreSQL too.
Wall time is the median of `--repeat` runs in this process; peak RSS is `ru_maxrss` of a
fresh subprocess that only opens the store and runs the rollup once, measured at two sizes
to show whether memory grows with the row count. Results go to
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
from sqlalchemy.engine import make_url

from syncer.rollup import ROLLUP_CONNECTIONS, compute_key_results
from syncer.store.database import open_store
from syncer.values import KeyResultValue
from tests.benchmarks import dataset

RESULTS = Path(__file__).with_name("results") / "rollup.json"
PG_SERVER_VARIABLE = "OKRSYNC_TEST_PG_SERVER"
SCRATCH_DATABASE = f"okrsync_bench_{os.getpid()}"


def run_rollup(url: str) -> tuple[float, list[KeyResultValue]]:
    """Open the store, run the rollup once: (seconds, values)."""
    store = open_store(url)
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


def child(url: str) -> None:
    """The RSS probe: imports and store opening first, then one rollup; ru_maxrss before and after."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    seconds, _values = run_rollup(url)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    hwm = _status_kib("VmHWM")  # the same peak as the kernel keeps it for this address space
    print(json.dumps({"rss_before_kib": before, "rss_peak_kib": peak, "vm_hwm_kib": hwm, "seconds": seconds}))


def _status_kib(field: str) -> int | None:
    status = Path("/proc/self/status")
    if not status.exists():
        return None
    for line in status.read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return None


def measure(url: str, *, repeat: int) -> dict[str, Any]:
    """Median wall time of `repeat` in-process rollups, and the peak RSS of a fresh process."""
    runs = [run_rollup(url) for _ in range(repeat)]
    times = sorted(seconds for seconds, _ in runs)
    # Through a shell that forks rather than execs: Linux carries ru_maxrss across execve, so a
    # child exec'd straight from this (large) process would report this process's peak.
    probe = subprocess.run(
        ["/bin/sh", "-c", '"$0" -m tests.benchmarks.bench_rollup --child "$1"; exit $?', sys.executable, url],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    rss = json.loads(probe.stdout.strip().splitlines()[-1])
    return {
        "rollup_seconds_median": round(statistics.median(times), 3),
        "rollup_seconds_runs": [round(t, 3) for t in times],
        "fresh_process_seconds": round(rss["seconds"], 3),
        "peak_rss_mib": round(rss["rss_peak_kib"] / 1024, 1),
        "rss_before_rollup_mib": round(rss["rss_before_kib"] / 1024, 1),
        "vm_hwm_mib": None if rss["vm_hwm_kib"] is None else round(rss["vm_hwm_kib"] / 1024, 1),
        "values": len(runs[0][1]),
        "digest": digest(runs[0][1]),
    }


def bench_backend(backend: str, url: str, sizes: list[int], *, repeat: int) -> list[dict[str, Any]]:
    results = []
    for rows in sizes:
        started = time.perf_counter()
        dataset.build_store(url, rows)
        loaded = time.perf_counter() - started
        print(f"{backend}: {rows:,} deals + {rows:,} calls loaded in {loaded:.0f} s", file=sys.stderr)
        result = {"backend": backend, "rows_per_stream": rows, "load_seconds": round(loaded, 1)}
        result |= measure(url, repeat=repeat)
        print(f"  {result}", file=sys.stderr)
        results.append(result)
        reset(url)
    return results


def reset(url: str) -> None:
    """Empty the scratch store for the next size."""
    if url.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
        return
    with psycopg.connect(dataset.libpq_url(url), autocommit=True) as connection:
        connection.execute("DROP SCHEMA public CASCADE")
        connection.execute("CREATE SCHEMA public")


def scratch_database(server: str, *, create: bool) -> str:
    """Create (or drop) this run's scratch database on `server`; its URL."""
    admin = make_url(server).set(drivername="postgresql+psycopg")
    with psycopg.connect(
        dataset.libpq_url(admin.render_as_string(hide_password=False)), autocommit=True
    ) as c:
        c.execute(f"DROP DATABASE IF EXISTS {SCRATCH_DATABASE}")
        if create:
            c.execute(f"CREATE DATABASE {SCRATCH_DATABASE}")
    return admin.set(database=SCRATCH_DATABASE).render_as_string(hide_password=False)


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
    parser.add_argument(
        "--rows", type=int, default=1_000_000, help="deals and calls (each) at the large size"
    )
    parser.add_argument("--small", type=int, default=100_000, help="the small size, for the RSS comparison")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pg", default=os.environ.get(PG_SERVER_VARIABLE), help="PostgreSQL server URL")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child)
        return
    report: dict[str, Any] = {"machine": machine(), "key_results": len(dataset.KEY_RESULTS),
                              "owners": dataset.OWNERS, "results": []}  # fmt: skip
    sizes = [args.small, args.rows]
    with tempfile.TemporaryDirectory(prefix="okrsync-bench-") as folder:
        report["results"] += bench_backend(
            "sqlite", f"sqlite:///{folder}/bench.db", sizes, repeat=args.repeat
        )
    if args.pg:
        url = scratch_database(args.pg, create=True)
        try:
            report["results"] += bench_backend("postgresql", url, sizes, repeat=args.repeat)
        finally:
            scratch_database(args.pg, create=False)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
