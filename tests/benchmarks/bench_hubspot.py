"""Issue #14: HubSpot pull through the real connector against the sandbox: calls, rate and time.

    python -m tests.benchmarks.bench_hubspot [--sizes 50000,100000]

For each size (rows: half deals, a fifth of them renewals, half calls) the sandbox runs in a
process of its own (`python -m sandbox.hubspot`), twice:
- with its rate limits lifted: the bare hubspot-api-client lists every deal and call (live and
  archived, the properties okrsync asks for, 100 a page), then a fresh okrsync process pulls the
  same rows into an empty SQLite store with `syncer.pull.pull_source`, its own limiter lifted too
  (ratio = bare time / okrsync time, same run);
- enforcing HubSpot's limits set to okrsync's configured ones (90 general calls per rolling
  10 s, 5 searches a second): okrsync pulls in full, then runs a cycle with nothing changed, then
  one with the archived sweep due. Reported: calls per operation and per object against the
  minimum (one list page per 100 records of each object, live and archived, plus the owners' pages
  and the pipelines call), the rate achieved (mean general calls in a rolling 10 s over the pull,
  against the limit), the share of calls answered 429 (retries: the sandbox fails nothing else),
  and the okrsync process's peak RSS (VmHWM).
Each cycle opens a new connector that keeps CRM metadata in the store, and reads the portal's
identity first, as every `okrsync run` cycle does: that one account-info call is reported apart
(`account_calls`), not in `calls`.
Results go to tests/benchmarks/results/hubspot.json and stdout. Numbers only; nothing asserts.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("results") / "hubspot.json"
ROOT = Path(__file__).parents[2]
LIST_PAGE = 100  # docs/crm-apis.md §3.1
GENERAL_LIMIT = 90  # okrsync's default requests_per_10s
SEARCH_LIMIT = 5
WINDOW = 10.0
STREAMS = {"deals": {"pipelines": ["default"]}, "calls": {}, "renewals": {"pipelines": ["renewals"]}}


def start_sandbox(rows: int, *, limited: bool) -> tuple[subprocess.Popen[str], dict[str, str]]:
    deals, calls = rows // 2, rows - rows // 2
    limits = [str(GENERAL_LIMIT), str(SEARCH_LIMIT)] if limited else ["0", "0"]
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.hubspot", "--deals", str(deals - deals // 5),
         "--renewals", str(deals // 5), "--calls", str(calls),
         "--ten-secondly", limits[0], "--search-per-second", limits[1]],
        stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    assert process.stdout is not None
    details: dict[str, str] = {}
    for line in process.stdout:
        if line.startswith("serving"):
            return process, details
        key, _, value = line.strip().partition(" ")
        if key:
            details[key] = value.strip()
    raise RuntimeError("the sandbox stopped before serving")


def counts(details: dict[str, str], name: str) -> tuple[int, int]:
    live, _, rest = details[name].partition(" live, ")
    return int(live), int(rest.split()[0])


def minimum_calls(details: dict[str, str]) -> int:
    """One list page per 100 records of each object (live and archived), 2 owner pages, 1 pipelines."""
    pages = sum(
        max(1, math.ceil(n / LIST_PAGE)) for name in ("deals", "calls") for n in counts(details, name)
    )
    return pages + 2 + 1


def source_config(details: dict[str, str], *, limited: bool) -> dict[str, Any]:
    rate = {"requests_per_10s": GENERAL_LIMIT if limited else 1_000_000, "search_per_second": SEARCH_LIMIT}
    return {"kind": "hubspot", "base_url": details["base_url"],
            "auth": {"method": "private_app", "access_token": details["access_token"]},
            "streams": STREAMS, "rate_limit": rate}  # fmt: skip


# ---------------------------------------------------------------- child processes


def bare_child(config_json: str) -> None:
    """The bare client: every deal and call, live and archived, with okrsync's properties."""
    import hubspot

    from connectors.hubspot import mapping

    config = json.loads(config_json)
    client = hubspot.HubSpot(access_token=config["auth"]["access_token"], host=config["base_url"])
    properties = {
        "deals": sorted({*mapping.DEFAULT_FIELDS["deals"].values(), *mapping.DEFAULT_FIELDS["renewals"].values(),
                         mapping.MODIFIED}),
        "calls": sorted({*mapping.DEFAULT_FIELDS["calls"].values(), mapping.MODIFIED}),
    }  # fmt: skip
    started, rows, calls = time.perf_counter(), 0, 0
    for object_type, wanted in properties.items():
        for archived in (False, True):
            after = None
            while True:
                page = client.crm.objects.basic_api.get_page(
                    object_type, limit=LIST_PAGE, properties=wanted, archived=archived, after=after
                )
                calls, rows = calls + 1, rows + len(page.results)
                after = page.paging.next.after if page.paging and page.paging.next else None
                if after is None:
                    break
    seconds = time.perf_counter() - started
    print(json.dumps({"rows": rows, "calls": calls, "seconds": round(seconds, 2), "peak_rss_mib": _mib()}))


def okrsync_child(config_json: str, cycles: bool) -> None:
    """okrsync: a full pull into a fresh store; with `cycles`, a no-change cycle and a sweep cycle."""
    from syncer.config.models import HubSpotSource
    from syncer.store.database import open_store

    with tempfile.TemporaryDirectory() as scratch:
        store = open_store(f"sqlite:///{scratch}/bench.db")
        source = HubSpotSource.model_validate(json.loads(config_json))
        out: dict[str, Any] = {}
        until = datetime.now(UTC)
        out["full"] = _cycle(store, source, until)
        out["peak_rss_mib"] = _mib()
        if cycles:
            time.sleep(1.0)
            out["no_change"] = _cycle(store, source, datetime.now(UTC))
            # The sweep, owners and pipelines are due once `deletes_every` (1 h) has passed.
            out["sweep_due"] = _cycle(store, source, until + timedelta(hours=1, seconds=2))
        store.close()
    print(json.dumps(out))


def _cycle(store: Any, source: Any, until: datetime) -> dict[str, Any]:
    """One cycle's pull as `okrsync run` makes it: a new connector keeping metadata in the store,
    the portal's identity read first (its calls counted apart), then `pull_source`."""
    from connectors import open_connector
    from syncer.pull import pull_source
    from syncer.store.metadata_cache import StoreMetadataCache

    connector: Any = open_connector("hub", source, metadata=StoreMetadataCache(store, "hub"))
    log = _instrument(connector)
    try:
        connector.identity()
        account_calls = connector.usage().calls
        pulled = _timed_pull(pull_source, store, connector, log, until)
    finally:
        connector.close()
    return pulled | {"account_calls": account_calls}


def _instrument(connector: Any) -> list[tuple[str, float, float]]:
    """Each call's operation, and when it was sent and answered (okrsync's own client, wrapped)."""
    client, log = connector._client, []
    send = client._send

    def timed(operation: str, request: Any, kind: Any) -> Any:
        started = time.monotonic()
        try:
            return send(operation, request, kind)
        finally:
            log.append((operation, started, time.monotonic()))

    client._send = timed
    return log


def _timed_pull(
    pull_source: Any, store: Any, connector: Any, log: list[Any], until: datetime
) -> dict[str, Any]:
    first, before, retries = len(log), connector.usage().calls, connector.usage().retries
    started = time.perf_counter()
    result = pull_source(store, connector, list(STREAMS), until=until)
    seconds = time.perf_counter() - started
    calls = log[first:]
    made = connector.usage().calls - before
    general = sorted((s + e) / 2 for op, s, e in calls if not op.startswith("search"))
    return {
        "seconds": round(seconds, 2),
        "records": sum(s.received for s in result.streams),
        "changed": {s.stream: s.changed for s in result.streams},
        "calls": made,
        "calls_by_operation": dict(Counter(op for op, _, _ in calls)),
        # The object each call read: deals, calls, owners, pipelines ("list deal pipelines").
        "calls_by_object": dict(Counter(op.split()[-1] for op, _, _ in calls)),
        "answered_429": connector.usage().retries - retries,
        "share_429": round((connector.usage().retries - retries) / made, 4) if made else 0.0,
        "general_rate_per_10s": _mean_in_window(general, WINDOW),
        "errors": [s.error for s in result.streams if s.error] + ([result.error] if result.error else []),
    }


def _mean_in_window(stamps: list[float], window: float, step: float = 0.01) -> float | None:
    """Mean count of calls in [t, t + window) for t from the first call to the last − window."""
    if not stamps or stamps[-1] - stamps[0] <= window:
        return None
    starts = [stamps[0] + i * step for i in range(int((stamps[-1] - window - stamps[0]) / step) + 1)]
    total, low, high = 0, 0, 0
    for t in starts:  # two pointers over the sorted stamps
        while low < len(stamps) and stamps[low] < t:
            low += 1
        while high < len(stamps) and stamps[high] < t + window:
            high += 1
        total += high - low
    return round(total / len(starts), 2)


def _mib() -> float | None:
    status = Path("/proc/self/status")
    if not status.exists():
        return None
    kib = next(
        (int(line.split()[1]) for line in status.read_text().splitlines() if line.startswith("VmHWM:")), None
    )
    return None if kib is None else round(kib / 1024, 1)


def run_child(mode: str, config: dict[str, Any]) -> dict[str, Any]:
    probe = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.bench_hubspot", f"--{mode}", json.dumps(config)],
        check=True, capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(probe.stdout.strip().splitlines()[-1])
    return result


# ---------------------------------------------------------------- per size


def bench_size(rows: int) -> dict[str, Any]:
    run: dict[str, Any] = {"rows": rows}
    process, details = start_sandbox(rows, limited=False)
    try:
        run["sandbox"] = {name: details[name] for name in ("deals", "calls", "owners")}
        run["minimum_calls"] = minimum_calls(details)
        run["bare"] = run_child("bare", source_config(details, limited=False))
        unlimited = run_child("okrsync", source_config(details, limited=False))["full"]
        run["okrsync_unlimited"] = unlimited
        run["ratio_unlimited"] = round(run["bare"]["seconds"] / unlimited["seconds"], 3)
    finally:
        process.terminate()
        process.wait(timeout=30)
    process, details = start_sandbox(rows, limited=True)
    try:
        limited = run_child("okrsync-cycles", source_config(details, limited=True))
        run["okrsync_limited"] = limited
        full = limited["full"]
        run["ratio_limited"] = round(run["bare"]["seconds"] / full["seconds"], 3)
        run["calls_over_minimum"] = round(full["calls"] / run["minimum_calls"], 3)
        rate = full["general_rate_per_10s"]
        run["rate_over_limit"] = None if rate is None else round(rate / GENERAL_LIMIT, 3)
    finally:
        process.terminate()
        process.wait(timeout=30)
    print(f"  {json.dumps(run)}", file=sys.stderr)
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_hubspot", description=__doc__)
    parser.add_argument("--sizes", default="50000,100000", help="rows per run, comma-separated")
    parser.add_argument("--bare", help=argparse.SUPPRESS)
    parser.add_argument("--okrsync", help=argparse.SUPPRESS)
    parser.add_argument("--okrsync-cycles", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.bare:
        bare_child(args.bare)
        return 0
    if args.okrsync or args.okrsync_cycles:
        okrsync_child(args.okrsync or args.okrsync_cycles, cycles=bool(args.okrsync_cycles))
        return 0
    runs = [bench_size(int(n)) for n in args.sizes.split(",") if n]
    report = {"benchmark": "hubspot", "machine": {"python": platform.python_version(),
              "cpus": os.cpu_count(), "platform": platform.platform()},
              "limits": {"requests_per_10s": GENERAL_LIMIT, "search_per_second": SEARCH_LIMIT}, "runs": runs}  # fmt: skip
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
