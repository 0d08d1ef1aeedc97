"""HubSpot cycles under faults: 429 storms and an expired OAuth token, a partly rejected batch upsert.

Sleep is injected, so no test waits for a Retry-After; values are checked against the independent
computation of test_hubspot_cycle.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.hubspot import HubSpotSandbox
from syncer.cli import main
from syncer.store import ledger
from syncer.store.database import open_store
from tests.integration.test_hubspot_cycle import (
    cycle,
    ensure_fields,
    expected_values,
    hub_settings,
    next_second,
    sandbox_env,
    three_deals_of_two_reps,
    upserted_keys,
    write_config,
    written_values,
)

pytestmark = pytest.mark.integration
# Eight owner-grouped key results: 8 × (12 active reps + the total) = 104 keyed records, so the
# first batch upsert carries the API's maximum of 100 inputs (docs/crm-apis.md §3.3).
MANY = "objectives:\n  - key: load\n    period: current_quarter\n    key_results:\n" + "".join(
    f"      - key: calls-{n}\n        metric: {{kind: count, stream: calls, date: occurred_at}}\n"
    f"        target: {100 * n}\n        group_by: owner\n"
    for n in range(1, 9)
)


@pytest.fixture
def hs() -> Iterator[HubSpotSandbox]:
    with HubSpotSandbox(key_results_schema=True) as sandbox:
        yield sandbox


def test_cycle_rides_out_429_storms_and_an_expired_token(
    hs: HubSpotSandbox, tmp_path: Path, store_url: str
) -> None:
    settings = hub_settings(hs, write_config(tmp_path / "hub.yaml", oauth=True), store_url)
    ensure_fields(settings)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 1:
            hs.expire_tokens()  # the token runs out while the worker waits: the next call gets 401

    hs.fail_next(4, status=429, policy="TEN_SECONDLY_ROLLING", path_contains="/crm/v3/")
    next_second()

    first = cycle(settings, sleep)

    assert first.exit_code == 0, first.errors
    assert hs.requests.count(status=429) == 4
    assert hs.requests.count(status=401) == 1
    assert first.retries == 5  # four 429s and one re-authentication
    assert 10.0 in waits  # the ten-secondly policy's wait, never slept for real
    assert written_values(hs) == expected_values(hs)

    for deal in three_deals_of_two_reps(hs):
        hs.update("deals", deal.id, {"amount": str(float(deal.properties["amount"]) + 500)})
    hs.requests.clear()
    hs.fail_next(3, status=429, policy="SECONDLY", path_contains="/search")
    next_second()

    second = cycle(settings, sleep)

    assert second.exit_code == 0, second.errors
    assert hs.requests.count(status=429) == 3
    assert second.retries == 3
    assert waits.count(1.0) >= 3  # the secondly policy's wait
    assert written_values(hs) == expected_values(hs)


def test_run_prints_the_number_of_retries(
    hs: HubSpotSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "hub.yaml")
    config.write_text(config.read_text().replace("sqlite:///unused.db", f"sqlite:///{tmp_path / 'o.db'}"))
    for name, value in sandbox_env(hs).items():
        monkeypatch.setenv(name, value)
    ensure_fields(hub_settings(hs, config, f"sqlite:///{tmp_path / 'o.db'}"))
    hs.fail_next(2, status=429, policy="TEN_SECONDLY_ROLLING", retry_after=0)  # 0: no real wait
    next_second()

    assert main(["run", "-c", str(config)]) == 0
    assert "(retries: 2)" in capsys.readouterr().out


def test_three_rejected_upserts_of_100_are_filed_and_written_next_cycle(
    hs: HubSpotSandbox, tmp_path: Path, store_url: str
) -> None:
    settings = hub_settings(hs, write_config(tmp_path / "hub.yaml", objectives=MANY), store_url)
    ensure_fields(settings)
    emails = sorted(o["email"] for o in hs.portal.owners if not o["archived"])
    rejected = {"load.calls-1", f"load.calls-2.{emails[0]}", f"load.calls-3.{emails[1]}"}
    hs.reject_upserts(dict.fromkeys(rejected, "Property values were not valid"), times=1)
    next_second()

    first = cycle(settings)

    assert first.exit_code == 3
    assert first.rejected_writes == 3
    first_batch = hs.requests.filter(kind="batch_upsert")[0]
    assert (len(first_batch.body["inputs"]), first_batch.status) == (100, 207)
    assert rejected <= {str(item["id"]) for item in first_batch.body["inputs"]}
    assert len(hs.records("p_key_results")) == 104 - 3
    assert not rejected & set(written_values(hs))
    store = open_store(settings.store)
    with store.sessions() as session:
        assert {f.target for f in ledger.failed_writes(session)} == {f"okr_key={k}" for k in rejected}
    store.close()
    hs.requests.clear()
    next_second()

    second = cycle(settings)

    assert second.exit_code == 0, second.errors
    assert sorted(upserted_keys(hs)) == sorted(rejected)
    assert len(hs.records("p_key_results")) == 104
    store = open_store(settings.store)
    with store.sessions() as session:
        assert ledger.failed_writes(session) == []
    store.close()
