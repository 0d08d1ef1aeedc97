"""Which key results are stale, and how `status`, the page and `/metrics` show them."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console

from syncer.config import load_settings
from syncer.config.models import Settings
from syncer.cycle import CycleOptions, CycleResult, run_cycle
from syncer.serve.telemetry import Telemetry
from syncer.staleness import NEVER_PULLED, PULL_FAILED, find_stale, reading_sources
from syncer.store import stream_status
from syncer.store.database import open_store
from syncer.store.stream_status import StreamState
from syncer.views.console import print_status
from syncer.views.status_data import collect_status
from syncer.views.status_html import render_document
from tests.fakes import FakeConnector, deal, owner

NOW = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)
EARLIER = datetime(2026, 11, 16, 14, 0, tzinfo=UTC)
SOURCE = """
  {name}:
    kind: hubspot
    auth: {{method: private_app, access_token: "${{HS_TOKEN}}"}}
    streams: {{deals: {{}}{calls}}}"""
CONFIG = """\
version: 1
store: {store}
sources:{sources}
objectives:
  - key: o
    period: {{start: 2026-10-01, end: 2026-12-31}}
    key_results:
      - {{key: all-deals, metric: {{kind: count, stream: deals}}, target: 1}}
      - {{key: a-deals, metric: {{kind: count, stream: deals, where: {{source: a}}}}, target: 1}}
      - {{key: not-a, metric: {{kind: count, stream: deals, where: {{source: {{not: a}}}}}}, target: 1}}
      - {{key: listed, metric: {{kind: count, stream: deals, where: {{source: [b, c]}}}}, target: 1}}
      - {{key: calls, metric: {{kind: count, stream: calls}}, target: 1}}
      - key: ratio-a
        metric: {{kind: ratio, stream: deals, numerator: {{source: a, is_won: true}}, denominator: {{source: a}}}}
        target: 0.5
"""


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    sources = "".join(
        SOURCE.format(name=name, calls=", calls: {}" if name == "b" else "") for name in ("a", "b", "c")
    )
    path = tmp_path / "okr.yaml"
    path.write_text(CONFIG.format(store=f"sqlite:///{tmp_path / 'okr.db'}", sources=sources))
    return load_settings(path, {"HS_TOKEN": "tok"})


def kr(settings: Settings, key: str):  # type: ignore[no-untyped-def]
    return next(k for k in settings.objectives[0].key_results if k.key == key)


@pytest.mark.parametrize(
    ("key", "sources"),
    [
        ("all-deals", ["a", "b", "c"]),
        ("a-deals", ["a"]),
        ("not-a", ["b", "c"]),
        ("listed", ["b", "c"]),
        ("calls", ["b"]),  # only b pulls calls
        ("ratio-a", ["a"]),
    ],
)
def test_a_key_result_reads_the_sources_pulling_its_stream_narrowed_by_source_filters(
    settings: Settings, key: str, sources: list[str]
) -> None:
    assert reading_sources(settings, kr(settings, key)) == sources


def state(source: str, stream: str, *, completed: bool, error: str | None = None) -> StreamState:
    return StreamState(source, stream, EARLIER if completed else None, NOW if error else None, error)


def test_stale_are_the_key_results_over_a_failed_or_never_completed_stream(settings: Settings) -> None:
    states = {
        ("a", "deals"): state("a", "deals", completed=True, error="a: token request failed (HTTP 401)"),
        ("b", "deals"): state("b", "deals", completed=True),
        ("b", "calls"): state("b", "calls", completed=True),
        # c has never completed a pull: no row at all
    }
    stale = find_stale(settings, states)
    assert {(s.key_result, s.source, s.reason) for s in stale} == {
        ("all-deals", "a", PULL_FAILED),
        ("all-deals", "c", NEVER_PULLED),
        ("a-deals", "a", PULL_FAILED),
        ("not-a", "c", NEVER_PULLED),
        ("listed", "c", NEVER_PULLED),
        ("ratio-a", "a", PULL_FAILED),
    }
    failed = next(s for s in stale if s.key_result == "a-deals")
    assert (
        failed.explanation
        == "a deals pull failed: a: token request failed (HTTP 401) (last good pull 2026-11-16 14:00 UTC)"
    )


def test_a_completed_pull_clears_the_failure(settings: Settings) -> None:
    store = open_store(settings.store)
    try:
        with store.sessions.begin() as session:
            stream_status.mark_failed(session, "b", "calls", "b: 503", now=EARLIER)
        with store.sessions() as session:
            assert stream_status.load_states(session)[("b", "calls")].is_trusted is False
        with store.sessions.begin() as session:
            stream_status.mark_completed(session, "b", "calls", now=NOW)
        with store.sessions() as session:
            assert stream_status.load_states(session)[("b", "calls")] == StreamState(
                "b", "calls", NOW, None, None
            )
    finally:
        store.close()


def test_status_page_and_console_show_stale_key_results_with_source_and_reason(settings: Settings) -> None:
    store = open_store(settings.store)
    try:
        with store.sessions.begin() as session:
            stream_status.mark_failed(session, "a", "deals", "a: <refused> credentials (HTTP 401)", now=NOW)
            for source, stream in (("b", "deals"), ("b", "calls"), ("c", "deals")):
                stream_status.mark_completed(session, source, stream, now=NOW)
        with store.sessions() as session:
            status = collect_status(session, settings, now=NOW)
    finally:
        store.close()
    assert {s.key for s in status.stale} == {"o.all-deals", "o.a-deals", "o.ratio-a"}
    html = render_document(status, title="t")
    section = html[html.index('<section id="stale">') :]
    assert "o.a-deals" in section
    assert "pull failed" in section
    assert "a: &lt;refused&gt; credentials (HTTP 401)" in section  # escaped
    assert "o.calls" not in section
    out = io.StringIO()
    print_status(Console(file=out, width=200), status)
    text = out.getvalue()
    stale_table = text[text.index("Stale key results") :]
    assert "o.ratio-a" in stale_table
    assert "a: <refused> credentials (HTTP 401)" in stale_table
    assert "never" in stale_table  # no good pull yet


def test_metrics_publish_stale_key_results_and_drop_them_once_fresh(settings: Settings) -> None:
    states = {("a", "deals"): state("a", "deals", completed=False, error="a: 401")}
    telemetry = Telemetry(["a"], started_at=NOW)
    report = CycleResult(run_id=1, started_at=NOW, stale=find_stale(settings, states))
    telemetry.record_cycle("a", report, finished_at=NOW)
    exposed = telemetry.exposition().decode()
    assert (
        'okrsync_key_result_stale{key_result="a-deals",objective="o",reason="pull_failed",source="a"} 1.0'
        in exposed
    )
    assert 'key_result="all-deals",objective="o",reason="never_pulled",source="c"} 1.0' in exposed
    telemetry.record_stale([])
    assert "okrsync_key_result_stale{" not in telemetry.exposition().decode()


def test_a_cycle_of_one_source_fails_only_on_its_own_stale_streams(settings: Settings) -> None:
    b = FakeConnector(
        source="b",
        records={"deals": [deal("d1", source="b")], "calls": []},
        owners=[owner("u1", "a@x.io")],
    )
    store = open_store(settings.store)
    try:
        only_b = run_cycle(
            settings, store, lambda name: b, clock=lambda: NOW, options=CycleOptions(sources=["b"])
        )  # type: ignore[arg-type, return-value]
        rollup = run_cycle(
            settings, store, lambda name: b, clock=lambda: NOW, options=CycleOptions(phases=["rollup"])
        )  # type: ignore[arg-type, return-value]
    finally:
        store.close()
    # a and c never pulled: every key result reading them is stale, whichever cycle looks
    assert {v.key_result for v in only_b.values} == {"calls"}
    assert {s.source for s in only_b.stale} == {"a", "c"}
    assert (only_b.exit_code, only_b.status) == (0, "ok")  # b's own streams are all good
    assert (rollup.exit_code, rollup.status) == (1, "failed")  # a cycle of every source: a and c fail it
    assert {v.key_result for v in rollup.values} == {"calls"}
