"""Fixtures for the HubSpot sandbox tests: one sandbox per module, and hubspot-api-client against it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from hubspot import HubSpot

from sandbox.hubspot import HubSpotSandbox, HubSpotSettings
from sandbox.sample_org import SampleScale

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)  # the sandboxes' frozen clock
# Searches in these tests come faster than 5/s; the per-second cap has its own test.
UNTHROTTLED = HubSpotSettings(search_per_second=None)
Call = Callable[..., requests.Response]  # (method, path, **requests kwargs) with the private-app token
SMALL = SampleScale(accounts=20, deals=60, renewals=20, calls=120, emails=10)


@pytest.fixture(scope="module")
def module_hs() -> Iterator[HubSpotSandbox]:
    """One sandbox for the whole module; tests that change data pick records no other test reads."""
    with HubSpotSandbox(now=NOW, settings=UNTHROTTLED) as hs:
        yield hs


@pytest.fixture
def hs(module_hs: HubSpotSandbox) -> Iterator[HubSpotSandbox]:
    """The module's sandbox, with injected failures cleared after the test."""
    yield module_hs
    module_hs.clear_faults()


@pytest.fixture
def small_hs() -> Iterator[HubSpotSandbox]:
    """A small sandbox of its own (with the key-result object), for tests that change limits or tokens."""
    with HubSpotSandbox(now=NOW, scale=SMALL, key_results_schema=True, settings=UNTHROTTLED) as hs:
        yield hs


@pytest.fixture
def client(hs: HubSpotSandbox) -> HubSpot:
    return HubSpot(access_token=hs.access_token, host=hs.base_url)


@pytest.fixture
def small_client(small_hs: HubSpotSandbox) -> HubSpot:
    return HubSpot(access_token=small_hs.access_token, host=small_hs.base_url)


@pytest.fixture
def call(hs: HubSpotSandbox) -> Call:
    """Plain HTTP to the sandbox, for what the client cannot send (or would validate away)."""

    def send(method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {hs.access_token}", **kwargs.pop("headers", {})}
        return requests.request(method, f"{hs.base_url}{path}", headers=headers, timeout=10, **kwargs)

    return send
