"""What `okrsync demo` needs from the sandboxes: a running Salesforce org and HubSpot portal, the
environment its YAML reads, and a way to show what the cycle wrote onto their records."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sandbox.hubspot import HubSpotSandbox, HubSpotSettings
from sandbox.salesforce import SalesforceSandbox, SandboxSettings

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


@contextmanager
def start_demo_org(now: datetime | None = None) -> Iterator[DemoOrg]:
    """Start the Salesforce sandbox and the HubSpot sandbox (with the key-result object)."""
    # One start for both, so they seed the same sample org; without `now` both clocks tick.
    start, ticking = now or datetime.now(UTC), now is None
    with (
        SalesforceSandbox(now=start, settings=SandboxSettings(ticking=ticking)) as sf,
        HubSpotSandbox(now=start, key_results_schema=True, settings=HubSpotSettings(ticking=ticking)) as hs,
    ):
        env = {
            "OKRSYNC_SANDBOX_SF_URL": sf.instance_url,
            "OKRSYNC_SANDBOX_CA": sf.ca_bundle,
            "OKRSYNC_SANDBOX_SF_CLIENT_ID": sf.client_id,
            "OKRSYNC_SANDBOX_SF_CLIENT_SECRET": sf.client_secret,
            "OKRSYNC_SANDBOX_HS_URL": hs.base_url,
            "OKRSYNC_SANDBOX_HS_TOKEN": hs.access_token,
        }
        yield DemoOrg(env, sf, hs)


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
