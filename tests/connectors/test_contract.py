"""The connector contract: the same tests over every CRM's connector against its sandbox.

Each test takes `crm` (an adapter from contract_fixtures: sandbox, connector, and the changes a
CRM sees) and checks what the engine relies on: pages under the engine's cursor rules
(`syncer.pull.pull_window`), write results per record, waits, re-authentication, call counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from syncer.contract import Connector, Cursor, Page
from syncer.errors import AuthExpiredError
from syncer.pull import pull_window
from tests.connectors.contract_fixtures import ADAPTERS, LATER, NOW, STREAM, CrmAdapter, Waits

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", params=sorted(ADAPTERS))
def sandbox(request: pytest.FixtureRequest) -> Iterator[CrmAdapter]:
    """One sandbox per CRM for the module (starting one takes a while); tests must leave it usable."""
    yield from ADAPTERS[request.param]()


@pytest.fixture
def crm(sandbox: CrmAdapter) -> Iterator[CrmAdapter]:
    sandbox.reset()
    yield sandbox
    sandbox.reset()


@pytest.fixture
def waits() -> Waits:
    return Waits()


@pytest.fixture
def connector(crm: CrmAdapter, waits: Waits) -> Iterator[Connector]:
    opened = crm.open(waits)
    yield opened
    opened.close()


def ids(pages: list[Page]) -> list[str]:
    return [record.id for page in pages for record in page.records]


def until_now(crm: CrmAdapter) -> datetime:
    """A pull's upper bound past every change made so far (earlier tests change records too)."""
    return crm.now() + timedelta(seconds=1)


def end_cursor(crm: CrmAdapter, connector: Connector) -> tuple[Cursor, list[str]]:
    """Where a full pull up to now leaves the stream, and the live records no test changed yet;
    the sandbox's clock then moves a minute on."""
    until = until_now(crm)
    pages = list(pull_window(connector, STREAM, since=None, until=until))
    untouched = sorted(r.id for p in pages for r in p.records if not r.deleted and r.modified_at < NOW)
    crm.advance(timedelta(minutes=1))
    assert pages[-1].cursor is not None
    return pages[-1].cursor, untouched


def test_full_pull_reads_every_record_once_and_ends_at_until(crm: CrmAdapter, connector: Connector) -> None:
    until = until_now(crm)
    pages = list(pull_window(connector, STREAM, since=None, until=until))

    pulled = ids(pages)
    assert Counter(pulled).most_common(1)[0][1] == 1
    assert set(pulled) == crm.stream_ids(until)
    assert pages[-1].cursor == Cursor(until)


def test_resume_from_a_cursor_reads_only_what_changed_after_it(crm: CrmAdapter, connector: Connector) -> None:
    since, untouched = end_cursor(crm, connector)
    changed = untouched[:3]
    for record_id in changed:
        crm.modify(record_id)

    pages = list(pull_window(connector, STREAM, since=since, until=LATER))

    assert sorted(ids(pages)) == changed
    assert pages[-1].cursor == Cursor(LATER)
    assert list(pull_window(connector, STREAM, since=pages[-1].cursor, until=LATER)) == []


def test_records_sharing_one_instant_across_a_page_boundary_arrive_once(
    crm: CrmAdapter, connector: Connector
) -> None:
    since, _ = end_cursor(crm, connector)
    touched = crm.touch_at_one_instant(crm.page_size + 50)

    pages = list(pull_window(connector, STREAM, since=since, until=LATER))
    with_rows = [page for page in pages if page.records]
    assert len(with_rows) >= 2, "the instant should straddle a page boundary"
    assert sorted(ids(pages)) == sorted(touched)

    # Resuming from the cursor inside the instant misses none of it; what it reads again (a CRM
    # that cannot order ties by id) is of that instant only, and upserts make it harmless.
    middle = with_rows[0].cursor
    assert middle is not None
    rest = [r for page in pull_window(connector, STREAM, since=middle, until=LATER) for r in page.records]
    assert {r.id for r in rest} | set(ids(with_rows[:1])) == set(touched)
    assert {r.id for r in rest} >= set(touched) - set(ids(with_rows[:1]))
    assert all(r.modified_at == middle.modified_at for r in rest if r.id in ids(with_rows[:1]))


def test_deleted_records_arrive_as_deletes(crm: CrmAdapter, connector: Connector) -> None:
    since, untouched = end_cursor(crm, connector)
    gone = untouched[-2:]
    for record_id in gone:
        crm.delete(record_id)

    records = [r for page in pull_window(connector, STREAM, since=since, until=LATER) for r in page.records]

    assert {r.id: r.deleted for r in records} == dict.fromkeys(gone, True)


def test_a_bad_record_is_rejected_and_the_page_goes_on(crm: CrmAdapter, connector: Connector) -> None:
    since, untouched = end_cursor(crm, connector)
    bad, *good = untouched[5:8]
    for record_id in good:
        crm.modify(record_id)
    crm.modify(bad)
    crm.corrupt(bad)

    pages = list(pull_window(connector, STREAM, since=since, until=LATER))

    assert sorted(ids(pages)) == sorted(good)
    rejected = [e for page in pages for e in page.rejected]
    assert [e.record_id for e in rejected] == [bad]
    assert "duration" in rejected[0].reason
    assert pages[-1].cursor == Cursor(LATER)  # the bad record does not hold the cursor back
    crm.modify(bad)  # repaired: the record maps again for the tests that follow


def test_owners_are_every_user_active_or_not(crm: CrmAdapter, connector: Connector) -> None:
    owners = [owner for page in connector.pull_owners() for owner in page.owners]

    assert Counter(o.id for o in owners).most_common(1)[0][1] == 1
    assert {o.id for o in owners} == crm.owner_ids()
    assert {o.active for o in owners} == {True, False}


def test_partial_write_failure_gives_a_result_per_record(crm: CrmAdapter, connector: Connector) -> None:
    items = crm.write_items(4)
    crm.reject_writes(items[1:2], retryable=False, times=None)

    results = connector.write(items)

    assert [r.ok for r in results] == [True, False, True, True]
    assert (results[1].retryable, results[1].error_code is not None) == (False, True)
    for item, result in zip(items, results, strict=True):
        [value] = item.fields.values()
        assert (crm.stored_value(item) == value) is result.ok


def test_retryable_write_failure_is_sent_again_in_the_same_run(
    crm: CrmAdapter, connector: Connector, waits: Waits
) -> None:
    items = crm.write_items(6)[4:]  # records the other write tests leave alone
    crm.reject_writes(items[:1], retryable=True, times=1)

    results = connector.write(items)

    assert [r.ok for r in results] == [True, True]
    assert waits.waits[-1:] == [1.0]  # the first in-run wait, then the lock had cleared
    assert [crm.stored_value(item) for item in items] == [v for i in items for v in i.fields.values()]


def test_429_waits_as_told_then_succeeds(crm: CrmAdapter, connector: Connector, waits: Waits) -> None:
    crm.fail_next_with_429(retry_after=7)

    until = until_now(crm)
    pages = list(pull_window(connector, STREAM, since=None, until=until))

    assert set(ids(pages)) == crm.stream_ids(until)
    assert 7.0 in waits.waits
    assert connector.usage().retries == 1


def test_an_expired_token_is_renewed_once_then_the_pull_succeeds(
    crm: CrmAdapter, connector: Connector
) -> None:
    connector.identity()  # a token is fetched and used
    crm.expire_tokens()

    until = until_now(crm)
    pages = list(pull_window(connector, STREAM, since=None, until=until))

    assert set(ids(pages)) == crm.stream_ids(until)
    assert connector.usage().retries == 1


def test_a_second_401_fails_the_source_with_a_clear_message(crm: CrmAdapter, waits: Waits) -> None:
    connector = crm.open(waits, static_token=True)
    connector.identity()
    crm.expire_tokens()  # the static token is dead: renewing cannot help

    with pytest.raises(AuthExpiredError, match=r"failed: .*token.*auth\.access_token") as raised:
        list(pull_window(connector, STREAM, since=None, until=NOW))

    assert connector.usage().retries == 1  # one renewal was tried
    assert "Bearer" not in str(raised.value)


def test_usage_counts_every_request_the_crm_served(crm: CrmAdapter, connector: Connector) -> None:
    list(connector.pull_owners())
    list(pull_window(connector, STREAM, since=None, until=NOW))
    connector.write(crm.write_items(2))

    assert connector.usage().calls == crm.requests()
