"""Portal answers kept between runs (connectors/hubspot/kept.py): deal pipelines and the account
details, read only when due, wrong, or asked with another credential."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.hubspot.kept import KeptAnswer
from connectors.hubspot.mapping import DEFAULT_FIELDS, StreamPlan
from connectors.hubspot.pipelines import KEY, StageMetadata, unknown_stages
from syncer.contract import CachedMetadata

T0 = datetime(2026, 11, 15, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)


class MemoryCache:
    def __init__(self) -> None:
        self.entries: dict[str, CachedMetadata] = {}

    def get(self, key: str) -> CachedMetadata | None:
        return self.entries.get(key)

    def put(self, key: str, entry: CachedMetadata) -> None:
        self.entries[key] = entry

    def confirm(self, key: str, as_of: datetime) -> None:
        raise AssertionError("pipelines are never confirmed, only read again")

    def forget(self, key: str) -> None:
        self.entries.pop(key, None)


class Portal:
    """The pipelines API: counts its calls; `stages` are (id, isClosed, probability)."""

    def __init__(self) -> None:
        self.calls = 0
        self.stages = [("open", "false", "0.5"), ("won", "true", "1.0")]

    def fetch(self) -> Any:
        self.calls += 1
        stages = [{"id": i, "metadata": {"isClosed": c, "probability": p}} for i, c, p in self.stages]
        return {"results": [{"id": "default", "label": "Sales", "stages": stages}]}


def run(portal: Portal, cache: MemoryCache) -> StageMetadata:
    return StageMetadata(portal.fetch, cache, every=HOUR)


def test_a_kept_copy_serves_later_runs_until_the_interval_has_passed() -> None:
    portal, cache = Portal(), MemoryCache()
    first = run(portal, cache)
    assert ("default", "won") in first.for_pull(T0, full=True).stages
    assert portal.calls == 1
    assert cache.entries[KEY].as_of == T0

    assert run(portal, cache).for_pull(T0 + 59 * timedelta(minutes=1), full=False).stages
    assert portal.calls == 1

    due = run(portal, cache)
    due.for_pull(T0 + HOUR, full=False)
    due.for_pull(T0 + HOUR, full=False)  # a second group of the same run: still one read
    assert portal.calls == 2
    assert cache.entries[KEY].as_of == T0 + HOUR


def test_a_full_pull_reads_them_even_with_a_fresh_copy() -> None:
    portal, cache = Portal(), MemoryCache()
    run(portal, cache).for_pull(T0, full=True)
    run(portal, cache).for_pull(T0 + timedelta(minutes=1), full=True)
    assert portal.calls == 2


def test_refresh_picks_up_a_stage_added_since_and_is_asked_once_a_run() -> None:
    portal, cache = Portal(), MemoryCache()
    run(portal, cache).for_pull(T0, full=True)
    portal.stages.append(("renewed-early", "true", "1.0"))
    later = run(portal, cache)
    plan = StreamPlan("deals", "deals", DEFAULT_FIELDS["deals"], {}, frozenset(), frozenset())
    row = {"id": "1", "properties": {"pipeline": "default", "dealstage": "renewed-early"}}
    kept = later.for_pull(T0 + timedelta(minutes=5), full=False)
    assert unknown_stages([row], [plan], kept)
    assert not unknown_stages([{**row, "archived": True}], [plan], kept)  # a delete: no stage needed

    fresh = later.refresh()
    later.refresh()
    later.keep(T0 + timedelta(minutes=5))
    assert portal.calls == 2
    assert later.fresh
    assert fresh.stages[("default", "renewed-early")].is_won
    assert not unknown_stages([row], [plan], run(portal, cache).current())  # the kept copy has it now
    assert portal.calls == 2


def test_without_a_cache_the_portal_is_read_once_per_connector() -> None:
    portal = Portal()
    stages = StageMetadata(portal.fetch, None, every=HOUR)
    stages.current()
    stages.for_pull(T0, full=True)
    stages.for_pull(T0 + 2 * HOUR, full=False)
    assert portal.calls == 1


def test_an_unreadable_kept_copy_is_read_again() -> None:
    portal, cache = Portal(), MemoryCache()
    cache.put(KEY, CachedMetadata(body="{not json", as_of=T0))
    assert ("default", "won") in run(portal, cache).for_pull(T0 + timedelta(minutes=1), full=False).stages
    assert portal.calls == 1


def test_a_pinned_copy_is_used_only_with_the_credential_it_was_read_with() -> None:
    portal, cache = Portal(), MemoryCache()

    def kept(pin: str) -> KeptAnswer[Any]:
        return KeptAnswer(portal.fetch, cache, key="details", parse=lambda raw: raw, every=HOUR, pin=pin)

    kept("pin-a").for_pull(T0, full=False)
    assert portal.calls == 1
    assert "pin-a" in cache.entries["details"].body

    assert kept("pin-a").current()["results"][0]["id"] == "default"  # the kept answer
    assert portal.calls == 1
    kept("pin-b").current()  # read with another credential: asked again
    assert portal.calls == 2

    cache.entries["details"] = CachedMetadata(body='{"pin": "pin-a", "answ', as_of=T0)  # cut short
    kept("pin-a").current()
    assert portal.calls == 3
