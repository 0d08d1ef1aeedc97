"""Pulls: paging, the SOQL sent, cursors, deletes, rejected rows, refused names and conditions."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any

import pytest
import responses

from connectors.salesforce import SalesforceConnector
from syncer.contract import Cursor
from syncer.errors import RejectedRequestError
from syncer.pull import pull_window
from tests.connectors.salesforce.builders import (
    API,
    HOST,
    query_page,
    sf_opportunity,
    url_of,
)
from tests.connectors.salesforce.conftest import UNTIL, make_source, pulled, soql_of

NEXT = "/services/data/v59.0/query/01gXX-2000"


def test_pull_follows_next_records_url_page_by_page(
    org: responses.RequestsMock, sf_connector: SalesforceConnector
) -> None:
    org.get(f"{API}/queryAll/", json=query_page([sf_opportunity(Id="006A")], next_url=NEXT))
    org.get(
        f"{HOST}{NEXT}",
        json=query_page([sf_opportunity(Id="006B", SystemModstamp="2026-10-02T00:00:00.000+0000")]),
    )

    pages = pulled(sf_connector)

    assert [[r.id for r in page.records] for page in pages] == [["006A"], ["006B"]]
    assert pages[0].cursor == Cursor(datetime(2026, 10, 1, 9, tzinfo=UTC), "006A")
    assert pages[1].cursor == Cursor(UNTIL.replace(microsecond=0))  # the window is read to its end
    # the API minimum: one token, one describe, one call per 2,000-row page (docs/crm-apis.md §7.1)
    assert [url_of(c) for c in org.calls] == [
        f"{HOST}/services/oauth2/token",
        f"{API}/sobjects/Opportunity/describe/",
        f"{API}/queryAll/",
        f"{HOST}{NEXT}",
    ]
    assert all(c.request.headers["Sforce-Query-Options"] == "batchSize=2000" for c in org.calls[2:])
    assert sf_connector.usage().calls == 4


def test_pull_yields_before_reading_the_next_page(
    org: responses.RequestsMock, sf_connector: SalesforceConnector
) -> None:
    org.get(f"{API}/queryAll/", json=query_page([sf_opportunity()], next_url=NEXT))
    answered, release = threading.Event(), threading.Event()

    def next_page(request: Any) -> tuple[int, dict[str, str], str]:
        release.wait(10)  # the org is slow to answer queryMore
        answered.set()
        return 200, {}, json.dumps(query_page([]))

    org.add_callback(responses.GET, f"{HOST}{NEXT}", callback=next_page, content_type="application/json")
    pages = pull_window(sf_connector, "deals", since=None, until=UNTIL)

    first = next(pages)

    assert len(first.records) == 1
    assert not answered.is_set()  # handed on while the next page is still being read
    release.set()
    assert [len(page.records) for page in pages] == [0]


def test_query_selects_the_mapping_and_bounds_the_window(
    org: responses.RequestsMock, sf_connector: SalesforceConnector
) -> None:
    org.get(f"{API}/queryAll/", json=query_page([]))
    since = Cursor(datetime(2026, 10, 1, 9, tzinfo=UTC), "006A")

    pulled(sf_connector, "renewals", since=since)

    assert soql_of(org.calls[-1]) == (
        "SELECT Id, OwnerId, AccountId, Amount, CloseDate, IsClosed, IsWon, SystemModstamp, IsDeleted "
        "FROM Opportunity WHERE (Type = 'Renewal') "
        "AND (SystemModstamp > 2026-10-01T09:00:00+00:00 OR "
        "(SystemModstamp = 2026-10-01T09:00:00+00:00 AND Id > '006A')) "
        "AND SystemModstamp < 2026-10-05T12:00:00+00:00 ORDER BY SystemModstamp, Id"
    )


def test_cursor_inside_a_second_reads_the_second_again_and_skips_what_is_stored(
    org: responses.RequestsMock, sf_connector: SalesforceConnector
) -> None:
    rows = [
        sf_opportunity(Id="006A", SystemModstamp="2026-10-01T09:00:00.200+0000"),
        sf_opportunity(Id="006B", SystemModstamp="2026-10-01T09:00:00.500+0000"),
        sf_opportunity(Id="006C", SystemModstamp="2026-10-01T09:00:00.500+0000"),
        sf_opportunity(Id="006D", SystemModstamp="2026-10-01T09:00:01.000+0000"),
    ]
    org.get(f"{API}/queryAll/", json=query_page(rows))

    pages = pulled(sf_connector, since=Cursor(datetime(2026, 10, 1, 9, 0, 0, 500_000, tzinfo=UTC), "006B"))

    assert [r.id for r in pages[0].records] == ["006C", "006D"]
    assert "WHERE SystemModstamp >= 2026-10-01T09:00:00+00:00 AND SystemModstamp < " in soql_of(org.calls[-1])


def test_cursor_without_an_id_is_inclusive(
    org: responses.RequestsMock, sf_connector: SalesforceConnector
) -> None:
    org.get(f"{API}/queryAll/", json=query_page([sf_opportunity(Id="006A")]))

    pages = pulled(sf_connector, since=Cursor(datetime(2026, 10, 1, 9, tzinfo=UTC)))

    assert [r.id for r in pages[0].records] == ["006A"]
    assert "WHERE SystemModstamp >= 2026-10-01T09:00:00+00:00 AND " in soql_of(org.calls[-1])


def test_look_back_window_rereads_rows_before_the_cursor_and_keeps_the_cursor(
    org: responses.RequestsMock, waits: list[float]
) -> None:
    rows = [
        sf_opportunity(Id="006L", SystemModstamp="2026-10-01T08:58:00.000+0000"),  # committed late
        sf_opportunity(Id="006N", SystemModstamp="2026-10-01T09:01:00.000+0000"),
    ]
    org.get(f"{API}/queryAll/", json=query_page(rows, next_url=NEXT))
    org.get(f"{HOST}{NEXT}", json=query_page([]))
    connector = SalesforceConnector("sfdc", make_source(lookback_seconds=600), sleep=waits.append)
    since = Cursor(datetime(2026, 10, 1, 9, tzinfo=UTC), "006B")

    pages = pulled(connector, since=since)

    assert [r.id for r in pages[0].records] == ["006L", "006N"]
    assert "WHERE SystemModstamp >= 2026-10-01T08:50:00+00:00 AND " in soql_of(org.calls[2])
    assert pages[0].cursor == Cursor(datetime(2026, 10, 1, 9, 1, tzinfo=UTC), "006N")


def test_look_back_page_of_old_rows_never_moves_the_cursor_back(
    org: responses.RequestsMock, waits: list[float]
) -> None:
    old = [sf_opportunity(Id="006L", SystemModstamp="2026-10-01T08:58:00.000+0000")]
    org.get(f"{API}/queryAll/", json=query_page(old, next_url=NEXT))
    org.get(f"{HOST}{NEXT}", json=query_page([]))
    connector = SalesforceConnector("sfdc", make_source(lookback_seconds=600), sleep=waits.append)
    since = Cursor(datetime(2026, 10, 1, 9, tzinfo=UTC), "006B")

    pages = pulled(connector, since=since)

    assert pages[0].cursor == since
    assert pages[-1].cursor == Cursor(UNTIL.replace(microsecond=0))


def test_window_already_read_makes_no_call(
    rsps: responses.RequestsMock, sf_connector: SalesforceConnector
) -> None:
    pages = pulled(sf_connector, since=Cursor(UNTIL.replace(microsecond=0)))

    assert pages == []
    assert len(rsps.calls) == 0


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"Amount": "lots"}, "amount is not a number"),
        ({"SystemModstamp": None}, "modified_at is missing"),
        ({"CloseDate": "yesterday"}, "close_date is not a date"),
        ({"IsWon": "maybe"}, "is_won is not a boolean"),
    ],
)
def test_unmappable_row_is_rejected_not_raised(
    org: responses.RequestsMock, sf_connector: SalesforceConnector, overrides: dict[str, object], reason: str
) -> None:
    org.get(
        f"{API}/queryAll/",
        json=query_page([sf_opportunity(Id="006BAD", **overrides), sf_opportunity(Id="006OK")]),
    )

    page = pulled(sf_connector)[0]

    assert [r.id for r in page.records] == ["006OK"]
    assert [(e.record_id, e.reason) for e in page.rejected] == [("006BAD", reason)]


@pytest.mark.parametrize(
    ("stream_config", "named"),
    [
        ({"object": "Opportunity", "fields": {"amount": "Amount_Typo__c"}}, "`Amount_Typo__c`"),
        ({"object": "Opportunity", "attributes": {"x": "Missing__c"}}, "`Missing__c`"),
        ({"object": "Opportunity", "fields": {"amount": "Amount) FROM User --"}}, "`Amount) FROM User --`"),
        ({"object": "Opportunity", "fields": {"amonut": "Amount"}}, "`amonut`"),
    ],
)
def test_unknown_field_is_refused_naming_it_and_the_object(
    org: responses.RequestsMock, waits: list[float], stream_config: dict[str, object], named: str
) -> None:
    connector = SalesforceConnector("sfdc", make_source(streams={"deals": stream_config}), sleep=waits.append)

    with pytest.raises(RejectedRequestError, match=r"streams\.deals") as raised:
        pulled(connector)

    assert named in str(raised.value)
    assert not any("query" in url_of(c) for c in org.calls)


def test_unknown_object_is_a_clear_error(rsps: responses.RequestsMock, waits: list[float]) -> None:
    rsps.post(f"{HOST}/services/oauth2/token", json={"access_token": "t"})
    rsps.get(
        f"{API}/sobjects/Deal__c/describe/",
        status=404,
        json=[{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}],
    )
    connector = SalesforceConnector(
        "sfdc", make_source(streams={"deals": {"object": "Deal__c"}}), sleep=waits.append
    )

    with pytest.raises(RejectedRequestError, match="object `Deal__c` does not exist"):
        pulled(connector)


def test_describe_is_fetched_once_per_object(
    org: responses.RequestsMock, sf_connector: SalesforceConnector
) -> None:
    org.get(f"{API}/queryAll/", json=query_page([]))

    pulled(sf_connector, "deals")
    pulled(sf_connector, "renewals")

    assert sum("describe" in url_of(c) for c in org.calls) == 1


@pytest.mark.parametrize(
    "where",
    [
        "Type = 'Renewal'; DELETE",
        "Type = 'Renewal' LIMIT 1",
        "Type = 'Renewal' ORDER BY Name",
        "Type = 'Renewal' OFFSET 10",
        "Type = 'Renewal' GROUP BY Type",
        "Id IN (SELECT Id FROM Opportunity)",
        "Type = 'Renewal') OR (Id != null",
        "(Type = 'Renewal'",
        "Type = 'Renewal",
        "Type = 'it\\'s' OR Name = 'x",
        'Type = "Renewal"',
        "Type = 'a' FROM User",
        "Amount > 5 /* comment */",
        "   ",
    ],
)
def test_where_that_could_escape_its_parentheses_is_refused(
    rsps: responses.RequestsMock, waits: list[float], where: str
) -> None:
    connector = SalesforceConnector(
        "sfdc", make_source(streams={"deals": {"object": "Opportunity", "where": where}}), sleep=waits.append
    )

    with pytest.raises(RejectedRequestError, match=r"streams\.deals\.where is refused"):
        pulled(connector)

    assert len(rsps.calls) == 0  # refused before any call


@pytest.mark.parametrize(
    "where",
    [
        "Type = 'Renewal; LIMIT 1 ORDER BY x'",
        "Name LIKE '%(from)%' AND Amount > 1000",
        "Type = 'it\\'s' AND (IsClosed = true OR CloseDate = LAST_N_DAYS:30)",
        "CloseDate >= 2026-01-01 AND Forecast_Category__c != 'Omitted'",
    ],
)
def test_where_keeps_keywords_inside_strings(
    org: responses.RequestsMock, waits: list[float], where: str
) -> None:
    org.get(f"{API}/queryAll/", json=query_page([]))
    connector = SalesforceConnector(
        "sfdc", make_source(streams={"deals": {"object": "Opportunity", "where": where}}), sleep=waits.append
    )

    pulled(connector)

    assert f"WHERE ({where}) AND SystemModstamp < " in soql_of(org.calls[-1])
