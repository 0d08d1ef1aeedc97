"""Pulling deals, calls, renewals and owners from the fake portal: paging, the 10,000 cap, deletes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from connectors.hubspot import HubSpotConnector
from syncer.contract import Cursor
from syncer.records import Call, Deal, Renewal
from tests.connectors.hubspot.conftest import LOST, OPEN, UNTIL, hs_deal, minutes
from tests.connectors.hubspot.portal import Portal

SINCE = UNTIL - timedelta(days=1)


def test_first_pull_lists_every_deal_in_pages_of_100(portal: Portal, connector: HubSpotConnector) -> None:
    portal.objects["deals"] = [hs_deal(i, SINCE) for i in range(1, 251)]
    pages = list(connector.pull("deals", since=None, until=UNTIL))
    ids = [r.id for p in pages for r in p.records]
    assert sorted(ids, key=int) == [str(i) for i in range(1, 251)]
    assert [p.cursor for p in pages[:-1]] == [None] * (len(pages) - 1)
    assert pages[-1].cursor == Cursor(modified_at=UTC_UNTIL)
    lists = [p for p in portal.paths("GET") if p == "/crm/v3/objects/deals"]
    assert len(lists) == 1 + 3  # archived list, then 3 pages of 100


UTC_UNTIL = UNTIL


def test_deal_fields_map_from_stage_metadata_and_home_currency(
    portal: Portal, connector: HubSpotConnector
) -> None:
    portal.objects["deals"] = [
        hs_deal(1, SINCE, amount_in_home_currency="1100.50", deal_currency_code="EUR"),
        hs_deal(2, SINCE, dealstage=LOST, dealtype="existingbusiness"),
        hs_deal(3, SINCE, dealstage=OPEN, hs_is_closed_won="false"),
    ]
    deals = {r.id: r for p in connector.pull("deals", since=None, until=UNTIL) for r in p.records}
    first, lost, open_ = deals["1"], deals["2"], deals["3"]
    assert isinstance(first, Deal)
    assert first.amount == Decimal("1100.50")
    assert first.currency == "EUR"
    assert (first.is_closed, first.is_won, first.type) == (True, True, "new")
    assert isinstance(lost, Deal)
    assert (lost.is_closed, lost.is_won, lost.type) == (True, False, "expansion")
    assert lost.amount == Decimal("1000")  # no home-currency amount: the deal's own
    assert isinstance(open_, Deal)
    assert (open_.is_closed, open_.is_won) == (False, False)
    assert first.close_date is not None
    assert first.close_date.isoformat() == "2026-09-30"


def test_incremental_pull_past_the_10000_cap_returns_each_deal_once(
    portal: Portal, connector: HubSpotConnector
) -> None:
    # 12,000 deals modified after the cursor, 3 per millisecond: restarts land inside ties.
    base = SINCE + minutes(1)
    portal.objects["deals"] = [hs_deal(i, base + timedelta(milliseconds=i // 3)) for i in range(1, 12_001)]
    pages = list(connector.pull("deals", since=Cursor(modified_at=SINCE), until=UNTIL))
    ids = [r.id for p in pages for r in p.records]
    assert len(ids) == 12_000
    assert len(set(ids)) == 12_000
    cursors = [p.cursor for p in pages if p.cursor is not None]
    assert cursors == sorted(cursors, key=lambda c: c.modified_at)
    assert cursors[-1] == Cursor(modified_at=UNTIL)
    searches = [p for p in portal.paths("POST") if p.endswith("/search")]
    assert len(searches) <= 12_000 // 200 + 2  # the API minimum plus one call per restart


def test_ten_thousand_deals_at_one_instant_are_walked_by_id(
    portal: Portal, connector: HubSpotConnector
) -> None:
    at = SINCE + minutes(5)
    portal.objects["deals"] = [hs_deal(i, at) for i in range(1, 10_301)]
    ids = [
        r.id for p in connector.pull("deals", since=Cursor(modified_at=SINCE), until=UNTIL) for r in p.records
    ]
    assert sorted(ids, key=int) == [str(i) for i in range(1, 10_301)]


def test_incremental_pull_reads_only_the_window_and_archived_deals_become_deletes(
    portal: Portal, connector: HubSpotConnector
) -> None:
    portal.objects["deals"] = [
        hs_deal(1, SINCE - minutes(1)),
        hs_deal(2, SINCE + minutes(1)),
        hs_deal(3, UNTIL),
    ]
    gone = hs_deal(4, SINCE - minutes(30)) | {
        "archived": True,
        "archivedAt": (SINCE + minutes(2)).isoformat(),
    }
    old = hs_deal(5, SINCE - minutes(30)) | {"archived": True, "archivedAt": (SINCE - minutes(2)).isoformat()}
    portal.archived["deals"] = [gone, old]
    records = [
        r for p in connector.pull("deals", since=Cursor(modified_at=SINCE), until=UNTIL) for r in p.records
    ]
    assert [(r.id, r.deleted) for r in records] == [("4", True), ("2", False)]


def test_renewals_are_deals_in_the_renewal_pipeline_with_status_from_stages(
    portal: Portal, connector: HubSpotConnector
) -> None:
    portal.objects["deals"] = [
        hs_deal(1, SINCE, pipeline="777", dealstage="rw"),
        hs_deal(2, SINCE, pipeline="777", dealstage="rl"),
        hs_deal(3, SINCE, pipeline="777", dealstage="ro"),
        hs_deal(4, SINCE),
    ]
    renewals = [r for p in connector.pull("renewals", since=None, until=UNTIL) for r in p.records]
    live = {r.id: r.status for r in renewals if isinstance(r, Renewal) and not r.deleted}
    assert live == {"1": "renewed", "2": "churned", "3": "open"}


def test_calls_map_duration_ms_to_seconds_and_dispositions(
    portal: Portal, connector: HubSpotConnector
) -> None:
    portal.objects["calls"] = [
        {
            "id": "70",
            "properties": {
                "hs_timestamp": "2026-10-01T09:00:00Z",
                "hs_call_duration": "95400",
                "hs_call_direction": "OUTBOUND",
                "hs_call_disposition": "f240bbac-87c9-4f6e-bf70-924b57d47db7",
                "hubspot_owner_id": "11",
                "hs_lastmodifieddate": "2026-10-01T09:05:00Z",
            },
        }
    ]
    (call,) = [r for p in connector.pull("calls", since=None, until=UNTIL) for r in p.records]
    assert isinstance(call, Call)
    assert (call.duration_seconds, call.direction, call.outcome) == (95, "outbound", "connected")
    assert call.occurred_at == datetime(2026, 10, 1, 9, tzinfo=UTC)


def test_owners_archived_are_inactive_and_team_is_the_primary_team(
    portal: Portal, connector: HubSpotConnector
) -> None:
    portal.owners = [
        {
            "id": "11",
            "email": "Ana@Example.com",
            "firstName": "Ana",
            "lastName": "Ruiz",
            "updatedAt": "2026-01-01T00:00:00Z",
            "teams": [
                {"id": "1", "name": "West", "primary": False},
                {"id": "2", "name": "EMEA", "primary": True},
            ],
        },
    ]
    portal.archived_owners = [
        {"id": "12", "email": "bo@example.com", "updatedAt": "2026-01-01T00:00:00Z", "archived": True}
    ]
    owners = [o for page in connector.pull_owners() for o in page.owners]
    assert [(o.id, o.email, o.active, o.team, o.name) for o in owners] == [
        ("11", "ana@example.com", True, "EMEA", "Ana Ruiz"),
        ("12", "bo@example.com", False, None, None),
    ]
