"""Orgs, a broker and worker processes for the fleet test (test_fleet.py) and benchmark (bench_fleet.py).

Each org is its own Salesforce sandbox (another seed: other reps, deals and calls), its own YAML
and its own SQLite store. The expected values come from `expected_per_rep` over the sandbox's raw
records (test_salesforce_cycle.py), never from okrsync's mapping or SQL.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect, text

from sandbox.salesforce import SalesforceSandbox, SandboxSettings
from sandbox.salesforce.server import SalesforceApi
from sandbox.sample_org import DEFAULT_SCALE, SampleScale
from syncer.commands.crm import ensure_fields
from syncer.config import load_settings
from syncer.store.lease import CYCLE_LEASE

ORG_YAML = """
version: 1
store: sqlite:///{store}
timezone: America/New_York
sources:
  sfdc:
    kind: salesforce
    instance_url: ${{{prefix}_SF_URL}}
    ca_bundle: ${{{prefix}_SF_CA}}
    auth:
      method: client_credentials
      client_id: ${{{prefix}_SF_CLIENT_ID}}
      client_secret: ${{{prefix}_SF_CLIENT_SECRET}}
    schedule: {schedule}
    page_size: 200
    owners: {{team_field: Department, region_field: Division, where: "Department != null"}}
    streams:
      deals: {{object: Opportunity, where: "RecordType.DeveloperName != 'Partner'"}}
      calls: {{object: Task, where: "TaskSubtype = 'Call'"}}
objectives:
  - key: q-revenue
    period: current_quarter
    key_results:
      - key: revenue
        metric: {{kind: sum, stream: deals, field: amount, where: {{is_won: true}}, date: close_date}}
        target: 1000000
        group_by: owner
      - key: new-deals
        metric: {{kind: count, stream: deals, where: {{is_won: true, type: new}}, date: close_date}}
        target: 40
        group_by: owner
  - key: activity
    period: current_quarter
    key_results:
      - key: calls
        metric: {{kind: count, stream: calls, date: occurred_at}}
        target: 500
        group_by: owner
writeback:
  - source: sfdc
    object: User
    match: owner
    fields:
      Q_Revenue__c: q-revenue.revenue.value
      Q_New_Deals__c: q-revenue.new-deals.value
      Q_Calls__c: activity.calls.value
"""


@dataclass
class FleetOrg:
    name: str
    sandbox: SalesforceSandbox
    config: Path
    store: str
    env: dict[str, str]


@dataclass
class FleetUnderTest:
    file: Path
    orgs: list[FleetOrg]
    env: dict[str, str]  # every org's variables and the broker's

    def org(self, name: str) -> FleetOrg:
        return next(org for org in self.orgs if org.name == name)


@contextmanager
def sandbox_orgs(
    directory: Path,
    count: int,
    *,
    broker: str,
    queue: str,
    scale: SampleScale = DEFAULT_SCALE,
    schedule: str = "{every: 15m}",
) -> Iterator[FleetUnderTest]:
    """`count` Salesforce sandboxes with distinct data, one YAML and store each, and the fleet file."""
    with ExitStack() as stack:
        orgs = []
        for i in range(count):
            name = f"org{i + 1:02d}"
            settings = SandboxSettings(ticking=True, org_id=f"00DDn0000FLT{i:03d}")
            sf = stack.enter_context(SalesforceSandbox(seed=100 + i, scale=scale, settings=settings))
            prefix = name.upper()
            env = {
                f"{prefix}_SF_URL": sf.instance_url,
                f"{prefix}_SF_CA": sf.ca_bundle,
                f"{prefix}_SF_CLIENT_ID": sf.client_id,
                f"{prefix}_SF_CLIENT_SECRET": sf.client_secret,
            }
            store = directory / f"{name}.db"
            config = directory / f"{name}.yaml"
            config.write_text(ORG_YAML.format(store=store, prefix=prefix, schedule=schedule))
            for source in load_settings(config, env).sources:  # the User fields write-back needs
                _, findings = ensure_fields(load_settings(config, env), source, apply=True)
                assert all(f.level == "ok" for f in findings), findings
            orgs.append(FleetOrg(name, sf, config, f"sqlite:///{store}", env))
        fleet = directory / "fleet.yaml"
        entries = "".join(f"  - config: {org.config.name}\n" for org in orgs)
        fleet.write_text(f"version: 1\nqueue: {queue}\nredelivery_after: 10s\norgs:\n{entries}")
        env = {key: value for org in orgs for key, value in org.env.items()}
        # Records seeded "just now" carry this second's stamp; a cycle in the same second leaves
        # them to the next one (see test_salesforce_cycle.sandbox). Start a second later.
        time.sleep(1.05 - datetime.now(UTC).microsecond / 1e6)
        yield FleetUnderTest(fleet, orgs, {**env, "OKRSYNC_BROKER_URL": broker})


# ---------------------------------------------------------------- the broker


RABBITMQ = "amqp://guest:guest@127.0.0.1:5672//"
REDIS = "redis://127.0.0.1:6379/0"


def reachable_broker() -> tuple[str | None, str]:
    """The machine's RabbitMQ, else its Redis (or only $OKRSYNC_TEST_BROKER when set): (URL, its
    scheme), or (None, why none answered)."""
    from kombu import Connection

    reasons = []
    for url in (
        [os.environ["OKRSYNC_TEST_BROKER"]] if os.environ.get("OKRSYNC_TEST_BROKER") else [RABBITMQ, REDIS]
    ):
        try:
            with Connection(url, connect_timeout=3) as connection:
                connection.ensure_connection(max_retries=1)
            return url, url.split(":", 1)[0]
        except Exception as exc:  # kombu raises the transport's own errors: any means "not here"
            reasons.append(f"{url.split('@')[-1]}: {type(exc).__name__}")
    return None, "no broker reachable (" + "; ".join(reasons) + ")"


def unique_queue() -> str:
    """A queue of this run only: parallel runs on the same broker never take each other's tasks."""
    return f"okrsync-test-{uuid.uuid4().hex[:12]}"


def delete_queue(broker: str, queue: str) -> None:
    from kombu import Connection

    with Connection(broker, connect_timeout=3) as connection:
        if broker.startswith("redis"):
            connection.default_channel.client.delete(queue)
        else:
            connection.default_channel.queue_delete(queue)


# ---------------------------------------------------------------- worker processes


@dataclass
class WorkerProcess:
    process: subprocess.Popen[str]
    log: Path
    port: int = 0
    lines: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    def metrics(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as answer:
            return str(answer.read().decode())

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as answer:
                return bool(json.load(answer)["status"] == "ok")
        except OSError:
            return False

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-30:]) if self.log.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def okrsync(*args: str) -> list[str]:
    return [sys.executable, "-m", "syncer", *args]


def start_worker(fleet: FleetUnderTest, log: Path, *, concurrency: int = 1) -> WorkerProcess:
    command = okrsync(
        "--log-level", "INFO", "fleet", "worker", "-f", str(fleet.file), "--concurrency", str(concurrency), "--port", "0"
    )  # fmt: skip
    with log.open("w") as stderr:
        process = subprocess.Popen(
            command, env={**os.environ, **fleet.env}, stdout=subprocess.PIPE, stderr=stderr, text=True
        )
    worker = WorkerProcess(process, log)
    assert process.stdout is not None
    for line in process.stdout:  # the first line says where it serves /metrics
        worker.lines.append(line)
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if found:
            worker.port = int(found[1])
            break
    assert worker.port, f"the worker did not say where it serves: {worker.lines} {worker.tail()}"
    return worker


def start_beat(fleet: FleetUnderTest, log: Path) -> subprocess.Popen[str]:
    with log.open("w") as stderr:
        return subprocess.Popen(
            okrsync("--log-level", "INFO", "fleet", "beat", "-f", str(fleet.file)),
            env={**os.environ, **fleet.env},
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            text=True,
        )


def send_cycles(fleet: FleetUnderTest, *orgs: str) -> None:
    wanted = [arg for org in orgs for arg in ("--org", org)]
    done = subprocess.run(
        okrsync("fleet", "send", "-f", str(fleet.file), *wanted),
        env={**os.environ, **fleet.env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def wait_for(condition: Callable[[], Any], what: str, *, seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")


# ---------------------------------------------------------------- what the stores say


def _read(store: str, query: str) -> list[Any]:
    """Rows of `query`, read without `open_store` (which would create or migrate the store while
    a worker does); [] while the worker has not created the table yet."""
    engine = create_engine(store)
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table(query.split(" FROM ")[1].split()[0]):
                return []
            return list(connection.execute(text(query)))
    finally:
        engine.dispose()


def runs_of(store: str) -> list[tuple[int, str, datetime, datetime | None]]:
    rows = _read(store, "SELECT id, status, started_at, finished_at FROM runs ORDER BY id")
    return [(r[0], r[1], _instant(r[2]), _instant(r[3]) if r[3] else None) for r in rows]


def _instant(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def lease_pid(store: str) -> int | None:
    """The process holding the org's cycle lease now (host:pid:start:nonce), or None."""
    rows = _read(store, f"SELECT held_by FROM leases WHERE name = '{CYCLE_LEASE}'")
    if not rows or rows[0][0].split(":")[0] != socket.gethostname():
        return None
    return int(rows[0][0].split(":")[1])


def overlapping_runs(runs: list[tuple[int, str, datetime, datetime | None]]) -> list[tuple[int, int]]:
    """Pairs of runs of one org that were alive at once. A run killed with its worker ends when the
    next run starts: that run closes it as abandoned, at its own start."""
    ordered = sorted(runs, key=lambda run: run[2])
    pairs = []
    for before, after in itertools.pairwise(ordered):
        if before[3] is None or before[3] > after[2]:
            pairs.append((before[0], after[0]))
    return pairs


# ---------------------------------------------------------------- sandbox latency


def with_latency(seconds: float) -> Callable[[], None]:
    """Every Salesforce sandbox answer takes `seconds` more, as a CRM across the internet does; the
    returned function takes it away again."""
    original = SalesforceApi.handle

    @functools.wraps(original)
    def slow(self: SalesforceApi, request: Any) -> Any:
        time.sleep(seconds)
        return original(self, request)

    SalesforceApi.handle = slow  # type: ignore[method-assign]

    def restore() -> None:
        SalesforceApi.handle = original  # type: ignore[method-assign]

    return restore
