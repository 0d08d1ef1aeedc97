"""Issue #4: Salesforce pull and write-back through the real connector, against the sandbox.

    python -m tests.benchmarks.bench_salesforce [--deals 200000 --calls 500000] [--small 50000:125000]

For each size, the sandbox runs in a process of its own (`python -m sandbox.salesforce`)
so its memory is not counted. A fresh okrsync process then pulls `deals` and `calls` into an empty
SQLite store with `syncer.pull.pull_stream`, once over REST (bulk_threshold out of reach) and once
over Bulk API 2.0 (the default threshold, 50,000), and writes 5,000 changed values back. Reported:
API calls made against the minimum (docs/crm-apis.md §7.1: ⌈n/2000⌉ REST pages; 1 create + 1 poll +
⌈n/50000⌉ result sets per Bulk job; ⌈K/200⌉ sObject Collections calls), records per second, and the
okrsync process's peak RSS (VmHWM), at two sizes to show whether memory grows with the row count.
Results go to tests/benchmarks/results/salesforce.json and stdout. Numbers only; nothing asserts.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("results") / "salesforce.json"
ROOT = Path(__file__).parents[2]
REST_PAGE = 2_000  # docs/crm-apis.md §1.1
BULK_SET = 50_000  # connectors.salesforce.bulk.RESULT_SET_ROWS
COLLECTION = 200  # docs/crm-apis.md §1.4
WRITES = 5_000
NO_BULK = 1_000_000_000


def start_sandbox(deals: int, calls: int) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """The sandbox in its own process; its connection details from what it prints."""
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.salesforce", "--deals", str(deals), "--calls", str(calls)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert process.stdout is not None
    details: dict[str, str] = {}
    for line in process.stdout:
        if line.startswith("serving"):
            return process, details
        key, _, value = line.strip().partition(" ")
        if key:
            details[key] = value.strip().split("  ")[0]
    raise RuntimeError("the sandbox stopped before serving")


def source_config(details: dict[str, str], *, bulk_threshold: int) -> dict[str, Any]:
    return {
        "kind": "salesforce",
        "instance_url": details["instance_url"],
        "ca_bundle": details["ca_bundle"],
        "auth": {
            "method": "client_credentials",
            "client_id": details["client_id"],
            "client_secret": details["client_secret"],
        },
        "streams": {
            "deals": {"object": "Opportunity"},
            "calls": {"object": "Task", "where": "TaskSubtype = 'Call'"},
        },
        "bulk_threshold": bulk_threshold,
        "api_budget_share": 1.0,
    }


def child(config_json: str, write: bool) -> None:
    """One okrsync process: pull both streams into a fresh store, optionally write back; JSON out."""
    from connectors import open_connector
    from syncer.config.models import SalesforceSource
    from syncer.pull import pull_stream
    from syncer.store.database import open_store

    with tempfile.TemporaryDirectory() as scratch:
        store = open_store(f"sqlite:///{scratch}/bench.db")
        connector = open_connector("sfdc", SalesforceSource.model_validate(json.loads(config_json)))
        before = _status_kib("VmHWM")
        until = datetime.now(UTC)
        streams = []
        for stream in ("deals", "calls"):
            calls_before, started = connector.usage().calls, time.perf_counter()
            result = pull_stream(store, connector, stream, until=until)  # type: ignore[arg-type]
            seconds = time.perf_counter() - started
            streams.append({"stream": stream, "records": result.received, "pages": result.pages,
                            "calls": connector.usage().calls - calls_before, "seconds": round(seconds, 1),
                            "records_per_second": round(result.received / seconds)})  # fmt: skip
        out: dict[str, Any] = {"streams": streams, "rss_before_pull_mib": _mib(before)}
        out["peak_rss_mib"] = _mib(_status_kib("VmHWM"))
        if write:
            out["write"] = write_back(store, connector)
        connector.close()
        store.close()
    out["rusage_maxrss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(out))


def write_back(store: Any, connector: Any) -> dict[str, Any]:
    """5,000 changed values, one per stored deal: calls made and time taken."""
    from sqlalchemy import text

    from syncer.contract import WriteItem

    with store.sessions() as session:
        ids = session.execute(text("SELECT id FROM deals WHERE NOT deleted LIMIT :n"), {"n": WRITES})
        items = [WriteItem("Opportunity", row[0], {"NextStep": f"okrsync {i}"}) for i, row in enumerate(ids)]
    calls_before, started = connector.usage().calls, time.perf_counter()
    results = connector.write(items)
    return {"values": len(items), "ok": sum(r.ok for r in results),
            "calls": connector.usage().calls - calls_before,
            "seconds": round(time.perf_counter() - started, 1)}  # fmt: skip


def _status_kib(field: str) -> int | None:
    status = Path("/proc/self/status")
    if not status.exists():
        return None
    return next(
        (int(line.split()[1]) for line in status.read_text().splitlines() if line.startswith(f"{field}:")),
        None,
    )


def _mib(kib: int | None) -> float | None:
    return None if kib is None else round(kib / 1024, 1)


def run_child(config: dict[str, Any], *, write: bool) -> dict[str, Any]:
    # Through a shell that forks: Linux carries ru_maxrss across execve (VmHWM does not).
    args = [sys.executable, json.dumps(config), "--write" if write else "--no-write"]
    probe = subprocess.run(
        ["/bin/sh", "-c", '"$0" -m tests.benchmarks.bench_salesforce --child "$1" "$2"', *args],
        check=True, capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(probe.stdout.strip().splitlines()[-1])
    return result


def minimum_calls(records: int, mode: str, *, first: bool) -> int:
    """docs/crm-apis.md §7.1: 1 describe (+1 token for the first stream), then REST pages, or create +
    one poll + result sets of one Bulk job."""
    fixed = 2 if first else 1
    if mode == "rest":
        return fixed + max(1, math.ceil(records / REST_PAGE))
    return fixed + 2 + max(1, math.ceil(records / BULK_SET))


def bench_size(deals: int, calls: int) -> list[dict[str, Any]]:
    started = time.perf_counter()
    process, details = start_sandbox(deals, calls)
    print(
        f"sandbox {deals:,} deals / {calls:,} calls up in {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    runs = []
    try:
        for mode, threshold in (("rest", NO_BULK), ("bulk", 50_000)):
            # Write last: the sandbox stamps each write ≥ 1 ms after the previous one, so 5,000 writes
            # run ahead of the wall clock, past the `until` of a pull that would follow them.
            result = run_child(source_config(details, bulk_threshold=threshold), write=mode == "bulk")
            for i, stream in enumerate(result["streams"]):
                stream["minimum_calls"] = minimum_calls(stream["records"], mode, first=i == 0)
            if "write" in result:
                result["write"]["minimum_calls"] = math.ceil(result["write"]["values"] / COLLECTION)
            run = {"mode": mode, "sample_deals": deals, "sample_calls": calls, **result}
            print(f"  {json.dumps(run)}", file=sys.stderr)
            runs.append(run)
    finally:
        process.terminate()
        process.wait(timeout=30)
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_salesforce", description=__doc__)
    parser.add_argument("--deals", type=int, default=200_000)
    parser.add_argument("--calls", type=int, default=500_000)
    parser.add_argument(
        "--small", default="50000:125000", help="deals:calls of the smaller size ('' to skip)"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument(
        "--write", action=argparse.BooleanOptionalAction, default=False, help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.write)
        return 0
    sizes = [tuple(int(n) for n in args.small.split(":"))] if args.small else []
    sizes.append((args.deals, args.calls))
    runs = [run for deals, calls in sizes for run in bench_size(deals, calls)]
    report = {"benchmark": "salesforce", "machine": {"python": platform.python_version(),
              "cpus": os.cpu_count(), "platform": platform.platform()}, "runs": runs}  # fmt: skip
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
