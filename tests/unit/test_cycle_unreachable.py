"""A CRM whose host cannot be reached is one error of its source, and costs no write.

Two fake CRMs: `sfdc` fails with SourceUnreachableError (in its pull, or in its write-back), `hub`
works. The key result counts hub's deals and is written to both CRMs (`*.value`), so a cycle would
write to sfdc even with sfdc's own pull failed, were it not told the host is unreachable.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from syncer.config import load_settings
from syncer.config.models import Settings
from syncer.contract import Connector, Cursor, Page, WriteItem, WriteResult
from syncer.cycle import CycleResult, run_cycle
from syncer.errors import SourceUnreachableError
from syncer.records import StreamName
from syncer.store import ledger
from syncer.store.database import Store
from syncer.store.runs import RunInfo, recent
from tests.fakes import FAKE_TOKENS as ENV
from tests.fakes import T0, TWO_FAKE_SOURCES, FakeConnector, deal, owner

pytestmark = pytest.mark.store
CONFIG = (
    TWO_FAKE_SOURCES
    + """\
objectives:
  - key: q
    period: {{start: 2026-10-01, end: 2026-12-31}}
    key_results:
      - key: won
        metric: {{kind: count, stream: deals, where: {{is_won: true, source: hub}}, date: close_date}}
        target: 10
writeback:
  - source: sfdc
    object: OKR_Key_Result__c
    upsert_on: OKR_Key__c
    fields: {{Value__c: "*.value"}}
  - source: hub
    object: p_key_results
    upsert_on: okr_key
    fields: {{okr_value: "*.value"}}
"""
)
CLOCK_START = T0 + timedelta(days=1)
REFUSED = "sfdc: token request failed: cannot reach 127.0.0.1:9: connection refused (check instance_url and that the service is up)"


def refused() -> SourceUnreachableError:
    return SourceUnreachableError(
        REFUSED.removeprefix("sfdc: "), source="sfdc", address="127.0.0.1:9", cause="connection refused"
    )


class PullUnreachable(FakeConnector):
    def pull(self, stream: StreamName, *, since: Cursor | None, until: datetime) -> Iterator[Page]:
        raise refused()


class WriteUnreachable(FakeConnector):
    """Reachable for reads; its writes meet a host that cannot be reached while `down` is set."""

    down: bool = True

    def write(self, items: Sequence[WriteItem]) -> list[WriteResult]:
        if self.down:
            self.calls += 1
            raise refused()
        return super().write(items)


@pytest.fixture
def settings(tmp_path: Path, store_url: str) -> Settings:
    path = tmp_path / "okr.yaml"
    path.write_text(CONFIG.format(store=store_url))
    return load_settings(path, ENV)


def hub() -> FakeConnector:
    deals = [deal(f"h{i}", minutes=i, source="hub", owner_id="u1") for i in range(3)]
    return FakeConnector(
        source="hub", records={"deals": deals}, owners=[replace(owner("u1", "a@x.io"), source="hub")]
    )


def sfdc(kind: type[FakeConnector]) -> FakeConnector:
    return kind(source="sfdc", owners=[replace(owner("s1", "a@x.io"), source="sfdc")])


def cycle(settings: Settings, store: Store, crms: dict[str, FakeConnector]) -> CycleResult:
    def opened(name: str) -> Connector:
        return crms[name]  # type: ignore[return-value]

    return run_cycle(settings, store, opened, clock=lambda: CLOCK_START)


def last_run(store: Store) -> RunInfo:
    with store.sessions() as session:
        return recent(session, limit=1)[0]


def sfdc_ledger(store: Store) -> tuple[dict[tuple[str, str], str | None], list[ledger.FailedWrite]]:
    with store.sessions() as session:
        return ledger.confirmed(session, "sfdc", "OKR_Key_Result__c"), ledger.failed_writes(session)


def test_a_source_unreachable_in_pull_is_sent_no_write(settings: Settings, store: Store) -> None:
    crms = {"sfdc": sfdc(PullUnreachable), "hub": hub()}

    report = cycle(settings, store, crms)

    run = last_run(store)
    assert (report.exit_code, run.status) == (1, "failed")
    assert run.counts.error == REFUSED  # one error: no second one from a write-back attempt
    assert crms["sfdc"].writes == []
    assert [i.upsert_value for i in crms["hub"].writes[0]] == ["q.won"]  # the other CRM is written


def test_a_source_unreachable_in_write_back_is_one_error_and_its_writes_stay_pending(
    settings: Settings, store: Store
) -> None:
    crms = {"sfdc": sfdc(WriteUnreachable), "hub": hub()}

    first = cycle(settings, store, crms)

    run = last_run(store)
    assert (first.exit_code, run.status) == (1, "failed")
    assert run.counts.error == REFUSED
    assert (run.counts.write_errors, run.counts.details["write_errors"]) == (0, [])
    assert sfdc_ledger(store) == ({}, [])  # nothing confirmed, nothing filed as refused: pending

    crms["sfdc"].down = False  # type: ignore[attr-defined]
    second = cycle(settings, store, crms)

    assert (second.exit_code, last_run(store).status) == (0, "ok")
    assert [i.upsert_value for i in crms["sfdc"].writes[0]] == ["q.won"]
    confirmed, failed = sfdc_ledger(store)
    assert confirmed == {("OKR_Key__c=q.won", "Value__c"): "3.0"}
    assert failed == []
