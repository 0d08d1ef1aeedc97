"""Fixtures for the sandbox tests: one Salesforce sandbox per module, and a simple-salesforce client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from simple_salesforce import Salesforce

from sandbox.salesforce import SalesforceSandbox
from tests.sandbox.clients import API_LIMIT, NOW, connect


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SalesforceSandbox]:
    """One sandbox for the whole module; tests that change data pick records no other test reads."""
    with SalesforceSandbox(now=NOW) as sf:
        yield sf


@pytest.fixture
def sf(sandbox: SalesforceSandbox) -> Iterator[SalesforceSandbox]:
    """The module's sandbox, with injected failures and the API allocation reset after the test."""
    yield sandbox
    sandbox.clear_faults()
    sandbox.set_api_limit(max=API_LIMIT)


@pytest.fixture
def fresh_sf() -> Iterator[SalesforceSandbox]:
    """A sandbox of its own, for tests that change the schema, the clock or the API allocation."""
    with SalesforceSandbox(now=NOW) as sf:
        yield sf


@pytest.fixture
def client(sf: SalesforceSandbox) -> Salesforce:
    return connect(sf)
