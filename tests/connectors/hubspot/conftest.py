"""Fixtures for HubSpot connector tests: the HubSpot sandbox on 127.0.0.1 (one per test, its clock
frozen), a connector on it with an injected sleep and clock, and raw-record helpers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.hubspot import HubSpotConnector
from sandbox.hubspot import HubSpotSandbox, HubSpotSettings
from syncer.config.models import HubSpotSource

NOW = datetime(2026, 11, 15, 12, tzinfo=UTC)  # the sandbox clock, frozen
UNTIL = NOW + timedelta(hours=1)  # a cycle start after every change a test makes


def make_source(hs: HubSpotSandbox, **overrides: Any) -> HubSpotSource:
    data: dict[str, Any] = {
        "kind": "hubspot",
        "base_url": hs.base_url,
        "auth": {"method": "private_app", "access_token": hs.access_token},
        "streams": {"deals": {}, "calls": {}, "renewals": {"pipelines": ["Renewals Pipeline"]}},
    } | overrides
    return HubSpotSource.model_validate(data)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def hs() -> Iterator[HubSpotSandbox]:
    # No sandbox-side rate limits: on a frozen clock their windows never roll.
    with HubSpotSandbox(
        now=NOW, settings=HubSpotSettings(ten_secondly_limit=None, search_per_second=None)
    ) as sb:
        yield sb


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def connector(hs: HubSpotSandbox, waits: list[float], clock: FakeClock) -> Iterator[HubSpotConnector]:
    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock.sleep(seconds)

    hub = HubSpotConnector("hub", make_source(hs), sleep=sleep, clock=clock)
    yield hub
    hub.close()


def instant(text: object) -> datetime:
    return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
