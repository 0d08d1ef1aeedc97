"""Bulk API 2.0 query jobs for pulls above `bulk_threshold` rows (docs/crm-apis.md §1.3, §2.1).

Creates a `queryAll` job, polls its state with a growing wait, then reads the CSV result sets one
`Sforce-Locator` at a time, each streamed row by row (typed from `describe`) into pages of at most
`PAGE_ROWS` rows, each handed on (and stored) before the rest of its set is read. Every
HTTP call goes through `OrgClient.call` (counted, retried while transient, translated, replayed
once after a 401). Builds no SOQL and maps no record itself: the caller's `to_page` does.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import json
import logging
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from queue import Full, Queue
from typing import Any

import requests
from simple_salesforce.api import Salesforce

from connectors.salesforce.client import REQUEST_TIMEOUT, OrgClient
from connectors.salesforce.mapping import FieldInfo, ObjectDescription
from syncer.contract import Page
from syncer.errors import RejectedRequestError, TransientCrmError

log = logging.getLogger(__name__)

JOB_PATH = "jobs/query"  # docs/crm-apis.md §1.3
# Rows per result set (`maxRecords`): simple-salesforce's default (§2.1); the call count is
# ⌈n/RESULT_SET_ROWS⌉ (§7.1).
RESULT_SET_ROWS = 50_000
# Rows of a result set mapped and stored together: what bounds the records held at once, whatever
# the size of the set or of the job.
PAGE_ROWS = 10_000
# Reads of one result set, the first included, when its body keeps breaking off; each read again
# skips the rows already handed on.
SET_READS = 3
# Status calls come 0.5 s, 1 s, 2 s, 4 s … after the job was created (waits of 0.5 s, 0.5 s, 1 s,
# 2 s …, at most MAX_POLL_SECONDS): the first two as simple-salesforce's own (§2.1), so a small job
# is seen done as soon as the bare client sees it, then doubling, since each status call is an
# API call (§1.3 "Limits"). A job of N ≥ 1 seconds costs ⌈log2 N⌉ + 2 status calls while
# N ≤ 64 s, then one a minute, and its completion is seen at most N seconds late (§7.1).
POLL_WAITS = (0.5, 0.5)
MAX_POLL_SECONDS = 60.0
MAX_WAIT_SECONDS = 4 * 3600.0  # then the job is aborted and the stream fails for this cycle
NO_MORE_RESULTS = "null"  # Sforce-Locator of the last result set (§1.3)
CHUNK_BYTES = 64 * 1024
NUMBER_TYPES = frozenset({"int", "double", "currency", "percent"})

Row = dict[str, Any]
ToPage = Callable[[Iterator[Row]], Page]
Sleep = Callable[[float], None]


@dataclass(frozen=True, slots=True)
class ResultSet:
    """One result set of a job, its body not read yet, and the locator of the next set (None after
    the last)."""

    response: requests.Response
    locator: str | None


def iter_pages(
    client: OrgClient,
    soql: str,
    *,
    description: ObjectDescription,
    to_page: ToPage,
    sleep: Sleep,
) -> Iterator[Page]:
    """The pages of one `queryAll` job, up to PAGE_ROWS rows each, none with a cursor (the engine
    gives the last one the window's end).

    Raises RejectedRequestError when the job fails or is aborted, TransientCrmError when it is
    still running after MAX_WAIT_SECONDS (it is aborted first).
    """
    job_id = create_job(client, soql)
    wait_for_job(client, job_id, sleep=sleep)
    yield from _read_ahead(_marked_last(_job_pages(client, job_id, description, to_page), to_page))


def _marked_last(pages: Iterator[Page], to_page: ToPage) -> Iterator[Page]:
    # Each page is held until the next is read, so that the job's last page says so (`last`).
    held: Page | None = None
    for page in pages:
        if held is not None:
            yield held
        held = page
    # Bulk result sets come in no order (ORDER BY is refused in Bulk queries, §1.3): a row
    # of an earlier set says nothing about the rows still to come, so no page carries a cursor.
    yield replace(held if held is not None else to_page(iter(())), cursor=None, last=True)


def _read_ahead(pages: Iterator[Page]) -> Iterator[Page]:
    """`pages`, each read and mapped on a daemon thread while the caller stores the one before.

    Storing waits on the database (SQLite's executemany and PostgreSQL's round trip let other
    threads run), so the next page's CSV is parsed and mapped meanwhile (issue #14). At most one
    page waits in the queue; a failure is raised where its page is asked for. A caller that stops
    early stops the thread at its next page.
    """
    handed: Queue[tuple[Page | None, BaseException | None]] = Queue(maxsize=1)
    stopped = threading.Event()

    def hand(item: tuple[Page | None, BaseException | None]) -> bool:
        while not stopped.is_set():
            try:
                handed.put(item, timeout=0.5)
                return True
            except Full:
                continue
        return False

    def produce() -> None:
        try:
            for page in pages:
                if not hand((page, None)):
                    return
            hand((None, None))
        except BaseException as exc:  # handed to the reader, who raises it where it asks for the page
            hand((None, exc))

    threading.Thread(target=produce, name="okrsync-bulk-pages", daemon=True).start()
    try:
        while True:
            page, error = handed.get()
            if error is not None:
                raise error
            if page is None:
                return
            yield page
    finally:
        stopped.set()


def _job_pages(
    client: OrgClient, job_id: str, description: ObjectDescription, to_page: ToPage
) -> Iterator[Page]:
    """The first set streamed as it arrives; each later one read one set ahead (`_SetAhead`).

    While a set's rows are mapped and stored, the org already prepares and sends the next:
    the pull then takes about as long as the reading alone (issue #14). At most one set is held
    ahead, as bytes, so what is held stays bounded by `RESULT_SET_ROWS` whatever the job's size.
    """
    ahead: _SetAhead | None = None

    def read_ahead(locator: str | None) -> None:
        nonlocal ahead
        ahead = None if locator is None else _SetAhead(client, job_id, locator)

    locator = yield from _set_pages(client, job_id, None, description, to_page, opened=read_ahead)
    while ahead is not None:
        body, locator = ahead.result()
        read_ahead(locator)
        rows = iter_rows(iter_lines([body]), description)
        while chunk := list(itertools.islice(rows, PAGE_ROWS)):
            yield replace(to_page(iter(chunk)), cursor=None, last=False)


class _SetAhead:
    """One result set read whole on a daemon thread; `result()` waits for (body, next locator).

    A body that breaks off is read again there (nothing of it was handed on yet); a failure is
    raised where the set is asked for. A caller that stops early leaves the thread behind: it is a
    daemon, so not even its retry waits hold the process up.
    """

    def __init__(self, client: OrgClient, job_id: str, locator: str) -> None:
        self._client, self._job_id, self._locator = client, job_id, locator
        self._done = threading.Event()
        self._body: tuple[bytes, str | None] | None = None
        self._error: BaseException | None = None
        threading.Thread(target=self._run, name="okrsync-bulk-results", daemon=True).start()

    def _run(self) -> None:
        try:
            self._body = self._read()
        except BaseException as exc:  # handed to the reader, who raises it where it asks for the set
            self._error = exc
        finally:
            self._done.set()

    def _read(self) -> tuple[bytes, str | None]:
        client = self._client
        for read in range(1, SET_READS + 1):
            result = client.call("bulk query results", _result_set(self._job_id, self._locator))
            with result.response:
                try:
                    return b"".join(result.response.iter_content(CHUNK_BYTES)), result.locator
                except requests.exceptions.RequestException as exc:
                    _broke_off(client, self._job_id, 0, read, exc)
        raise AssertionError("unreachable: the last read returns or raises")

    def result(self) -> tuple[bytes, str | None]:
        self._done.wait()
        if self._error is not None:
            raise self._error
        assert self._body is not None
        return self._body


def _set_pages(
    client: OrgClient,
    job_id: str,
    locator: str | None,
    description: ObjectDescription,
    to_page: ToPage,
    *,
    opened: Callable[[str | None], None],
) -> Generator[Page, None, str | None]:
    """One result set's pages as its CSV streams in; returns the next set's locator, which
    `opened` is told as soon as the set's response is opened.

    A body that breaks off is asked for again (the same locator gives the same rows) and the rows
    already handed on are skipped: a page is never handed on twice.
    """
    handed_on = 0
    for read in range(1, SET_READS + 1):
        result = client.call("bulk query results", _result_set(job_id, locator))
        if read == 1:
            opened(result.locator)
        with result.response:
            rows = iter_rows(iter_lines(result.response.iter_content(CHUNK_BYTES)), description)
            for _ in itertools.islice(rows, handed_on):  # read again: skip what was handed on
                pass
            while True:
                try:
                    chunk = list(itertools.islice(rows, PAGE_ROWS))
                except requests.exceptions.RequestException as exc:
                    _broke_off(client, job_id, handed_on, read, exc)
                    break
                if not chunk:
                    return result.locator
                handed_on += len(chunk)
                yield replace(to_page(iter(chunk)), cursor=None, last=False)
    raise AssertionError("unreachable: the last read returns or raises")


def _broke_off(client: OrgClient, job_id: str, rows: int, read: int, exc: Exception) -> None:
    """Log a body that broke off after `rows` rows; on the last read, fail the stream as transient."""
    log.warning(
        "bulk result set broke off",
        extra={"source": client.source, "job": job_id, "rows": rows, "error": str(exc)},
    )
    if read == SET_READS:
        raise TransientCrmError(
            f"bulk query results failed: the result set broke off {read} times "
            f"({type(exc).__name__}); next cycle tries again",
            source=client.source,
        ) from exc


def create_job(client: OrgClient, soql: str) -> str:
    """The id of a new `queryAll` job (deleted and archived rows included, §1.1 "queryAll")."""
    body = {"operation": "queryAll", "query": soql, "contentType": "CSV", "columnDelimiter": "COMMA",
            "lineEnding": "LF"}  # fmt: skip

    def run(sf: Salesforce) -> object:
        # A retried create after a lost response can leave an orphan job; Salesforce deletes
        # finished jobs after 7 days (§1.3 "Limits"), so it costs one of 10,000 daily jobs.
        return sf.restful(JOB_PATH, method="POST", data=json.dumps(body), timeout=REQUEST_TIMEOUT)

    job = client.call("create bulk query job", run)
    job_id = job.get("id") if isinstance(job, dict) else None
    if not isinstance(job_id, str) or not job_id:
        raise TransientCrmError(
            "create bulk query job failed: the response has no job id", source=client.source
        )
    log.info("bulk query job created", extra={"source": client.source, "job": job_id})
    return job_id


def wait_for_job(
    client: OrgClient, job_id: str, *, sleep: Sleep, max_wait_seconds: float = MAX_WAIT_SECONDS
) -> None:
    """Poll `jobs/query/{id}` until JobComplete, 0.5 s, 1 s, 2 s, 4 s … after the create (≤ 60 s apart)."""
    waited, waits = 0.0, iter(POLL_WAITS)
    while True:
        delay = next(waits, None) or min(waited, MAX_POLL_SECONDS)
        sleep(delay)
        waited += delay
        job = client.call("bulk query job status", _status(job_id))
        state = job.get("state") if isinstance(job, dict) else None
        if state == "JobComplete":
            return
        if state in ("Failed", "Aborted"):
            reason = job.get("errorMessage") if isinstance(job, dict) else None
            raise RejectedRequestError(
                f"bulk query job {job_id} {str(state).lower()}: {reason or 'no reason given'}",
                source=client.source,
                code=f"JOB_{str(state).upper()}",
            )
        if waited >= max_wait_seconds:
            client.call("abort bulk query job", _abort(job_id))
            raise TransientCrmError(
                f"bulk query job {job_id} still {state} after {waited:.0f} s; aborted, next cycle tries again",
                source=client.source,
            )


def _status(job_id: str) -> Callable[[Salesforce], object]:
    def run(sf: Salesforce) -> object:
        return sf.restful(f"{JOB_PATH}/{job_id}", timeout=REQUEST_TIMEOUT)

    return run


def _abort(job_id: str) -> Callable[[Salesforce], object]:
    def run(sf: Salesforce) -> object:
        body = json.dumps({"state": "Aborted"})
        return sf.restful(f"{JOB_PATH}/{job_id}", method="PATCH", data=body, timeout=REQUEST_TIMEOUT)

    return run


def _result_set(job_id: str, locator: str | None) -> Callable[[Salesforce], ResultSet]:
    params: dict[str, str | int] = {"maxRecords": RESULT_SET_ROWS}
    if locator is not None:
        params["locator"] = locator
    path = f"{JOB_PATH}/{job_id}/results"

    def run(sf: Salesforce) -> ResultSet:
        # restful() parses JSON and reads the body whole; a result set is CSV, streamed by the
        # caller as it is stored. This call opens it: a refusal or a 5xx is retried here.
        response = sf._call_salesforce(
            "GET", sf.base_url + path, name=path, params=params, headers={"Accept": "text/csv"},
            stream=True, timeout=REQUEST_TIMEOUT,
        )  # fmt: skip
        following = response.headers.get("Sforce-Locator")
        return ResultSet(response, None if following in (None, "", NO_MORE_RESULTS) else following)

    return run


def iter_lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """UTF-8 chunks as lines that keep their "\\n", so `csv` sees line breaks inside quoted values.

    NUL bytes are dropped, as simple-salesforce does (§2.1). The lines of a chunk are handed on
    as one list (`chain` iterates it without a Python step per line).
    """
    return itertools.chain.from_iterable(_line_lists(chunks))


def _line_lists(chunks: Iterable[bytes]) -> Iterator[list[str]]:
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    pending = ""
    for chunk in chunks:
        pending += decoder.decode(chunk).replace("\x00", "")
        lines = pending.split("\n")
        pending = lines.pop()
        yield [line + "\n" for line in lines]
    pending += decoder.decode(b"", final=True)
    if pending:
        yield [pending]


@dataclass(frozen=True, slots=True)
class _Column:
    parts: tuple[str, ...]  # "RecordType.DeveloperName" → ("RecordType", "DeveloperName")
    convert: Callable[[str], Any]


def iter_rows(lines: Iterable[str], description: ObjectDescription) -> Iterator[Row]:
    """CSV lines as rows shaped like REST query rows: nested relationships, typed values, "" → None.

    Each row is first a dict of its text (one comprehension), then only its typed columns are
    converted, each kind by its own loop: a Python call per value is most of the cost (issue #14).
    """
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        return
    columns = [_column(name, description) for name in header]
    flat = [i for i, c in enumerate(columns) if len(c.parts) == 1]
    names = [columns[i].parts[0] for i in flat]
    pick = itemgetter(*flat) if len(flat) > 1 else (lambda values: tuple(values[i] for i in flat))
    booleans = [columns[i].parts[0] for i in flat if columns[i].convert is _boolean]
    datetimes = [columns[i].parts[0] for i in flat if columns[i].convert is _datetime]
    others = [(columns[i].parts[0], columns[i].convert) for i in flat if columns[i].convert not in _INLINE]
    nested = [(i, c) for i, c in enumerate(columns) if len(c.parts) > 1]
    width = len(columns)
    for values in reader:
        if len(values) < width:  # a short line: the missing trailing values are absent, as before
            values = values + [None] * (width - len(values))  # type: ignore[list-item]
        # CSV has no null: an empty value is null, as in Salesforce's own exports (§1.3).
        row: Row = {name: text or None for name, text in zip(names, pick(values), strict=True)}
        for name in booleans:
            text = row[name]
            if text is not None:
                row[name] = _BOOLEANS[text] if text in _BOOLEANS else _boolean(text)
        for name in datetimes:
            text = row[name]
            if text is not None and text[-1] == "Z":
                row[name] = text[:-1] + "+0000"  # as `_datetime` spells it
        for name, convert in others:
            text = row[name]
            if text is not None:
                row[name] = convert(text)
        for i, column in nested:
            text = values[i]
            target = row
            for part in column.parts[:-1]:
                target = target.setdefault(part, {})
            target[column.parts[-1]] = None if text is None or text == "" else column.convert(text)
        yield row


def _column(name: str, description: ObjectDescription) -> _Column:
    parts = tuple(name.split("."))
    # A parent's fields are not described (mapping.ObjectDescription.resolve): they stay text.
    info = description.field(name) if len(parts) == 1 else None
    return _Column(parts, _converter(info))


def _converter(info: FieldInfo | None) -> Callable[[str], Any]:
    """Text → the value REST JSON would carry: booleans, Decimal numbers, `+0000` datetimes."""
    kind = info.type if info else "string"
    if kind == "boolean":
        return _boolean
    if kind in NUMBER_TYPES:
        return _number
    if kind == "datetime":
        return _datetime
    return _text


def _text(text: str) -> str:
    return text


_BOOLEANS = {"true": True, "false": False}


def _boolean(text: str) -> Any:
    found = _BOOLEANS.get(text)  # Salesforce writes `true` / `false`
    return found if found is not None else _BOOLEANS.get(text.lower(), text)  # else: mapping rejects it


def _number(text: str) -> Any:
    try:
        return Decimal(text)  # REST JSON is parsed with parse_float=Decimal too (client.py)
    except InvalidOperation:
        return text  # mapping rejects the row with the field's name


def _datetime(text: str) -> str:
    # Bulk CSV writes `…000Z`, REST JSON `…000+0000` (§1.1): the same instant, spelled as REST does.
    return text[:-1] + "+0000" if text.endswith("Z") else text


# Converted inside `iter_rows`' loop, without a call (text stays as it is).
_INLINE: frozenset[Callable[[str], Any]] = frozenset({_text, _boolean, _datetime})
