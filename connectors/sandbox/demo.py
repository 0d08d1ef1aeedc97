"""What `okrsync demo` needs from the sandbox: a running org, the environment its YAML reads,
and a way to show the fields the cycle wrote onto the org's records."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from connectors.sandbox.salesforce import SalesforceSandbox


@contextmanager
def start_demo_org(now: datetime | None = None) -> Iterator[tuple[dict[str, str], SalesforceSandbox]]:
    """Start the Salesforce sandbox; yields the variables `config/demo.yaml` reads, and the sandbox."""
    with SalesforceSandbox(now=now) as sandbox:
        env = {
            "OKRSYNC_SANDBOX_SF_URL": sandbox.instance_url,
            "OKRSYNC_SANDBOX_CA": sandbox.ca_bundle,
            "OKRSYNC_SANDBOX_SF_CLIENT_ID": sandbox.client_id,
            "OKRSYNC_SANDBOX_SF_CLIENT_SECRET": sandbox.client_secret,
        }
        yield env, sandbox


def read_user_fields(sandbox: SalesforceSandbox, fields: Sequence[str]) -> list[dict[str, Any]]:
    """The active users' name, e-mail and `fields`, as the org now holds them."""
    names = ", ".join(["Name", "Email", *fields])
    rows = sandbox.org.select(f"SELECT {names} FROM User WHERE IsActive = true ORDER BY Name")
    return [{name: row.get(name) for name in ["Name", "Email", *fields]} for row in rows]
