"""What `okrsync demo` and `okrsync sandbox` need from the sandboxes: a running Salesforce org and
HubSpot portal, the environment their YAML reads, and a way to show what a cycle wrote onto their
records. The product's only way into `sandbox/`."""

from __future__ import annotations

import errno
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sandbox.http_server import ServedSandbox
from sandbox.hubspot import HubSpotSandbox, HubSpotSettings
from sandbox.salesforce import SalesforceSandbox, SandboxSettings
from sandbox.tls import remove_localhost_certificate

KEY_RESULTS_OBJECT = "p_key_results"  # HubSpotSandbox(key_results_schema=True)'s custom object
KEY_RESULT_PROPERTIES = ("okr_key", "okr_value", "okr_target", "okr_progress", "okr_status")
NUMBER_PROPERTIES = ("okr_value", "okr_target", "okr_progress")


@dataclass(frozen=True, slots=True)
class DemoOrg:
    """The running sandboxes, both seeded with the same sample org, and the variables
    `config/demo.yaml` reads (`OKRSYNC_SANDBOX_SF_*`, `OKRSYNC_SANDBOX_HS_*`)."""

    env: dict[str, str]
    salesforce: SalesforceSandbox
    hubspot: HubSpotSandbox


class SandboxPortError(Exception):
    """A sandbox could not listen on its port on 127.0.0.1 (in use, or not ours to take)."""

    def __init__(self, crm: str, port: int, error: OSError) -> None:
        self.crm, self.port, self.reason = crm, port, error.strerror or str(error)
        self.in_use = error.errno == errno.EADDRINUSE
        super().__init__(f"the {crm} sandbox cannot listen on port {port}: {self.reason}")


@contextmanager
def start_demo_org(now: datetime | None = None, *, sf_port: int = 0, hs_port: int = 0) -> Iterator[DemoOrg]:
    """Start the Salesforce sandbox and the HubSpot sandbox (with the key-result object) on these
    ports of 127.0.0.1 (0: any free one); SandboxPortError when one cannot listen there."""
    # One start for both, so they seed the same sample org; without `now` both clocks tick.
    start, ticking = now or datetime.now(UTC), now is None
    sf = SalesforceSandbox(now=start, settings=SandboxSettings(ticking=ticking, port=sf_port))
    hs = HubSpotSandbox(
        now=start, key_results_schema=True, settings=HubSpotSettings(ticking=ticking, port=hs_port)
    )
    with _serving(sf, "Salesforce", sf_port), _serving(hs, "HubSpot", hs_port):
        env = {
            "OKRSYNC_SANDBOX_SF_URL": sf.instance_url,
            "OKRSYNC_SANDBOX_CA": sf.ca_bundle,
            "OKRSYNC_SANDBOX_SF_CLIENT_ID": sf.client_id,
            "OKRSYNC_SANDBOX_SF_CLIENT_SECRET": sf.client_secret,
            "OKRSYNC_SANDBOX_HS_URL": hs.base_url,
            "OKRSYNC_SANDBOX_HS_TOKEN": hs.access_token,
        }
        yield DemoOrg(env, sf, hs)


@contextmanager
def serve_demo_org(*, sf_port: int = 0, hs_port: int = 0) -> Iterator[DemoOrg]:
    """`start_demo_org` for a process that runs the sandboxes alone (`okrsync sandbox`): once they
    stop, however the block ends, the temporary CA and certificate files are deleted too."""
    try:
        with start_demo_org(sf_port=sf_port, hs_port=hs_port) as org:
            yield org
    finally:
        remove_localhost_certificate()


@contextmanager
def _serving(sandbox: ServedSandbox, crm: str, port: int) -> Iterator[None]:
    try:
        sandbox.start()
    except OSError as exc:
        raise SandboxPortError(crm, port, exc) from exc
    try:
        yield
    finally:
        sandbox.stop()


def read_user_fields(sandbox: SalesforceSandbox, fields: Sequence[str]) -> list[dict[str, Any]]:
    """The active users' name, e-mail and `fields`, as the org now holds them."""
    names = ", ".join(["Name", "Email", *fields])
    rows = sandbox.org.select(f"SELECT {names} FROM User WHERE IsActive = true ORDER BY Name")
    return [{name: row.get(name) for name in ["Name", "Email", *fields]} for row in rows]


def read_key_results(sandbox: HubSpotSandbox) -> list[dict[str, Any]]:
    """The portal's key-result records (okr_key, okr_value, okr_target, okr_progress, okr_status)
    by okr_key; the numbers, which HubSpot holds as strings, as Decimal."""
    rows = [_key_result_row(record.properties) for record in sandbox.records(KEY_RESULTS_OBJECT)]
    return sorted(rows, key=lambda row: str(row["okr_key"]))


def _key_result_row(properties: Mapping[str, object]) -> dict[str, Any]:
    row: dict[str, Any] = {name: properties.get(name) for name in KEY_RESULT_PROPERTIES}
    for name in NUMBER_PROPERTIES:
        row[name] = None if row[name] in (None, "") else Decimal(str(row[name]))
    return row
