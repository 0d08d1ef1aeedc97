"""A CRM host okrsync cannot reach: one line naming host:port, why and what to fix; no retries when
waiting cannot help; in write-back one source error, never a rejection per field, and the writes
stay pending for the next cycle.

`okrsync run` of config/demo.yaml: against ports nobody listens on (no sandbox needed), then against
both sandboxes with one CRM's writes sent to a TLS server whose self-signed certificate nobody
trusts, as if a proxy or a wrong host answered in the middle of the cycle.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests.adapters
import urllib3.poolmanager

from sandbox.demo import DemoOrg
from sandbox.tls import localhost_certificate
from syncer.cli import main
from syncer.store.database import open_store
from syncer.store.runs import RunInfo, recent
from tests.connectors.transport_servers import closed_port, untrusted_tls_server
from tests.integration.test_salesforce_cycle import (
    DEMO,
    expected_per_rep,
    reps,
    sandbox,  # noqa: F401 - the fixture
    written_user_fields,
)
from tests.integration.test_stale_sources import hub_expected, hub_written, write_config

pytestmark = pytest.mark.integration
FAIL_FAST_SECONDS = 10.0  # the bound for a run whose every CRM is unreachable
SECRETS = ("not-the-secret-42", "pat-not-the-token-42")


def last_run(store_url: str) -> RunInfo:
    store = open_store(store_url)
    try:
        with store.sessions() as session:
            return recent(session, limit=1)[0]
    finally:
        store.close()


# --- a) nobody listens: fail fast, one line each ---


def test_crms_on_ports_nobody_listens_on_fail_fast_with_one_line_each(tmp_path: Path) -> None:
    sf_port, hs_port = closed_port(), closed_port()
    store_url = f"sqlite:///{tmp_path / 'okrsync.db'}"
    config = tmp_path / "okr.yaml"
    config.write_text(DEMO.read_text().replace("sqlite:///okrsync-demo.db", store_url))
    env = {
        "OKRSYNC_SANDBOX_SF_URL": f"https://127.0.0.1:{sf_port}",
        "OKRSYNC_SANDBOX_CA": str(localhost_certificate().ca_bundle),
        "OKRSYNC_SANDBOX_SF_CLIENT_ID": "client-id",
        "OKRSYNC_SANDBOX_SF_CLIENT_SECRET": SECRETS[0],
        "OKRSYNC_SANDBOX_HS_URL": f"http://127.0.0.1:{hs_port}",
        "OKRSYNC_SANDBOX_HS_TOKEN": SECRETS[1],
    }

    started = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-m", "syncer", "run", "-c", str(config)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    elapsed = time.monotonic() - started

    assert run.returncode == 1, run.stderr
    assert elapsed < FAIL_FAST_SECONDS  # no retry with backoff: a closed port stays closed
    output = run.stdout + run.stderr
    assert "Traceback" not in output
    assert "retrying" not in output
    for secret in SECRETS:
        assert secret not in output
    for port in (sf_port, hs_port):
        naming = [line for line in output.splitlines() if f"127.0.0.1:{port}" in line]
        assert naming, output
        assert all(f"127.0.0.1:{port}: connection refused" in line for line in naming)
    sf_error = (
        f"sfdc: token request failed: cannot reach 127.0.0.1:{sf_port}: connection refused "
        "(check instance_url and that the service is up)"
    )
    hs_error = (
        f"hub: read account details failed: cannot reach 127.0.0.1:{hs_port}: connection refused "
        "(check base_url and that the service is up)"
    )
    assert f"error: {sf_error}\n" in output
    assert f"error: {hs_error}\n" in output
    assert f"cycle failed: {sf_error}\n" in output  # the summary names both, one line each
    assert f"also failed: {hs_error}\n" in output
    recorded = last_run(store_url)
    assert recorded.status == "failed"
    errors = (recorded.counts.error or "").split("; ")
    assert errors[:2] == [sf_error, hs_error]  # then the stale key results they leave, on the same line
    assert recorded.counts.retries == 0


# --- b) TLS failure in write-back: one source error; the writes stay pending ---


def rerouted(url: str, port: int) -> str:
    """`url` sent to https://127.0.0.1:`port` instead, same path and query."""
    parts = urlsplit(url)
    return parts._replace(scheme="https", netloc=f"127.0.0.1:{port}").geturl()


@contextmanager
def writes_meet_an_untrusted_certificate(crm: str) -> Iterator[int]:
    """While active, `crm`'s write calls go to a TLS server nobody trusts, at the HTTP layer each
    connector really uses (requests for Salesforce, urllib3 under hubspot-api-client), so the real
    SSL error chain arises. Yields that server's port."""
    with untrusted_tls_server() as port, pytest.MonkeyPatch.context() as patch:
        if crm == "salesforce":
            send = requests.adapters.HTTPAdapter.send

            def send_elsewhere(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
                if request.method == "PATCH" and "/composite/sobjects" in request.url:
                    request.url = rerouted(request.url, port)
                return send(self, request, *args, **kwargs)

            patch.setattr(requests.adapters.HTTPAdapter, "send", send_elsewhere)
        else:
            urlopen = urllib3.poolmanager.PoolManager.urlopen

            def urlopen_elsewhere(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
                if "/batch/upsert" in url or "/batch/update" in url:
                    url = rerouted(url, port)
                return urlopen(self, method, url, *args, **kwargs)

            patch.setattr(urllib3.poolmanager.PoolManager, "urlopen", urlopen_elsewhere)
        yield port


def crm_written(crm: str, demo: DemoOrg) -> dict[str, Any]:
    """What okrsync wrote into `crm`: the reps' revenue fields, or the key-result records."""
    if crm == "salesforce":
        return {u["Id"]: u["Q_Revenue__c"] for u in reps(demo.salesforce) if u["Q_Revenue__c"] is not None}
    return hub_written(demo.hubspot)


@pytest.mark.parametrize(
    ("crm", "source", "operation"),
    [
        ("salesforce", "sfdc", "write composite/sobjects"),
        ("hubspot", "hub", "batch upsert p_key_results"),
    ],
)
def test_a_tls_failure_in_write_back_is_one_source_error_and_the_next_cycle_writes(
    crm: str,
    source: str,
    operation: str,
    sandbox: DemoOrg,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
    store_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    demo = sandbox
    for name, value in demo.env.items():
        monkeypatch.setenv(name, value)
    config = write_config(tmp_path, store_url)

    with writes_meet_an_untrusted_certificate(crm) as tls_port:
        assert main(["run", "-c", str(config)]) == 1

    failed = last_run(store_url)
    # HubSpot's urllib3 errors carry no URL: its message names base_url, where every request goes
    # (only this test sends the writes elsewhere).
    address = f"127.0.0.1:{tls_port}" if crm == "salesforce" else urlsplit(demo.hubspot.base_url).netloc
    assert failed.status == "failed"
    assert (failed.counts.error or "").startswith(
        f"{source}: {operation} failed: cannot reach {address}: TLS certificate not trusted: "
    )
    assert "; " not in (failed.counts.error or "")  # the one source error, no other
    assert (failed.counts.write_errors, failed.counts.details["write_errors"]) == (0, [])
    assert failed.counts.written > 0  # the other CRM was written
    assert crm_written(crm, demo) == {}  # nothing reached the failing CRM
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "write rejected" not in err

    assert main(["run", "-c", str(config)]) == 0  # the failure is gone

    assert last_run(store_url).status == "ok"
    if crm == "salesforce":
        assert written_user_fields(demo.salesforce) == expected_per_rep(demo.salesforce)
    else:
        expected = hub_expected(demo.hubspot)
        written = hub_written(demo.hubspot)
        assert expected
        assert {key: written.get(key) for key in expected} == expected
