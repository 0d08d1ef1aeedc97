"""Issues #4 and #14: the Salesforce pull against the bare simple-salesforce client, same run, same sandbox.

    python -m tests.benchmarks.bench_salesforce [--sizes 50000,100000] [--repeat 3] [--pg URL]
                                                [--streams deals] [--modes rest,bulk] [--write]

For each size, the sandbox runs in a process of its own (`python -m sandbox.salesforce`, rate limits
out of reach: the daily allocation is raised to 10^9), so its memory is not counted. Then, per
repetition and per mode (REST with `bulk_threshold` out of reach; Bulk API 2.0 with the default
50,000), fresh processes each:

- **bare**: simple-salesforce alone reads the same SOQL okrsync sends (`query_all_iter` with
  `include_deleted`, or `bulk2.<Object>.query_all` with okrsync's first poll wait of 0.5 s), and
  only iterates the rows (Bulk: `csv.reader` over each result set);
- **okrsync**: `syncer.pull.pull_stream` into an empty store: SQLite (a fresh file) and, with
  `--pg`, PostgreSQL (a scratch database created on that server, dropped at the end).

The bare read runs right after each okrsync pull, with the SOQL that pull sent, so each ratio
compares two adjacent runs (the load of a shared machine drifts within seconds).

Reported per size, mode, store and stream: the median seconds of the repetitions, the ratio
bare/okrsync of each repetition and store (1.0: as fast as the bare client) and its median,
records/s, API calls against the minimum (docs/crm-apis.md §7.1: ⌈n/2000⌉ REST pages; create + one poll +
⌈n/50000⌉ result sets per Bulk job; plus one describe, and the token for the first stream), and
each process's peak RSS (VmHWM). The machine is shared: ratios within one repetition are what
count. `--write` also writes 5,000 changed values back after the last SQLite pull (issue #4).
Results go to tests/benchmarks/results/salesforce.json and stdout. Numbers only; nothing asserts.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
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
API_LIMIT = 1_000_000_000  # the emulation's daily allocation: no run comes near it
SIDE_CALLS = 2_000  # the sandbox's calls when only deals are measured: a small stream beside them


def start_sandbox(deals: int, calls: int) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """The sandbox in its own process (`serve_sandbox`); its connection details from what it prints."""
    job = json.dumps({"deals": deals, "calls": calls})
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.benchmarks.bench_salesforce", "--child", "sandbox", job],
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
            details[key] = value.strip()
    raise RuntimeError("the sandbox stopped before serving")


def serve_sandbox(job: dict[str, Any]) -> None:
    """The sandbox org, as `python -m sandbox.salesforce` runs it, with the daily allocation lifted."""
    import signal
    import threading

    from sandbox.salesforce import SalesforceSandbox, SandboxSettings
    from sandbox.sample_org import SampleScale

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    settings = SandboxSettings(ticking=True, api_limit=API_LIMIT)
    scale = SampleScale(deals=job["deals"], calls=job["calls"])
    with SalesforceSandbox(scale=scale, settings=settings) as sf:
        for key in ("instance_url", "ca_bundle", "client_id", "client_secret"):
            print(f"{key} {getattr(sf, key)}")
        print("serving", flush=True)
        threading.Event().wait()


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


# ---------------------------------------------------------------- child processes


def child_bare(job: dict[str, Any]) -> dict[str, Any]:
    """simple-salesforce alone: read each stream's SOQL, iterate the rows, nothing else."""
    import requests
    from simple_salesforce.api import Salesforce

    details = job["details"]
    os.environ["REQUESTS_CA_BUNDLE"] = details["ca_bundle"]  # what requests' users set; it wins over `verify`
    session = requests.Session()
    token = session.post(
        details["instance_url"] + "/services/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": details["client_id"],
              "client_secret": details["client_secret"]},
    ).json()["access_token"]  # fmt: skip
    sf = Salesforce(instance_url=details["instance_url"], session_id=token, session=session)
    streams = []
    for stream in job["streams"]:
        soql, object_name = job["soql"][stream], job["objects"][stream]
        started = time.perf_counter()
        rows = 0
        if job["mode"] == "rest":
            for _row in sf.query_all_iter(soql, include_deleted=True):
                rows += 1
        else:
            bulk = getattr(sf.bulk2, object_name)
            for result_set in bulk.query_all(soql, max_records=BULK_SET, wait=0.5):
                reader = csv.reader(io.StringIO(result_set))
                next(reader, None)  # the header
                for _values in reader:
                    rows += 1
        seconds = time.perf_counter() - started
        streams.append({"stream": stream, "records": rows, "seconds": round(seconds, 3)})
    return {"streams": streams, "peak_rss_mib": _mib(_status_kib("VmHWM"))}


def child_pull(job: dict[str, Any]) -> dict[str, Any]:
    """okrsync: pull each stream into an empty store; also the SOQL the bare client is to send."""
    from connectors import open_connector
    from connectors.salesforce import soql
    from syncer.config.models import SalesforceSource
    from syncer.pull import pull_bound, pull_stream
    from syncer.store.database import open_store

    config = SalesforceSource.model_validate(job["config"])
    with tempfile.TemporaryDirectory() as scratch:
        store = open_store(job["store"] or f"sqlite:///{scratch}/bench.db")
        connector: Any = open_connector("sfdc", config)
        until = pull_bound(datetime.now(UTC), [connector])
        out: dict[str, Any] = {"rss_before_pull_mib": _mib(_status_kib("VmHWM")), "soql": {}, "objects": {}}
        streams = []
        for stream in job["streams"]:
            calls_before, started = connector.usage().calls, time.perf_counter()
            result = pull_stream(store, connector, stream, until=until)
            seconds = time.perf_counter() - started
            streams.append({"stream": stream, "records": result.received, "changed": result.changed,
                            "pages": result.pages, "calls": connector.usage().calls - calls_before,
                            "seconds": round(seconds, 3),
                            "records_per_second": round(result.received / seconds)})  # fmt: skip
            plan = connector._plan(stream)  # the same window okrsync read, for the bare client
            build = soql.pull_query if job["mode"] == "rest" else soql.bulk_query
            out["soql"][stream] = build(plan, since=None, until=until)
            out["objects"][stream] = plan.object
        out["streams"] = streams
        out["peak_rss_mib"] = _mib(_status_kib("VmHWM"))
        if job.get("write"):
            out["write"] = write_back(store, connector)
        connector.close()
        store.close()
    out["rusage_maxrss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


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


def run_child(kind: str, job: dict[str, Any]) -> dict[str, Any]:
    # Through a shell that forks: Linux carries ru_maxrss across execve (VmHWM does not).
    args = [sys.executable, kind, json.dumps(job)]
    probe = subprocess.run(
        ["/bin/sh", "-c", '"$0" -m tests.benchmarks.bench_salesforce --child "$1" "$2"', *args],
        check=True, capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(probe.stdout.strip().splitlines()[-1])
    return result


# ---------------------------------------------------------------- stores


def scratch_database(server: str) -> str:
    """A new, empty PostgreSQL database on `server`; its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"okrsync_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def drop_database(server: str, url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


# ---------------------------------------------------------------- one size


def minimum_calls(records: int, mode: str, *, first: bool) -> int:
    """docs/crm-apis.md §7.1: 1 describe (+1 token for the first stream), then REST pages, or the REST
    query that tells the window's size, create + one poll + result sets of one Bulk job."""
    fixed = 2 if first else 1
    if mode == "rest":
        return fixed + max(1, math.ceil(records / REST_PAGE))
    return fixed + 1 + 2 + max(1, math.ceil(records / BULK_SET))


def bench_size(size: int, args: argparse.Namespace) -> list[dict[str, Any]]:
    streams = args.streams.split(",")
    started = time.perf_counter()
    process, details = start_sandbox(size, size if "calls" in streams else SIDE_CALLS)
    print(f"sandbox of {size:,} rows per stream up in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    stores = [("sqlite", None)] + ([("postgresql", args.pg)] if args.pg else [])
    runs = []
    try:
        for mode, threshold in [(m, t) for m, t in (("rest", NO_BULK), ("bulk", 50_000)) if m in args.modes]:
            config = source_config(details, bulk_threshold=threshold)
            reps: list[dict[str, Any]] = []
            for rep in range(args.repeat):
                pulls: dict[str, dict[str, Any]] = {}
                bares: dict[str, dict[str, Any]] = {}
                for kind, server in stores:
                    url = scratch_database(server) if server else None
                    try:
                        write = args.write and kind == "sqlite" and mode == "bulk" and rep == args.repeat - 1
                        job = {
                            "config": config,
                            "store": url,
                            "streams": streams,
                            "mode": mode,
                            "write": write,
                        }
                        pulls[kind] = run_child("pull", job)
                    finally:
                        if server and url:
                            drop_database(server, url)
                    # The bare read right after each pull, of the SOQL that pull sent: the load
                    # of a shared machine drifts, so each ratio compares two adjacent runs.
                    bare_job = {"details": details, "streams": streams, "mode": mode,
                                "soql": pulls[kind]["soql"], "objects": pulls[kind]["objects"]}  # fmt: skip
                    bares[kind] = run_child("bare", bare_job)
                reps.append({"bare": bares, "okrsync": pulls})
                print(f"  {mode} rep {rep + 1}: {_line(bares, pulls)}", file=sys.stderr)
            runs.append(summarise(size, mode, reps))
    finally:
        process.terminate()
        process.wait(timeout=30)
    return runs


def _line(bares: dict[str, dict[str, Any]], pulls: dict[str, dict[str, Any]]) -> str:
    parts = []
    for kind, pull in pulls.items():
        bare, okrsync = _total(bares[kind]), _total(pull)
        parts.append(f"{kind} {okrsync:.2f} s (bare {bare:.2f} s, ratio {bare / okrsync:.2f})")
    return ", ".join(parts)


def _total(result: dict[str, Any]) -> float:
    return float(sum(s["seconds"] for s in result["streams"]))


def summarise(size: int, mode: str, reps: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over the repetitions, per store and stream; each ratio from one repetition."""
    run: dict[str, Any] = {"mode": mode, "rows_per_stream": size, "repetitions": len(reps), "stores": {}}
    kinds = list(reps[0]["okrsync"])
    every_bare = [r["bare"][kind] for r in reps for kind in kinds]
    stream_names = [s["stream"] for s in every_bare[0]["streams"]]
    all_bare_seconds = {n: [_stream(b, n)["seconds"] for b in every_bare] for n in stream_names}
    run["bare"] = {
        n: {"records": _stream(every_bare[0], n)["records"],
            "seconds_median": statistics.median(all_bare_seconds[n]), "seconds": all_bare_seconds[n],
            "records_per_second": round(_stream(every_bare[0], n)["records"]
                                        / statistics.median(all_bare_seconds[n])),
            "peak_rss_mib": max(b["peak_rss_mib"] or 0 for b in every_bare)}
        for n in stream_names
    }  # fmt: skip
    for kind in kinds:
        per_stream = {}
        for i, n in enumerate(stream_names):
            pulls = [_stream(r["okrsync"][kind], n) for r in reps]
            seconds = [p["seconds"] for p in pulls]
            bare_seconds = [_stream(r["bare"][kind], n)["seconds"] for r in reps]  # each pull's own
            ratios = [round(b / s, 3) for b, s in zip(bare_seconds, seconds, strict=True)]
            records = pulls[0]["records"]
            per_stream[n] = {
                "records": records, "pages": pulls[0]["pages"], "seconds": seconds,
                "seconds_median": statistics.median(seconds), "bare_seconds": bare_seconds,
                "ratio_bare_over_okrsync": ratios, "ratio_median": statistics.median(ratios),
                "records_per_second": round(records / statistics.median(seconds)),
                "calls": pulls[0]["calls"], "minimum_calls": minimum_calls(records, mode, first=i == 0),
            }  # fmt: skip
        last = reps[-1]["okrsync"][kind]
        run["stores"][kind] = {
            "streams": per_stream,
            "peak_rss_mib": max(r["okrsync"][kind]["peak_rss_mib"] or 0 for r in reps),
            "rss_before_pull_mib": last["rss_before_pull_mib"],
        }
        if "write" in last:
            last["write"]["minimum_calls"] = math.ceil(last["write"]["values"] / COLLECTION)
            run["stores"][kind]["write"] = last["write"]
    return run


def _stream(result: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in result["streams"] if s["stream"] == name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_salesforce", description=__doc__)
    parser.add_argument("--sizes", default="50000,100000", help="rows per stream, comma-separated")
    parser.add_argument("--streams", default="deals", help="deals, calls or deals,calls")
    parser.add_argument("--modes", default="rest,bulk", help="rest, bulk or rest,bulk")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions; medians are reported")
    parser.add_argument(
        "--pg", help="a PostgreSQL server URL (postgresql+psycopg://…) to create a scratch database on"
    )
    parser.add_argument("--write", action="store_true", help="also write 5,000 values back (issue #4)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, job = args.child
        if kind == "sandbox":
            serve_sandbox(json.loads(job))
            return 0
        result = child_bare(json.loads(job)) if kind == "bare" else child_pull(json.loads(job))
        print(json.dumps(result))
        return 0
    runs = [run for size in (int(n) for n in args.sizes.split(",")) for run in bench_size(size, args)]
    report = {"benchmark": "salesforce", "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
              "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                          "platform": platform.platform()}, "runs": runs}  # fmt: skip
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
