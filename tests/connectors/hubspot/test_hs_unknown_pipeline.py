"""A configured pipeline the portal does not have (issue 15, Found 8): `check` says so, and a pull
fails the stream instead of reading every deal as out of scope, which stored them all as deleted."""

from __future__ import annotations

import pytest

from connectors.hubspot import HubSpotConnector
from syncer.errors import RejectedRequestError
from tests.connectors.hubspot.conftest import UNTIL, hs_deal, make_source, minutes
from tests.connectors.hubspot.portal import Portal


def open_hub(portal: Portal, pipelines: list[str]) -> HubSpotConnector:
    source = make_source(portal.url, streams={"deals": {"pipelines": pipelines}})
    return HubSpotConnector("hub", source, sleep=lambda _: None)


@pytest.mark.parametrize("pipelines", [["Sales Pipelne"], ["default", "gone-123"]])
def test_a_pull_with_an_unknown_pipeline_fails_before_reading_a_deal(
    portal: Portal, pipelines: list[str]
) -> None:
    portal.objects["deals"] = [hs_deal(i, UNTIL - minutes(10)) for i in range(1, 6)]
    hub = open_hub(portal, pipelines)

    with pytest.raises(
        RejectedRequestError, match=r"no deal pipeline `.*` in the portal; nothing was pulled or deleted"
    ):
        list(hub.pull("deals", since=None, until=UNTIL))

    assert not [path for path in portal.paths() if "/objects/deals" in path]  # no deal was read
    hub.close()


def test_a_known_pipeline_by_label_in_any_case_still_pulls(portal: Portal) -> None:
    portal.objects["deals"] = [hs_deal(i, UNTIL - minutes(5)) for i in range(1, 4)]
    hub = open_hub(portal, ["sales pipeline"])

    records = [r for page in hub.pull("deals", since=None, until=UNTIL) for r in page.records]

    assert sorted(r.id for r in records) == ["1", "2", "3"]
    assert not any(r.deleted for r in records)
    hub.close()


def test_check_reports_the_unknown_pipeline_as_an_error(portal: Portal) -> None:
    hub = open_hub(portal, ["Sales Pipelne"])

    findings = hub.check()

    errors = [f for f in findings if f.level == "error"]
    assert [(f.subject, f.message) for f in errors] == [
        ("deals.pipelines", "no deal pipeline `Sales Pipelne`")
    ]
    hub.close()
