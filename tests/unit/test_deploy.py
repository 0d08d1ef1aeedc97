"""deploy/: the Dockerfile, compose file, Kubernetes manifests and systemd unit are well formed."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from syncer.config import load_settings
from syncer.errors import ConfigError

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
K8S = DEPLOY / "k8s"
COMPOSE = DEPLOY / "docker-compose.yml"
UNIT = DEPLOY / "systemd" / "okrsync.service"


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def by_kind() -> dict[str, dict[str, Any]]:
    return {d["kind"]: d for path in sorted(K8S.glob("*.yaml")) for d in documents(path)}


def test_every_yaml_parses() -> None:
    paths = [*K8S.glob("*.yaml"), COMPOSE]
    assert len(paths) >= 5
    for path in paths:
        assert documents(path), path


def test_manifests_have_the_expected_kinds() -> None:
    assert set(by_kind()) == {"ConfigMap", "Secret", "Deployment", "Service", "CronJob"}


def test_deployment_is_one_recreated_non_root_replica_probed_on_healthz() -> None:
    spec = by_kind()["Deployment"]["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"]["type"] == "Recreate"
    pod = spec["template"]["spec"]
    [container] = pod["containers"]
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"]["path"] == "/healthz"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert set(container["resources"]) == {"requests", "limits"}
    assert container["envFrom"] == [{"secretRef": {"name": "okrsync-credentials"}}]
    assert pod["volumes"][0]["configMap"]["name"] == "okrsync-config"


def test_cronjob_runs_one_cycle_at_a_time() -> None:
    spec = by_kind()["CronJob"]["spec"]
    assert spec["concurrencyPolicy"] == "Forbid"
    [container] = spec["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert container["command"][:2] == ["okrsync", "run"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True


def test_configmap_holds_a_valid_okrsync_yaml(tmp_path: Path) -> None:
    config = tmp_path / "okrsync.yaml"
    config.write_text(by_kind()["ConfigMap"]["data"]["okrsync.yaml"])
    secrets = by_kind()["Secret"]["stringData"]
    settings = load_settings(config, dict.fromkeys(secrets, "x" * 32))
    assert settings.objectives


def test_the_pod_listens_on_every_interface_behind_a_token_from_the_secret(tmp_path: Path) -> None:
    manifests = by_kind()
    config = tmp_path / "okrsync.yaml"
    config.write_text(manifests["ConfigMap"]["data"]["okrsync.yaml"])
    secrets = manifests["Secret"]["stringData"]
    token = "t0ken-" + "a" * 26
    serve = load_settings(config, {**dict.fromkeys(secrets, "x"), "OKRSYNC_SERVE_TOKEN": token}).serve
    assert serve.host == "0.0.0.0"  # the kubelet's probes and the Service reach the pod's IP
    assert serve.auth_token is not None
    assert serve.auth_token.get_secret_value() == token
    assert "OKRSYNC_SERVE_TOKEN" in secrets
    # The probes carry no token: they ask /healthz, the one open page, on the port serve listens on.
    [container] = manifests["Deployment"]["spec"]["template"]["spec"]["containers"]
    [port] = container["ports"]
    assert port["containerPort"] == serve.port
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": port["name"]}


def test_the_secrets_placeholder_token_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "okrsync.yaml"
    config.write_text(by_kind()["ConfigMap"]["data"]["okrsync.yaml"])
    secrets = by_kind()["Secret"]["stringData"]  # every value still the placeholder
    with pytest.raises(ConfigError) as raised:
        load_settings(config, secrets)
    assert [p.message for p in raised.value.problems] == [
        "serve.auth_token has 10 characters: use at least 16 random characters (e.g. `openssl rand -hex 32`)"
    ]


def test_compose_and_its_env_file_name_the_serve_host_and_token() -> None:
    [line] = [line for line in COMPOSE.read_text().splitlines() if line.startswith("#   serve:")]
    assert yaml.safe_load(line.removeprefix("#   ")) == {
        "serve": {"host": "0.0.0.0", "port": 8080, "auth_token": "${OKRSYNC_SERVE_TOKEN}"}
    }
    assert re.search(r"(?m)^OKRSYNC_SERVE_TOKEN=$", (DEPLOY / "okrsync.env.example").read_text())


def test_dockerfile_runs_serve_as_a_non_root_user_with_a_healthcheck() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"(?m)^FROM python:3\.11-slim$", text)
    users = re.findall(r"(?m)^USER (\S+)", text)
    assert users
    assert users[-1].split(":")[0] not in ("root", "0")
    assert re.search(r"(?m)^HEALTHCHECK .*\n?.*/healthz", text)
    assert '["okrsync", "serve", "-c", "/etc/okrsync/okrsync.yaml"]' in text


def test_compose_runs_the_worker_after_a_healthy_postgres_15() -> None:
    [compose] = documents(COMPOSE)
    db, worker = compose["services"]["db"], compose["services"]["worker"]
    assert db["image"] == "postgres:15"
    assert "healthcheck" in db
    assert "healthcheck" in worker
    assert worker["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert worker["env_file"]
    assert "/etc/okrsync/okrsync.yaml:ro" in worker["volumes"][0]


def test_compose_file_passes_docker_compose_config(tmp_path: Path) -> None:
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True).returncode:
        pytest.skip("no docker client with the compose plugin")
    # env_file must exist for `config`: use the example next to it.
    shutil.copy(DEPLOY / "okrsync.env.example", tmp_path / "okrsync.env")
    shutil.copy(COMPOSE, tmp_path / "docker-compose.yml")
    result = subprocess.run(
        [
            docker,
            "compose",
            "-f",
            str(tmp_path / "docker-compose.yml"),
            "config",
            "--quiet",
            "--no-interpolate",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_systemd_unit_restarts_on_failure_with_hardening() -> None:
    text = UNIT.read_text()
    for line in ("Restart=on-failure", "EnvironmentFile=/etc/okrsync/okrsync.env", "NoNewPrivileges=yes"):
        assert re.search(rf"(?m)^{re.escape(line)}$", text), line
    assert re.search(r"(?m)^ProtectSystem=strict$", text)
    assert re.search(r"(?m)^User=okrsync$", text)


def test_systemd_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    unit = tmp_path / "okrsync.service"
    # verify checks that ExecStart exists: point it at a binary every machine has.
    unit.write_text(
        UNIT.read_text().replace("/opt/okrsync/venv/bin/okrsync", shutil.which("true") or "/bin/true")
    )
    result = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    problems = [line for line in result.stderr.splitlines() if str(unit) in line or "okrsync.service" in line]
    assert not problems, result.stderr
