"""A Bulk result set streams into pages of at most PAGE_ROWS rows (issue #14): the rows held at once
stay bounded whatever the set's size, and a body that breaks off is read again without handing a
row on twice."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from connectors.salesforce import bulk
from connectors.salesforce.mapping import ObjectDescription
from syncer.contract import Page
from syncer.errors import BadRecordError, TransientCrmError

HEADER = "Id,Name\n"


class Body:
    """A result set's streamed body: one CSV line per chunk; it breaks off after `cut` lines."""

    def __init__(self, ids: list[str], *, cut: int | None = None) -> None:
        self.lines = [HEADER, *(f"{i},name {i}\n" for i in ids)]
        self.cut = cut
        self.sent = 0  # lines handed to the reader so far

    def iter_content(self, size: int) -> Iterator[bytes]:
        for line in self.lines:
            if self.cut is not None and self.sent == self.cut:
                raise requests.exceptions.ChunkedEncodingError("connection broken: IncompleteRead")
            self.sent += 1
            yield line.encode()

    def __enter__(self) -> Body:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class Org:
    """Answers each `bulk query results` call with the next prepared body."""

    source = "sfdc"

    def __init__(self, answers: list[tuple[Body, str | None]]) -> None:
        self.answers = answers
        self.calls = 0

    def call(self, operation: str, request: Callable[[Any], Any]) -> Any:
        assert operation == "bulk query results"
        self.calls += 1
        body, locator = self.answers.pop(0)
        return bulk.ResultSet(body, locator)  # type: ignore[arg-type]


def ids_page(rows: Iterator[dict[str, Any]]) -> Page:
    """The rows' ids, kept as rejections: enough to see which rows reached which page."""
    return Page([], [BadRecordError("calls", row["Id"], "seen") for row in rows], None)


def job_pages(org: Org, monkeypatch: pytest.MonkeyPatch) -> Iterator[Page]:
    monkeypatch.setattr(bulk, "create_job", lambda client, soql: "750JOB")
    monkeypatch.setattr(bulk, "wait_for_job", lambda *args, **kwargs: None)
    description = ObjectDescription("Task", {})
    return bulk.iter_pages(
        org,  # type: ignore[arg-type]
        "SELECT Id, Name FROM Task",
        description=description,
        to_page=ids_page,
        sleep=lambda s: None,
    )


def seen(page: Page) -> list[str | None]:
    return [r.record_id for r in page.rejected]


def test_a_result_set_is_handed_on_in_bounded_pages_before_it_is_read_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bulk, "PAGE_ROWS", 2)
    ids = [f"r{i:02d}" for i in range(21)]
    first_set, last_set = Body(ids), Body(["f"])
    pages = job_pages(Org([(first_set, "MjAwMQ"), (last_set, None)]), monkeypatch)

    first = next(pages)

    assert seen(first) == ["r00", "r01"]
    # Read and mapped a few pages ahead at most (bulk._read_ahead), never the set whole first.
    assert first_set.sent < len(first_set.lines) // 2
    rest = list(pages)
    pairs = [ids[i : i + 2] for i in range(2, 21, 2)]
    assert [seen(p) for p in rest] == [*pairs, ["f"]]  # pages never span two sets
    assert [p.last for p in [first, *rest]] == [False] * 11 + [True]
    assert all(p.cursor is None for p in [first, *rest])


def test_a_body_that_breaks_off_is_read_again_and_skips_what_was_handed_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bulk, "PAGE_ROWS", 2)
    rows = ["a", "b", "c", "d", "e"]
    org = Org([(Body(rows, cut=4), None), (Body(rows), None)])  # header + a, b, c, then broken

    pages = list(job_pages(org, monkeypatch))

    assert [seen(p) for p in pages] == [["a", "b"], ["c", "d"], ["e"]]  # each row once
    assert org.calls == 2


def test_a_body_that_keeps_breaking_off_fails_the_stream_as_transient(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bulk, "PAGE_ROWS", 2)
    org = Org([(Body(["a", "b", "c"], cut=2), None) for _ in range(bulk.SET_READS)])

    with pytest.raises(TransientCrmError, match=f"broke off {bulk.SET_READS} times"):
        list(job_pages(org, monkeypatch))
    assert org.calls == bulk.SET_READS


def test_an_empty_job_gives_one_empty_last_page(monkeypatch: pytest.MonkeyPatch) -> None:
    pages = list(job_pages(Org([(Body([]), None)]), monkeypatch))

    assert [(seen(p), p.last) for p in pages] == [([], True)]


def test_pages_read_ahead_stay_bounded_and_a_failure_comes_after_the_pages_before_it() -> None:
    made: list[int] = []

    def pages(fail_after: int | None = None) -> Iterator[Page]:
        for n in range(100):
            if n == fail_after:
                raise TransientCrmError("the set broke off", source="sfdc")
            made.append(n)
            yield Page([], [BadRecordError("calls", str(n), "seen")], None)

    reading = bulk._read_ahead(pages())
    assert seen(next(reading)) == ["0"]
    reading.close()  # the caller stops: the thread stops at its next page
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and len(made) < 3:
        time.sleep(0.01)
    time.sleep(0.6)
    assert 1 < len(made) <= 3  # one page handed on, one queued, one waiting to be: never all 100

    failing = bulk._read_ahead(pages(fail_after=2))
    assert [seen(next(failing)), seen(next(failing))] == [["0"], ["1"]]
    with pytest.raises(TransientCrmError, match="broke off"):
        next(failing)
