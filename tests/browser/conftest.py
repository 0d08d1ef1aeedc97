"""Browser fixtures: a store filled by a real cycle against the sandbox, and headless Chromium.

Chromium comes from Debian's package (`.ci/run` installs it); Playwright's own browser download
does not work here, so it drives /usr/bin/chromium. Without that binary every test here skips.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from sandbox.demo import start_demo_org
from syncer.commands.crm import connector_factory
from syncer.config import load_settings
from syncer.config.models import Settings
from syncer.cycle import run_cycle
from syncer.store.database import Store, open_store
from tests.integration.test_salesforce_cycle import ensure_demo_fields

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
# As the machine notes say: without the background-networking flags Chromium keeps calling
# Google's hosts, which this closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def filled_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, Store]]:
    """config/demo.yaml after two real cycles against the Salesforce and HubSpot sandboxes, on SQLite."""
    url = f"sqlite:///{tmp_path_factory.mktemp('store') / 'okrsync.db'}"
    with start_demo_org() as demo:
        ensure_demo_fields(demo.env)
        # Records seeded this second belong to the next cycle (tests/integration does the same).
        time.sleep(1.05 - datetime.now(UTC).microsecond / 1e6)
        settings = load_settings(ROOT / "config" / "demo.yaml", demo.env).model_copy(update={"store": url})
        store = open_store(url)
        for _ in range(2):
            run_cycle(settings, store, connector_factory(settings), clock=lambda: datetime.now(UTC))
    try:
        yield settings, store
    finally:
        store.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    opened = browser.new_page(viewport={"width": 1100, "height": 900})
    try:
        yield opened
    finally:
        opened.close()
