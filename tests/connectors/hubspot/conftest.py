"""Fixtures for HubSpot connector unit tests: a fake portal on 127.0.0.1, injected sleep and clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.hubspot import HubSpotConnector
from syncer.config.models import HubSpotSource
from tests.connectors.hubspot.portal import Portal, serve

UNTIL = datetime(2026, 10, 5, 12, 0, tzinfo=UTC)
WON, LOST, OPEN = "closedwon", "closedlost", "qualified"


def stage(stage_id: str, probability: str, closed: bool) -> dict[str, Any]:
    return {
        "id": stage_id,
        "label": stage_id,
        "metadata": {"probability": probability, "isClosed": str(closed).lower()},
    }


PIPELINES = [
    {
        "id": "default",
        "label": "Sales Pipeline",
        "stages": [stage(WON, "1.0", True), stage(LOST, "0.0", True), stage(OPEN, "0.2", False)],
    },
    {
        "id": "777",
        "label": "Renewals",
        "stages": [stage("rw", "1.0", True), stage("rl", "0.0", True), stage("ro", "0.5", False)],
    },
]


def hs_deal(record_id: int, modified: datetime, **props: Any) -> dict[str, Any]:
    """A deal as list/search return it (docs/crm-apis.md §3.1); every value a string."""
    properties = {
        "hs_object_id": str(record_id),
        "amount": "1000",
        "dealstage": WON,
        "pipeline": "default",
        "closedate": "2026-09-30T00:00:00Z",
        "createdate": "2026-08-01T10:00:00.000Z",
        "hs_lastmodifieddate": modified.isoformat().replace("+00:00", "Z"),
        "dealtype": "newbusiness",
        "hubspot_owner_id": "11",
    } | dict(props.items())
    return {"id": str(record_id), "properties": properties, "archived": False}


def make_source(url: str, **overrides: Any) -> HubSpotSource:
    data: dict[str, Any] = {
        "kind": "hubspot",
        "base_url": url,
        "auth": {"method": "private_app", "access_token": "private-token"},
        "streams": {"deals": {}, "calls": {}, "renewals": {"pipelines": ["Renewals"]}},
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
def portal() -> Iterator[Portal]:
    with serve(Portal(pipelines=PIPELINES)) as running:
        yield running


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def connector(portal: Portal, waits: list[float]) -> Iterator[HubSpotConnector]:
    clock = FakeClock()

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock.sleep(seconds)

    hub = HubSpotConnector("hub", make_source(portal.url), sleep=sleep, clock=clock)
    yield hub
    hub.close()


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)
