"""store.zones: a source is pulled in full when its stored local dates were read in another zone."""

from __future__ import annotations

from datetime import UTC, datetime

from syncer.contract import Cursor
from syncer.store import cursors, zones
from syncer.store.database import open_store

NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)


def test_zone_changes_ask_for_a_full_pull_until_one_completes(store_url: str) -> None:
    store = open_store(store_url)
    try:
        # Nothing stored yet: no full pull needed, and the zone is taken at once (a resumed first
        # pull reads every row in it too).
        assert zones.prepare_pull(store, "hub", "Asia/Tokyo", now=NOW) is False
        with store.sessions.begin() as session:
            cursors.advance(session, "hub", "deals", Cursor(modified_at=NOW))
        assert zones.prepare_pull(store, "hub", "Asia/Tokyo", now=NOW) is False
        # Ops change `timezone`: full pulls until one completes.
        assert zones.prepare_pull(store, "hub", "America/Los_Angeles", now=NOW) is True
        assert zones.prepare_pull(store, "hub", "America/Los_Angeles", now=NOW) is True  # it failed: again
        zones.record_complete_pull(store, "hub", "America/Los_Angeles", now=NOW)
        assert zones.prepare_pull(store, "hub", "America/Los_Angeles", now=NOW) is False
        # Another source is independent.
        assert zones.prepare_pull(store, "sfdc", "America/Los_Angeles", now=NOW) is False
    finally:
        store.close()


def test_a_store_from_before_zones_were_recorded_is_pulled_in_full_once(store_url: str) -> None:
    store = open_store(store_url)
    try:
        with store.sessions.begin() as session:  # rows pulled by a version that read days in UTC
            cursors.advance(session, "hub", "deals", Cursor(modified_at=NOW))
        assert zones.prepare_pull(store, "hub", "Asia/Tokyo", now=NOW) is True
        zones.record_complete_pull(store, "hub", "Asia/Tokyo", now=NOW)
        assert zones.prepare_pull(store, "hub", "Asia/Tokyo", now=NOW) is False
    finally:
        store.close()
