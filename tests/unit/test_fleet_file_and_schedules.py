"""`okrsync fleet` without a broker: the fleet file's checks, beat's schedules, the cycle task's
answer to a held lease, the deploy files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from syncer.config import load_settings
from syncer.config.sources import Every
from syncer.errors import ConfigError
from syncer.fleet.app import LEASE_RETRIES, build_app
from syncer.fleet.fleet_file import load_fleet
from syncer.fleet.org_cycles import OrgCycles
from syncer.fleet.schedules import CYCLE_TASK, LONG_AGO, SourceSchedule
from syncer.fleet.telemetry import FleetTelemetry
from syncer.store import lease

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
DEPLOY_ENV = {
    "OKRSYNC_BROKER_URL": "amqp://okrsync:pw@rabbitmq:5672//",
    "OKRSYNC_SERVE_TOKEN": "0123456789abcdef0123456789abcdef",
    "PGPASSWORD": "pw",
    "ACME_SF_CLIENT_ID": "id",
    "ACME_SF_CLIENT_SECRET": "secret",
    "GLOBEX_EU_HS_TOKEN": "token",
}


def test_problems_are_reported_at_their_lines_and_never_quote_a_password(tmp_path: Path) -> None:
    org = tmp_path / "acme.yaml"
    org.write_text("version: 1\nsources: {}\n")
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(
        "version: 1\n"
        "broker: amqp://okr:hunter2@127.0.0.1:5672//\n"
        "queus: x\n"
        "orgs:\n"
        "  - config: acme.yaml\n"
        "  - config: missing.yaml\n"
    )
    with pytest.raises(ConfigError) as raised:
        load_fleet(fleet, {}, lambda path: pytest.fail("org files are read once the fleet file is valid"))
    assert [str(p) for p in raised.value.problems] == [
        f"{fleet}:3: unknown key `queus`. Did you mean `queue`?"
    ]

    fleet.write_text(fleet.read_text().replace("queus: x\n", ""))
    with pytest.raises(ConfigError) as raised:
        load_fleet(fleet, {}, lambda path: load_settings(path, {}))
    problems = [str(p) for p in raised.value.problems]
    assert problems[0] == (
        f"{fleet}:2: the broker URL holds a literal password: put the URL in an environment variable "
        "and write `broker: ${OKRSYNC_BROKER_URL}` (or leave `broker:` out)"
    )
    assert problems[1].startswith(f"{fleet}:5: `missing.yaml` is not a file")
    assert any(p.startswith(f"{org}:2: ") for p in problems[2:]), problems  # the org file's own line
    assert "hunter2" not in "\n".join(problems)


def org_yaml(store: str) -> str:
    return (
        f"version: 1\nstore: {store}\nsources:\n  hub:\n    kind: hubspot\n"
        "    auth: {method: private_app, access_token: '${HS_TOKEN}'}\n    streams: {calls: {}}\n"
    )


def test_two_orgs_on_one_store_and_a_missing_broker_are_refused(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / f"{name}.yaml").write_text(org_yaml(f"sqlite:///{tmp_path}/shared.db"))
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text("version: 1\norgs:\n  - config: a.yaml\n  - config: b.yaml\n")
    env = {"HS_TOKEN": "pat-na1-0000"}
    with pytest.raises(ConfigError) as raised:
        load_fleet(fleet, env, lambda path: load_settings(path, env))
    assert [str(p) for p in raised.value.problems] == [
        f"{fleet}:1: no broker: set the environment variable OKRSYNC_BROKER_URL or `broker:` "
        "(amqp://USER:PASSWORD@HOST:5672/VHOST or redis://HOST:6379/0)",
        f"{fleet}:4: org `b` uses the same store as org `a`: each org needs its own store "
        "(its lease, cursors and ledger belong to one org)",
    ]


def test_the_broker_comes_from_the_environment_and_names_default_to_the_file_stem(tmp_path: Path) -> None:
    (tmp_path / "acme-eu.yaml").write_text(org_yaml(f"sqlite:///{tmp_path}/acme.db"))
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text("version: 1\nredelivery_after: 5m\norgs:\n  - config: acme-eu.yaml\n")
    env = {"HS_TOKEN": "pat-na1-0000", "OKRSYNC_BROKER_URL": "redis://127.0.0.1:6379/3"}
    loaded = load_fleet(fleet, env, lambda path: load_settings(path, env))
    assert list(loaded.orgs) == ["acme-eu"]
    assert loaded.broker_is_redis
    assert loaded.redelivery_after == timedelta(minutes=5)
    assert loaded.queue == "okrsync-fleet"


def test_a_schedule_starts_due_then_waits_its_interval_with_serves_jitter() -> None:
    now = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
    schedule = SourceSchedule(Every(every="10m"), ZoneInfo("UTC"), nowfun=lambda: now)
    due, next_in = schedule.is_due(LONG_AGO)
    assert due
    assert 600 <= next_in <= 660
    due, wait = schedule.is_due(now - timedelta(minutes=4))
    assert not due
    assert 360 <= wait <= 420
    assert schedule.is_due(now - timedelta(minutes=4)) == (due, wait)  # the jitter is drawn once per run


def test_a_cron_schedule_fires_in_the_orgs_zone() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    last = datetime(2026, 5, 4, 9, 0, 5, tzinfo=tokyo)  # the 09:00 run, Tokyo time
    schedule = SourceSchedule("0 9 * * *", tokyo, nowfun=lambda: datetime(2026, 5, 5, 0, 0, 40, tzinfo=UTC))
    due, _ = schedule.is_due(last)  # 09:00:40 in Tokyo on the 5th: past 09:00 plus up to 30 s of jitter
    assert due
    early = SourceSchedule("0 9 * * *", tokyo, nowfun=lambda: datetime(2026, 5, 4, 23, 59, tzinfo=UTC))
    due, wait = early.is_due(last)
    assert not due
    assert 60 <= wait <= 90


def test_the_deploy_fleet_files_validate(tmp_path: Path) -> None:
    compose = DEPLOY / "fleet"
    loaded = load_fleet(compose / "fleet.yaml", DEPLOY_ENV, lambda path: load_settings(path, DEPLOY_ENV))
    assert sorted(loaded.orgs) == ["acme", "globex-eu"]
    # The Kubernetes ConfigMap holds the same kind of files: write them out and load them.
    [configmap] = list(yaml.safe_load_all((DEPLOY / "k8s/fleet/configmap.yaml").read_text()))
    for name, text in configmap["data"].items():
        (tmp_path / name).write_text(text)
    k8s = load_fleet(tmp_path / "fleet.yaml", DEPLOY_ENV, lambda path: load_settings(path, DEPLOY_ENV))
    assert sorted(k8s.orgs) == ["acme", "globex-eu"]
    databases = (compose / "postgres-init.sql").read_text()
    for org in loaded.orgs.values():  # every org's database is created
        assert org.settings.store.rsplit("/", 1)[1] in databases


def manifests() -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (d["kind"], d["metadata"]["name"]): d
        for path in sorted((DEPLOY / "k8s/fleet").glob("*.yaml"))
        for d in yaml.safe_load_all(path.read_text())
        if d
    }


def test_one_beat_and_scalable_workers_with_probes() -> None:
    found = manifests()
    beat = found[("Deployment", "okrsync-fleet-beat")]["spec"]
    assert beat["replicas"] == 1
    assert beat["strategy"]["type"] == "Recreate"
    assert beat["template"]["spec"]["containers"][0]["command"][:3] == ["okrsync", "fleet", "beat"]
    workers = found[("Deployment", "okrsync-fleet-worker")]["spec"]
    [worker] = workers["template"]["spec"]["containers"]
    assert worker["command"][:3] == ["okrsync", "fleet", "worker"]
    assert worker["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert {("StatefulSet", "okrsync-rabbitmq"), ("StatefulSet", "okrsync-postgres")} <= set(found)
    services = yaml.safe_load((DEPLOY / "fleet/docker-compose.yml").read_text())["services"]
    assert set(services) == {"db", "rabbitmq", "beat", "worker"}
    assert services["worker"]["entrypoint"][:3] == ["okrsync", "fleet", "worker"]


def test_a_cycle_task_skips_a_held_lease_and_defers_a_redelivered_one(tmp_path: Path) -> None:
    (tmp_path / "acme.yaml").write_text(org_yaml(f"sqlite:///{tmp_path}/acme.db"))
    (tmp_path / "fleet.yaml").write_text("version: 1\norgs:\n  - config: acme.yaml\n")
    env = {
        "HS_TOKEN": "pat-na1-0000",
        "OKRSYNC_BROKER_URL": "amqp://127.0.0.1:5672//",
    }  # never reached: eager
    fleet = load_fleet(tmp_path / "fleet.yaml", env, lambda path: load_settings(path, env))
    telemetry = FleetTelemetry(list(fleet.orgs), started_at=datetime.now(UTC))
    cycles = OrgCycles(
        fleet,
        connectors=lambda settings, store=None: (
            lambda name: pytest.fail("no connector opens while the lease is held")
        ),
        telemetry=telemetry,
        clock=lambda: datetime.now(UTC),
    )
    app = build_app(fleet, cycles)
    app.conf.task_always_eager = True
    task = app.tasks[CYCLE_TASK]
    try:
        with lease.hold(cycles.store("acme"), clock=lambda: datetime.now(UTC)):  # a live cycle of acme
            assert task.apply(args=("acme", None)).get() == "skipped"
            # A task that was delivered before (its worker died) waits for the lease instead, a few
            # times (each retry runs at once here, eagerly), then gives up as skipped.
            assert task.apply(args=("acme", None), retries=1).get() == "skipped"
    finally:
        cycles.close()
    counts = telemetry.exposition().decode()
    assert 'okrsync_cycles_total{org="acme",status="lease_held"} 2.0' in counts
    assert f'okrsync_cycles_total{{org="acme",status="deferred"}} {LEASE_RETRIES - 1}.0' in counts
    assert task.apply(args=("globex", None)).get() == "unknown_org"
