"""The portal behind a HubSpot source: portal id and company currency from the account-info API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.hubspot import HubSpotConnector
from sandbox.hubspot import HubSpotSandbox, HubSpotSettings
from syncer.config.models import HubSpotSource

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def portal() -> Iterator[HubSpotSandbox]:
    with HubSpotSandbox(settings=HubSpotSettings(portal_id=13_579_024)) as hs:
        yield hs


def source(hs: HubSpotSandbox) -> HubSpotSource:
    return HubSpotSource.model_validate(
        {
            "kind": "hubspot",
            "base_url": hs.base_url,
            "auth": {"method": "private_app", "access_token": hs.access_token},
            "streams": {"deals": {}},
        }
    )


def test_identity_is_the_portal_id_and_company_currency_read_once_per_run(portal: HubSpotSandbox) -> None:
    portal.requests.clear()
    connector = HubSpotConnector("hub", source(portal))

    first, again = connector.identity(), connector.identity()

    assert first == again
    assert (first.org_id, first.home_currency) == ("13579024", "USD")
    assert any("EUR, GBP" in note for note in first.notes)  # the portal's other currencies
    assert portal.requests.count(path_contains="/account-info/v3/details") == 1
