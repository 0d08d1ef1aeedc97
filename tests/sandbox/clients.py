"""Clients of the sandbox the way the connector builds them: requests over TLS, simple-salesforce.

Sessions do not trust the environment: REQUESTS_CA_BUNDLE would otherwise override the sandbox's
CA bundle (docs/architecture.md, "Talking to CRMs").
"""

from __future__ import annotations

from datetime import UTC, datetime

import requests
from simple_salesforce import Salesforce

from sandbox.salesforce import SalesforceSandbox

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)  # the sandboxes' frozen clock
API_LIMIT = 100_000


def open_session(sf: SalesforceSandbox) -> requests.Session:
    """A requests session that trusts the sandbox CA (and only it)."""
    session = requests.Session()
    session.verify = sf.ca_bundle
    session.trust_env = False
    return session


def fetch_token(sf: SalesforceSandbox) -> str:
    """An access token from the client-credentials flow, the way the connector gets one."""
    form = {"grant_type": "client_credentials", "client_id": sf.client_id, "client_secret": sf.client_secret}
    response = open_session(sf).post(sf.token_url, data=form)
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


def connect(sf: SalesforceSandbox, token: str | None = None) -> Salesforce:
    """simple-salesforce in direct session mode against the sandbox."""
    return Salesforce(
        instance_url=sf.instance_url, session_id=token or fetch_token(sf), session=open_session(sf)
    )
