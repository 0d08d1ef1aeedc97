"""One sandbox per CRM for the whole differential run (reset between orgs), one migrated template
store copied for each org, and an emptied PostgreSQL database for the orgs also run there."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from sandbox.hubspot import HubSpotSandbox, HubSpotSettings
from sandbox.salesforce import SalesforceSandbox, SandboxSettings
from sandbox.sample_records import SampleScale
from syncer.store.database import open_store
from tests.differential.harness import Crm

SMALL = SampleScale(reps=3, accounts=1, deals=0, renewals=0, calls=0, emails=0, quarters=2)
START = datetime(2026, 1, 15, 12, tzinfo=UTC)  # every scenario moves the frozen clock to its own now
UNLIMITED = 10**9


@pytest.fixture(scope="session")
def template_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("differential") / "template.db"
    open_store(f"sqlite:///{path}").close()
    return path


@pytest.fixture(scope="session")
def salesforce_crm(template_store: Path) -> Iterator[Crm]:
    settings = SandboxSettings(api_limit=UNLIMITED)
    with SalesforceSandbox(now=START, scale=SMALL, settings=settings) as sf:
        env = {"SF_URL": sf.instance_url, "SF_CA": sf.ca_bundle, "SF_CLIENT_ID": sf.client_id,
               "SF_CLIENT_SECRET": sf.client_secret}  # fmt: skip
        yield Crm("salesforce", sf, env, template_store)


@pytest.fixture(scope="session")
def hubspot_crm(template_store: Path) -> Iterator[Crm]:
    settings = HubSpotSettings(ten_secondly_limit=None, daily_limit=UNLIMITED, search_per_second=None)
    with HubSpotSandbox(now=START, scale=SMALL, key_results_schema=True, settings=settings) as hs:
        yield Crm("hubspot", hs, {"HS_URL": hs.base_url, "HS_TOKEN": hs.access_token}, template_store)


@pytest.fixture
def pg_store_url(request: pytest.FixtureRequest) -> str:
    """The session's PostgreSQL database (tests/conftest.py), emptied; skips without one."""
    if not (os.environ.get("OKRSYNC_TEST_PG_SERVER") or os.environ.get("OKRSYNC_TEST_PG_URL")):
        pytest.skip("set OKRSYNC_TEST_PG_SERVER to run generated orgs on PostgreSQL too")
    url: str = request.getfixturevalue("pg_database")
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url
