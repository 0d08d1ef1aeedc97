"""HubSpot API calls through real pull cycles against the sandbox (issue 14, item 2).

One read of the deals object feeds `deals` and `renewals`; a full pull lists each object once at
100 a page; a cycle with nothing changed searches each object once and makes no other call; the
archived sweep, the owners, the deal pipelines and the account details (the portal identity, kept
with a pin of the token) are read again only when `deletes_every` has passed, or, for owners and
pipelines, when a record names one the store's copy lacks, and for the account details, when the
token changes. Each cycle opens its connectors
afresh, as `okrsync run` does. Expected values come from the sandbox's raw records, not from
okrsync's mapping.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from sandbox.hubspot import HubSpotSandbox, HubSpotSettings
from syncer.commands.crm import connector_factory
from syncer.config.models import Settings
from syncer.cycle import CycleOptions, CycleResult, run_cycle
from syncer.errors import OrgMismatchError
from syncer.store.database import Store, open_store
from tests.integration.test_hubspot_cycle import hub_settings, write_config

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 15, 12, tzinfo=UTC)  # the sandbox clock, frozen: cycles pick their own start
RENEWED, CHURNED = "31000005", "31000006"  # the renewals pipeline's won and lost stages


@pytest.fixture
def hs() -> Iterator[HubSpotSandbox]:
    # No sandbox-side limits: the call counts are the subject here (the rate has its own test).
    with HubSpotSandbox(
        now=NOW, settings=HubSpotSettings(ten_secondly_limit=None, search_per_second=None)
    ) as sb:
        yield sb


@pytest.fixture
def settings(hs: HubSpotSandbox, tmp_path: Path, store_url: str) -> Settings:
    return hub_settings(hs, write_config(tmp_path / "hub.yaml"), store_url)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    opened = open_store(settings.store)
    yield opened
    opened.close()


def pull_cycle(hs: HubSpotSandbox, settings: Settings, store: Store, at: datetime) -> CycleResult:
    """One pull-only cycle starting at `at`, the sandbox's request log holding only its calls.

    Connectors come from `connector_factory` with the store, as in `okrsync run`: new ones each
    cycle, keeping CRM metadata in the store."""
    hs.requests.clear()
    report = run_cycle(
        settings,
        store,
        connector_factory(settings, store=store),
        clock=lambda: at,
        options=CycleOptions(phases=("pull",)),
    )
    assert report.exit_code == 0, report.errors
    return report


def object_calls(hs: HubSpotSandbox, kind: str) -> dict[str, int]:
    """Calls of `kind` (list, search) per object; a list of archived objects as `<object> archived`."""
    counts: dict[str, int] = {}
    for entry in hs.requests.filter(kind=kind):
        name = entry.path.split("/")[4] + (" archived" if entry.params.get("archived") == "true" else "")
        counts[name] = counts.get(name, 0) + 1
    return counts


def request_kinds(hs: HubSpotSandbox) -> dict[str, int]:
    """Every call of the cycle by the sandbox's kind: list, search, owners, pipelines, account_details."""
    return dict(Counter(entry.kind for entry in hs.requests.filter()))


def pages(n: int) -> int:
    return max(1, math.ceil(n / 100))


def stored(store: Store, table: str, column: str = "id") -> dict[str, object]:
    """Live rows of a stream table: id → `column`."""
    with store.sessions() as session:
        rows = session.execute(text(f"SELECT id, {column} FROM {table} WHERE source = 'hub' AND NOT deleted"))
        return {str(row[0]): row[1] for row in rows}


def raw_deals(hs: HubSpotSandbox, pipeline: str) -> dict[str, str]:
    """Live deals of one pipeline in the sandbox: id → stage."""
    return {
        r.id: str(r.properties["dealstage"])
        for r in hs.records("deals")
        if r.properties.get("pipeline") == pipeline
    }


def test_full_pull_lists_each_object_once_and_fills_deals_and_renewals(
    hs: HubSpotSandbox, settings: Settings, store: Store
) -> None:
    report = pull_cycle(hs, settings, store, NOW + timedelta(minutes=1))

    # The minimum: one list page per 100 records of each object, live and archived, and no search.
    assert object_calls(hs, "list") == {
        "deals": pages(len(hs.records("deals"))),
        "deals archived": pages(len(hs.records("deals", archived=True))),
        "calls": pages(len(hs.records("calls"))),
        "calls archived": pages(len(hs.records("calls", archived=True))),
    }
    assert object_calls(hs, "search") == {}
    assert hs.requests.count(kind="owners") == 2  # active and archived owners: one page each
    # Both streams on the deals object are whole, from that one read.
    assert set(stored(store, "deals")) == set(raw_deals(hs, "default"))
    status = {RENEWED: "renewed", CHURNED: "churned"}
    expected = {i: status.get(stage, "open") for i, stage in raw_deals(hs, "renewals").items()}
    assert stored(store, "renewals", "status") == expected
    assert set(expected.values()) == {"renewed", "churned", "open"}
    assert {s.stream: s.deleted for s in report.pulls[0].streams} == {"deals": 0, "calls": 0, "renewals": 0}


def test_a_cycle_with_nothing_changed_searches_each_object_once_and_lists_nothing(
    hs: HubSpotSandbox, settings: Settings, store: Store
) -> None:
    pull_cycle(hs, settings, store, NOW + timedelta(minutes=1))

    report = pull_cycle(hs, settings, store, NOW + timedelta(minutes=16))

    assert object_calls(hs, "search") == {"deals": 1, "calls": 1}
    # Nothing else: no owners, no pipelines, no account details (all kept in the store).
    assert request_kinds(hs) == {"search": 2}
    assert [(s.stream, s.received, s.changed) for s in report.pulls[0].streams] == [
        ("deals", 0, 0),
        ("calls", 0, 0),
        ("renewals", 0, 0),
    ]


def test_the_sweep_runs_only_when_due_and_stores_the_deletes_it_finds(
    hs: HubSpotSandbox, settings: Settings, store: Store
) -> None:
    pull_cycle(hs, settings, store, NOW + timedelta(minutes=1))
    renewals = sorted(raw_deals(hs, "renewals"))
    call = hs.records("calls")[0].id
    hs.clock.advance(timedelta(minutes=2))
    hs.archive("deals", renewals[0])  # deleted in HubSpot: only the archived list tells
    hs.archive("calls", call)
    hs.update("deals", renewals[1], {"pipeline": "default"})  # left the pipeline: the search tells

    between = pull_cycle(hs, settings, store, NOW + timedelta(minutes=5))

    assert object_calls(hs, "list") == {}  # 4 minutes after the last sweep: not due (1h)
    assert renewals[0] in stored(store, "renewals")
    assert call in stored(store, "calls")
    assert renewals[1] not in stored(store, "renewals")  # a delete found between sweeps, as ever
    assert renewals[1] in stored(store, "deals")
    assert {s.stream: s.deleted for s in between.pulls[0].streams}["renewals"] == 1

    due = pull_cycle(hs, settings, store, NOW + timedelta(minutes=61))

    assert object_calls(hs, "list") == {"deals archived": 1, "calls archived": 1}
    assert object_calls(hs, "search") == {"deals": 1, "calls": 1}
    assert renewals[0] not in stored(store, "renewals")
    assert call not in stored(store, "calls")
    assert {s.stream: s.deleted for s in due.pulls[0].streams} == {"deals": 0, "calls": 1, "renewals": 1}

    pull_cycle(hs, settings, store, NOW + timedelta(minutes=62))

    assert object_calls(hs, "list") == {}  # the sweep's time is kept in the store: not due again


def test_a_stream_added_later_is_read_from_scratch_in_the_same_read_as_the_others(
    hs: HubSpotSandbox, settings: Settings, store: Store
) -> None:
    source = settings.sources["hub"]
    deals_only = source.model_copy(
        update={"streams": {k: v for k, v in source.streams.items() if k != "renewals"}}
    )
    pull_cycle(
        hs, settings.model_copy(update={"sources": {"hub": deals_only}}), store, NOW + timedelta(minutes=1)
    )

    report = pull_cycle(hs, settings, store, NOW + timedelta(minutes=16))

    # The deals object is listed once (renewals has no cursor: from the oldest, everything); the
    # deals stream already holds every row it reads again, and calls only searches.
    assert object_calls(hs, "list") == {
        "deals": pages(len(hs.records("deals"))),
        "deals archived": pages(len(hs.records("deals", archived=True))),
    }
    assert object_calls(hs, "search") == {"calls": 1}
    changed = {s.stream: s.changed for s in report.pulls[0].streams}
    assert changed == {"deals": 0, "calls": 0, "renewals": len(raw_deals(hs, "renewals"))}
    assert set(stored(store, "renewals")) == set(raw_deals(hs, "renewals"))


def owners(store: Store) -> set[str]:
    with store.sessions() as session:
        return {str(row[0]) for row in session.execute(text("SELECT id FROM owners WHERE source = 'hub'"))}


def test_owners_and_pipelines_are_read_again_only_when_the_interval_is_due(
    hs: HubSpotSandbox, settings: Settings, store: Store
) -> None:
    pull_cycle(hs, settings, store, NOW + timedelta(minutes=1))
    first = request_kinds(hs)
    assert (first["owners"], first["pipelines"], first["account_details"]) == (2, 1, 1)

    pull_cycle(hs, settings, store, NOW + timedelta(minutes=59))

    assert request_kinds(hs) == {"search": 2}  # 58 minutes on: not due (1h)

    pull_cycle(hs, settings, store, NOW + timedelta(minutes=61))

    # Due: the archived lists, both owner lists, the pipelines and the account details (a company
    # currency change shows), with the usual searches.
    assert request_kinds(hs) == {"list": 2, "owners": 2, "pipelines": 1, "search": 2, "account_details": 1}

    pull_cycle(hs, settings, store, NOW + timedelta(minutes=62))

    assert request_kinds(hs) == {"search": 2}  # the listing times are kept


def test_a_deal_whose_owner_the_store_lacks_lists_the_owners_in_that_cycle(
    hs: HubSpotSandbox, settings: Settings, store: Store
) -> None:
    pull_cycle(hs, settings, store, NOW + timedelta(minutes=1))
    newcomer = {**hs.portal.owners[0], "id": "99000001", "email": "newcomer@example.com", "archived": False}
    hs.portal.owners.append(newcomer)  # a rep hired since: HubSpot cannot tell by a time filter
    deal = sorted(raw_deals(hs, "default"))[0]
    hs.clock.advance(timedelta(minutes=2))
    hs.update("deals", deal, {"hubspot_owner_id": "99000001"})
    assert "99000001" not in owners(store)

    pull_cycle(hs, settings, store, NOW + timedelta(minutes=5))

    assert request_kinds(hs) == {"search": 2, "owners": 2}
    assert "99000001" in owners(store)
    assert stored(store, "deals", "owner_id")[deal] == "99000001"

    pull_cycle(hs, settings, store, NOW + timedelta(minutes=6))

    assert request_kinds(hs) == {"search": 2}  # known now: no listing


def test_a_deal_in_a_stage_the_kept_pipelines_lack_reads_them_again(
    hs: HubSpotSandbox, settings: Settings, store: Store
) -> None:
    pull_cycle(hs, settings, store, NOW + timedelta(minutes=1))
    renewals = next(p for p in hs.portal.pipelines if p["id"] == "renewals")
    won = next(s for s in renewals["stages"] if s["id"] == RENEWED)
    renewals["stages"].append({**won, "id": "31000099", "label": "Renewed early"})  # added since
    renewal = next(i for i, stage in raw_deals(hs, "renewals").items() if stage not in (RENEWED, CHURNED))
    hs.clock.advance(timedelta(minutes=2))
    hs.update("deals", renewal, {"dealstage": "31000099"})
    assert stored(store, "renewals", "status")[renewal] == "open"

    pull_cycle(hs, settings, store, NOW + timedelta(minutes=5))

    assert request_kinds(hs) == {"search": 2, "pipelines": 1}
    assert stored(store, "renewals", "status")[renewal] == "renewed"  # mapped with the new stage

    pull_cycle(hs, settings, store, NOW + timedelta(minutes=6))

    assert request_kinds(hs) == {"search": 2}  # the copy kept holds it now


def test_a_new_token_reads_the_account_details_again_before_the_pull(
    hs: HubSpotSandbox, settings: Settings, store: Store, tmp_path: Path, store_url: str
) -> None:
    pull_cycle(hs, settings, store, NOW + timedelta(minutes=1))
    hs.expire_tokens(private_app=True)  # the app's token rotated: `access_token` holds a new one
    rotated = hub_settings(hs, write_config(tmp_path / "rotated.yaml"), store_url)

    pull_cycle(hs, rotated, store, NOW + timedelta(minutes=5))

    # Kept with a pin of the old token: with the new one the portal is asked again, once.
    assert request_kinds(hs) == {"account_details": 1, "search": 2}
    pull_cycle(hs, rotated, store, NOW + timedelta(minutes=6))
    assert request_kinds(hs) == {"search": 2}
    with store.sessions() as session:
        kept = session.execute(
            text("SELECT body FROM crm_metadata WHERE key = 'account details'")
        ).scalar_one()
    assert hs.access_token not in kept  # a pin of the token is kept, never the token


def test_another_portal_on_the_same_store_is_refused_before_any_pull(
    hs: HubSpotSandbox, settings: Settings, store: Store, tmp_path: Path, store_url: str
) -> None:
    pull_cycle(hs, settings, store, NOW + timedelta(minutes=1))  # the account details are kept
    unthrottled = HubSpotSettings(ten_secondly_limit=None, search_per_second=None, portal_id=11_223_344)
    with HubSpotSandbox(now=NOW, settings=unthrottled) as other:
        elsewhere = hub_settings(other, write_config(tmp_path / "other.yaml"), store_url)

        with pytest.raises(OrgMismatchError, match="11223344"):
            run_cycle(elsewhere, store, connector_factory(elsewhere, store=store), clock=lambda: NOW)

        # The kept copy was read with the first portal's token: this one is asked, and nothing else.
        assert request_kinds(other) == {"account_details": 1}
