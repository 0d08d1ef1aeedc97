"""A configured pipeline the portal does not have (issue 15, Found 8): `check` says so, and a pull
fails the stream instead of reading every deal as out of scope, which stored them all as deleted."""

from __future__ import annotations

import pytest

from connectors.hubspot import HubSpotConnector
from sandbox.hubspot import HubSpotSandbox
from syncer.errors import RejectedRequestError
from syncer.pull import pull_window
from tests.connectors.hubspot.conftest import UNTIL, make_source

pytestmark = pytest.mark.integration


def open_hub(hs: HubSpotSandbox, pipelines: list[str]) -> HubSpotConnector:
    source = make_source(hs, streams={"deals": {"pipelines": pipelines}})
    return HubSpotConnector("hub", source, sleep=lambda _: None)


@pytest.mark.parametrize("pipelines", [["Sales Pipelne"], ["default", "gone-123"]])
def test_a_pull_with_an_unknown_pipeline_fails_before_reading_a_deal(
    hs: HubSpotSandbox, pipelines: list[str]
) -> None:
    hub = open_hub(hs, pipelines)

    with pytest.raises(
        RejectedRequestError, match=r"no deal pipeline `.*` in the portal; nothing was pulled or deleted"
    ):
        list(pull_window(hub, "deals", since=None, until=UNTIL))

    assert hs.requests.count(path_contains="/objects/deals") == 0  # no deal was read
    hub.close()


def test_a_known_pipeline_by_label_in_any_case_still_pulls(hs: HubSpotSandbox) -> None:
    hub = open_hub(hs, ["sales pipeline"])

    records = [r for page in pull_window(hub, "deals", since=None, until=UNTIL) for r in page.records]

    expected = {r.id for r in hs.records("deals") if r.properties.get("pipeline") == "default"}
    assert {r.id for r in records if not r.deleted} == expected
    hub.close()


def test_check_reports_the_unknown_pipeline_as_an_error(hs: HubSpotSandbox) -> None:
    hub = open_hub(hs, ["Sales Pipelne"])

    findings = hub.check()

    errors = [f for f in findings if f.level == "error"]
    assert [(f.subject, f.message) for f in errors] == [
        ("deals.pipelines", "no deal pipeline `Sales Pipelne`")
    ]
    hub.close()
