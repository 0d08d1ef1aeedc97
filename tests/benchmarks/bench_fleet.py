"""Issue #14, item 5: 30 sandbox orgs on `okrsync fleet`, 1 worker process against 3.

    python -m tests.benchmarks.bench_fleet [--orgs 30] [--seconds 120] [--latency 0.15] [--every 10s]

Every org is its own Salesforce sandbox (distinct seeds), YAML and SQLite store
(tests/integration/fleet_orgs.py). Each sandbox answer is delayed by `--latency` seconds, as a
CRM across the internet answers, so a cycle waits on the network as it would in production
rather than on this 2-core machine's CPU, shared by sandboxes, workers and the broker.

1. Warm-up (not measured): 3 workers run every org's first (full) cycle.
2. For 1, then 3 worker processes (one cycle at a time each): `okrsync fleet beat` queues every
   org on its `schedule` (`--every`, shorter than one worker can serve: the fleet is saturated)
   for `--seconds`. Measured: cycles finished `ok` in the window, per hour; freshness, sampled
   every 2 s in the window's last two thirds, as the age of each org's last `ok` cycle (p50, p95).
3. Exactness after a kill: a few won deals of every org change amount; 3 workers get one cycle
   of each org; one org's query answers 503 with Retry-After, and the worker holding that org's
   lease is SIGKILLed while it waits. Every org's written values are then compared with
   `expected_per_rep` over its raw records, and every store's runs are checked for overlaps.

Prints and writes tests/benchmarks/results/fleet.json. The machine is shared: the ratio of the
two phases, measured in one run, is what counts.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sandbox.sample_org import SampleScale
from tests.integration.fleet_orgs import (
    FleetUnderTest,
    WorkerProcess,
    delete_queue,
    lease_pid,
    overlapping_runs,
    reachable_broker,
    runs_of,
    sandbox_orgs,
    send_cycles,
    start_beat,
    start_worker,
    unique_queue,
    wait_for,
    with_latency,
)
from tests.integration.test_salesforce_cycle import current_quarter, expected_per_rep, written_user_fields

RESULTS = Path(__file__).with_name("results") / "fleet.json"
SCALE = SampleScale(reps=6, accounts=40, deals=150, renewals=0, calls=400, emails=0)
SAMPLE_SECONDS = 2.0


def last_ok(runs: list[tuple[int, str, datetime, datetime | None]], at: datetime) -> datetime | None:
    ends = [r[3] for r in runs if r[1] == "ok" and r[3] is not None and r[3] <= at]
    return max(ends) if ends else None


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def naive_utc(moment: datetime) -> datetime:
    """The stores keep UTC instants without a zone (SQLite)."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def measure(fleet: FleetUnderTest, workdir: Path, workers: int, seconds: float) -> dict[str, Any]:
    """Beat and `workers` worker processes for `seconds`: cycles per hour and freshness."""
    started = [start_worker(fleet, workdir / f"w{workers}-{i}.log") for i in range(workers)]
    wait_for(lambda: all(w.healthy() for w in started), "the workers", seconds=60)
    beat = start_beat(fleet, workdir / f"beat{workers}.log")
    begin = datetime.now(UTC)
    ages: list[float] = []
    try:
        while (datetime.now(UTC) - begin).total_seconds() < seconds:
            time.sleep(SAMPLE_SECONDS)
            now = datetime.now(UTC)
            if (now - begin).total_seconds() < seconds / 3:  # the previous phase's backlog drains first
                continue
            for org in fleet.orgs:
                ended = last_ok(runs_of(org.store), naive_utc(now))
                if ended is not None:
                    ages.append((naive_utc(now) - ended).total_seconds())
    finally:
        end = datetime.now(UTC)
        beat.send_signal(signal.SIGTERM)
        beat.wait(timeout=30)
        for worker in started:
            worker.stop()
    finished = [
        run
        for org in fleet.orgs
        for run in runs_of(org.store)
        if run[1] == "ok" and run[3] is not None and naive_utc(begin) <= run[3] <= naive_utc(end)
    ]
    window = (end - begin).total_seconds()
    return {
        "workers": workers,
        "window_seconds": round(window, 1),
        "cycles": len(finished),
        "cycles_per_hour": round(len(finished) * 3600 / window),
        "freshness_p50_seconds": round(percentile(ages, 0.5), 1),
        "freshness_p95_seconds": round(percentile(ages, 0.95), 1),
        "mean_cycle_seconds": round(statistics.mean((r[3] - r[2]).total_seconds() for r in finished), 2),  # type: ignore[operator]
    }


def change_deals(fleet: FleetUnderTest) -> None:
    """Three won deals of this quarter per org gain 1,000: the next cycle has values to write."""
    start, end = current_quarter()
    for org in fleet.orgs:
        won = [
            o for o in org.sandbox.org.records("Opportunity") if o["IsWon"] and start <= o["CloseDate"] <= end
        ]
        for opp in won[:3]:
            org.sandbox.org.update("Opportunity", opp["Id"], {"Amount": (opp["Amount"] or 0) + 1000})


def kill_mid_cycle(fleet: FleetUnderTest, workdir: Path) -> dict[str, Any]:
    change_deals(fleet)
    time.sleep(1.1)  # a cycle reads changes up to its start, in whole seconds
    since = naive_utc(datetime.now(UTC))
    victim = fleet.orgs[0]
    victim.sandbox.requests.clear()
    victim.sandbox.fail_next(1, status=503, path_contains="/query", retry_after=60)
    workers = [start_worker(fleet, workdir / f"kill-{i}.log") for i in range(3)]
    try:
        wait_for(lambda: all(w.healthy() for w in workers), "the workers", seconds=60)
        send_cycles(fleet)
        try:
            wait_for(
                lambda: any(r.status == 503 for r in victim.sandbox.requests),
                "the victim mid-cycle",
                seconds=120,
            )
        except AssertionError as exc:
            logs = "\n".join(f"--- {w.log.name}\n{w.tail()}" for w in workers)
            raise AssertionError(
                f"{exc}; {len(victim.sandbox.requests)} requests to the victim\n{logs}"
            ) from None
        holder = wait_for(lambda: lease_pid(victim.store), "the victim's lease holder", seconds=60)
        [killed] = [w for w in workers if w.pid == holder]
        killed.process.send_signal(signal.SIGKILL)
        killed.process.wait(timeout=10)
        killed_at = time.monotonic()

        def done() -> bool:
            return all(any(r[1] == "ok" and r[2] >= since for r in runs_of(org.store)) for org in fleet.orgs)

        wait_for(done, "every org's cycle after the kill", seconds=300)
        recovered = time.monotonic() - killed_at
    finally:
        for worker in workers:
            worker.stop()
    exact = [
        org.name for org in fleet.orgs if written_user_fields(org.sandbox) == expected_per_rep(org.sandbox)
    ]
    statuses = [r[1] for r in runs_of(victim.store) if r[2] >= since]
    return {
        "victim": victim.name,
        "victim_runs_after_change": statuses,
        "redelivered": statuses[:1] == ["abandoned"] and "ok" in statuses,
        "seconds_from_kill_to_all_done": round(recovered, 1),
        "orgs_exact": len(exact),
        "orgs": len(fleet.orgs),
    }


def stop_all(workers: list[WorkerProcess]) -> None:
    for worker in workers:
        worker.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_fleet", description=__doc__)
    parser.add_argument("--orgs", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=120.0, help="length of each measured phase")
    parser.add_argument("--latency", type=float, default=0.15, help="seconds added to every sandbox answer")
    parser.add_argument("--every", default="10s", help="each org's schedule in the measured phases")
    args = parser.parse_args(argv)
    broker, kind = reachable_broker()
    if broker is None:
        print(f"bench_fleet: {kind}", file=sys.stderr)
        return 1
    queue = unique_queue()
    restore = with_latency(args.latency)
    try:
        with tempfile.TemporaryDirectory(prefix="okrsync-fleet-") as scratch:
            workdir = Path(scratch)
            schedule = f"{{every: {args.every}}}"
            with sandbox_orgs(
                workdir, args.orgs, broker=broker, queue=queue, scale=SCALE, schedule=schedule
            ) as fleet:
                warm = [start_worker(fleet, workdir / f"warm-{i}.log") for i in range(3)]
                wait_for(lambda: all(w.healthy() for w in warm), "the workers", seconds=60)
                send_cycles(fleet)
                wait_for(
                    lambda: all(any(r[1] == "ok" for r in runs_of(o.store)) for o in fleet.orgs),
                    "every org's first cycle",
                    seconds=600,
                )
                stop_all(warm)
                phases = []
                for workers in (1, 3):
                    delete_queue(broker, queue)  # no backlog carried from one phase into the next
                    phases.append(measure(fleet, workdir, workers, args.seconds))
                    print(json.dumps(phases[-1]), flush=True)
                delete_queue(broker, queue)
                kill = kill_mid_cycle(fleet, workdir)
                overlaps = {org.name: overlapping_runs(runs_of(org.store)) for org in fleet.orgs}
    finally:
        restore()
        delete_queue(broker, queue)
    result = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "broker": kind,
        "orgs": args.orgs,
        "sandbox_latency_seconds": args.latency,
        "schedule": args.every,
        "scale": {"reps": SCALE.reps, "deals": SCALE.deals, "calls": SCALE.calls},
        "phases": phases,
        "scaling_3_vs_1": round(
            phases[1]["cycles"]
            / phases[0]["cycles"]
            * phases[0]["window_seconds"]
            / phases[1]["window_seconds"],
            2,
        ),
        "overlapping_runs": sum(len(pairs) for pairs in overlaps.values()),
        "kill": kill,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
