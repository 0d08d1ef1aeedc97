"""HubSpot's own pull rules against the sandbox: deal fields from stage metadata and the home
currency, the 10,000-result search cap, renewals by pipeline, calls, owners' teams. Full pulls,
resumes, deletes and bad records are in tests/connectors/test_contract.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from connectors.hubspot import HubSpotConnector
from sandbox.hubspot import HubSpotSandbox
from syncer.contract import Cursor
from syncer.pull import pull_window
from syncer.records import Call, Deal, Renewal
from tests.connectors.hubspot.conftest import NOW, UNTIL, instant

pytestmark = pytest.mark.integration

WON, LOST, OPEN = "closedwon", "closedlost", "qualifiedtobuy"  # the default pipeline's stage ids
RENEWED, CHURNED = "31000005", "31000006"  # the renewals pipeline's won and lost stages


def changed_since_now(hs: HubSpotSandbox, object_type: str) -> set[str]:
    return {r.id for r in hs.records(object_type) if instant(r.properties["hs_lastmodifieddate"]) >= NOW}


def test_deal_fields_map_from_stage_metadata_and_home_currency(
    hs: HubSpotSandbox, connector: HubSpotConnector
) -> None:
    hs.clock.advance(timedelta(minutes=1))
    base = {"pipeline": "default", "closedate": "2026-09-30T00:00:00Z", "dealtype": "newbusiness"}
    first = hs.create("deals", base | {"dealstage": WON, "amount": "1000", "deal_currency_code": "EUR"})
    lost = hs.create("deals", base | {"dealstage": LOST, "amount": "1000", "dealtype": "existingbusiness"})
    open_ = hs.create("deals", base | {"dealstage": OPEN, "amount": "1000"})

    pages = pull_window(connector, "deals", since=Cursor(modified_at=NOW), until=UNTIL)
    deals = {r.id: r for p in pages for r in p.records}

    mapped = deals[first.id]
    assert isinstance(mapped, Deal)
    assert mapped.amount == Decimal(str(first.properties["amount_in_home_currency"]))  # converted by HubSpot
    assert mapped.amount != Decimal(1000)
    assert (mapped.currency, mapped.is_closed, mapped.is_won, mapped.type) == ("EUR", True, True, "new")
    assert mapped.close_date is not None
    assert mapped.close_date.isoformat() == "2026-09-30"
    was_lost, still_open = deals[lost.id], deals[open_.id]
    assert isinstance(was_lost, Deal)
    assert (was_lost.is_closed, was_lost.is_won, was_lost.type) == (True, False, "expansion")
    assert isinstance(still_open, Deal)
    assert (still_open.is_closed, still_open.is_won) == (False, False)


def test_incremental_pull_past_the_10000_cap_returns_each_deal_once(
    hs: HubSpotSandbox, connector: HubSpotConnector
) -> None:
    hs.clock.advance(timedelta(minutes=1))
    hs.bulk_touch("deals", 12_000, step=timedelta(milliseconds=1))
    expected = changed_since_now(hs, "deals")

    pages = list(pull_window(connector, "deals", since=Cursor(modified_at=NOW), until=UNTIL))

    ids = [r.id for p in pages for r in p.records]
    assert len(ids) == len(set(ids)) == len(expected)
    assert set(ids) == expected
    cursors = [p.cursor for p in pages if p.cursor is not None]
    assert cursors == sorted(cursors, key=lambda c: c.modified_at)
    assert cursors[-1] == Cursor(modified_at=UNTIL)
    assert hs.requests.count(kind="search") <= len(expected) // 200 + 2  # the minimum plus a call per restart


def test_ten_thousand_deals_at_one_instant_are_walked_by_id(
    hs: HubSpotSandbox, connector: HubSpotConnector
) -> None:
    hs.clock.advance(timedelta(minutes=5))
    touched = hs.bulk_touch("deals", 10_300, step=timedelta(0))

    pages = pull_window(connector, "deals", since=Cursor(modified_at=NOW), until=UNTIL)
    ids = [r.id for p in pages for r in p.records]

    assert sorted(ids) == sorted(touched)


def test_renewals_are_deals_in_the_renewal_pipeline_with_status_from_stages(
    hs: HubSpotSandbox, connector: HubSpotConnector
) -> None:
    renewals = [r for p in pull_window(connector, "renewals", since=None, until=UNTIL) for r in p.records]

    raw = {r.id: r.properties for r in hs.records("deals") if r.properties.get("pipeline") == "renewals"}
    status = {RENEWED: "renewed", CHURNED: "churned"}
    expected = {i: status.get(str(p["dealstage"]), "open") for i, p in raw.items()}
    live = {r.id: r.status for r in renewals if isinstance(r, Renewal) and not r.deleted}
    assert live == expected
    assert set(expected.values()) == {"renewed", "churned", "open"}


def test_calls_map_duration_ms_to_seconds_and_dispositions(
    hs: HubSpotSandbox, connector: HubSpotConnector
) -> None:
    hs.clock.advance(timedelta(minutes=1))
    made = hs.create(
        "calls",
        {
            "hs_timestamp": "2026-10-01T09:00:00Z",
            "hs_call_duration": "95400",
            "hs_call_direction": "OUTBOUND",
            "hs_call_disposition": "f240bbac-87c9-4f6e-bf70-924b57d47db7",
        },
    )

    pages = pull_window(connector, "calls", since=Cursor(modified_at=NOW), until=UNTIL)
    (call,) = [r for p in pages for r in p.records if r.id == made.id]

    assert isinstance(call, Call)
    assert (call.duration_seconds, call.direction, call.outcome) == (95, "outbound", "connected")
    assert call.occurred_at == datetime(2026, 10, 1, 9, tzinfo=UTC)


def test_owners_archived_are_inactive_and_team_is_the_primary_team(
    hs: HubSpotSandbox, connector: HubSpotConnector
) -> None:
    owners = {o.id: o for page in connector.pull_owners() for o in page.owners}

    for raw in hs.portal.owners:
        owner = owners[str(raw["id"])]
        primary = [t["name"] for t in raw["teams"] if t["primary"]]
        assert (owner.email, owner.active) == (raw["email"].lower(), not raw["archived"])
        assert owner.team == (primary[0] if primary else None)
        assert owner.name == f"{raw['firstName']} {raw['lastName']}"
    assert len(owners) == len(hs.portal.owners)
