"""Bulk API 2.0 query jobs for pulls above `bulk_threshold` rows (docs/crm-apis.md §1.3, §2.1).

Creates a `queryAll` job, polls its state with a growing wait, then reads the CSV result sets one
`Sforce-Locator` at a time, each parsed row by row (typed from `describe`) into one Page. Every
HTTP call goes through `OrgClient.call` (counted, retried while transient, translated, replayed
once after a 401). Builds no SOQL and maps no record itself: the caller's `to_page` does.
"""

from __future__ import annotations

import codecs
import csv
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from simple_salesforce.api import Salesforce

from connectors.salesforce.client import REQUEST_TIMEOUT, OrgClient
from connectors.salesforce.mapping import FieldInfo, ObjectDescription
from syncer.contract import Page
from syncer.errors import RejectedRequestError, TransientCrmError

log = logging.getLogger(__name__)

JOB_PATH = "jobs/query"  # docs/crm-apis.md §1.3
# Rows per result set (`maxRecords`): simple-salesforce's default (§2.1). One set is one Page, so
# this bounds the records held at once; the call count is ⌈n/RESULT_SET_ROWS⌉ (§7.1).
RESULT_SET_ROWS = 50_000
FIRST_POLL_SECONDS = 0.5  # simple-salesforce also waits 0.5 s before the first status call (§2.1)
MAX_POLL_SECONDS = 10.0  # each status call costs an API call (§1.3 "Limits"): poll less as it runs
MAX_WAIT_SECONDS = 4 * 3600.0  # then the job is aborted and the stream fails for this cycle
NO_MORE_RESULTS = "null"  # Sforce-Locator of the last result set (§1.3)
CHUNK_BYTES = 64 * 1024
NUMBER_TYPES = frozenset({"int", "double", "currency", "percent"})

Row = dict[str, Any]
ToPage = Callable[[Iterator[Row]], Page]
Sleep = Callable[[float], None]


@dataclass(frozen=True, slots=True)
class ResultSet:
    """One result set of a job as a Page, and the locator of the next set (None after the last)."""

    page: Page
    locator: str | None


def iter_pages(
    client: OrgClient,
    soql: str,
    *,
    description: ObjectDescription,
    to_page: ToPage,
    sleep: Sleep,
) -> Iterator[Page]:
    """The pages of one `queryAll` job, one per result set, none with a cursor (the engine gives the
    last one the window's end).

    Raises RejectedRequestError when the job fails or is aborted, TransientCrmError when it is
    still running after MAX_WAIT_SECONDS (it is aborted first).
    """
    job_id = create_job(client, soql)
    wait_for_job(client, job_id, sleep=sleep)
    locator: str | None = None
    while True:
        result = client.call("bulk query results", _result_set(job_id, locator, description, to_page))
        # Bulk result sets come in no order (ORDER BY is refused in Bulk queries, §1.3): a row
        # of an earlier set says nothing about the rows still to come, so no page carries a cursor.
        yield replace(result.page, cursor=None, last=result.locator is None)
        if result.locator is None:
            return
        locator = result.locator


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
    """Poll `jobs/query/{id}` until JobComplete; waits 0.5 s, then twice as long each time (≤ 10 s)."""
    waited, delay = 0.0, FIRST_POLL_SECONDS
    while True:
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
        delay = min(delay * 2, MAX_POLL_SECONDS)


def _status(job_id: str) -> Callable[[Salesforce], object]:
    def run(sf: Salesforce) -> object:
        return sf.restful(f"{JOB_PATH}/{job_id}", timeout=REQUEST_TIMEOUT)

    return run


def _abort(job_id: str) -> Callable[[Salesforce], object]:
    def run(sf: Salesforce) -> object:
        body = json.dumps({"state": "Aborted"})
        return sf.restful(f"{JOB_PATH}/{job_id}", method="PATCH", data=body, timeout=REQUEST_TIMEOUT)

    return run


def _result_set(
    job_id: str, locator: str | None, description: ObjectDescription, to_page: ToPage
) -> Callable[[Salesforce], ResultSet]:
    params: dict[str, str | int] = {"maxRecords": RESULT_SET_ROWS}
    if locator is not None:
        params["locator"] = locator
    path = f"{JOB_PATH}/{job_id}/results"

    def run(sf: Salesforce) -> ResultSet:
        # restful() parses JSON and reads the body whole; a result set is CSV, streamed here. The
        # whole set is read inside this call, so a dropped connection retries the set, not a page.
        response = sf._call_salesforce(
            "GET", sf.base_url + path, name=path, params=params, headers={"Accept": "text/csv"},
            stream=True, timeout=REQUEST_TIMEOUT,
        )  # fmt: skip
        with response:
            page = to_page(iter_rows(iter_lines(response.iter_content(CHUNK_BYTES)), description))
            following = response.headers.get("Sforce-Locator")
        return ResultSet(page, None if following in (None, "", NO_MORE_RESULTS) else following)

    return run


def iter_lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """UTF-8 chunks as lines that keep their "\\n", so `csv` sees line breaks inside quoted values.

    NUL bytes are dropped, as simple-salesforce does (§2.1).
    """
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    pending = ""
    for chunk in chunks:
        pending += decoder.decode(chunk).replace("\x00", "")
        lines = pending.split("\n")
        pending = lines.pop()
        for line in lines:
            yield line + "\n"
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending


@dataclass(frozen=True, slots=True)
class _Column:
    parts: tuple[str, ...]  # "RecordType.DeveloperName" → ("RecordType", "DeveloperName")
    convert: Callable[[str], Any]


def iter_rows(lines: Iterable[str], description: ObjectDescription) -> Iterator[Row]:
    """CSV lines as rows shaped like REST query rows: nested relationships, typed values, "" → None."""
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        return
    columns = [_column(name, description) for name in header]
    for values in reader:
        row: Row = {}
        for column, text in zip(columns, values, strict=False):
            target = row
            for part in column.parts[:-1]:
                target = target.setdefault(part, {})
            # CSV has no null: an empty value is null, as in Salesforce's own exports (§1.3).
            target[column.parts[-1]] = None if text == "" else column.convert(text)
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
    return str


def _boolean(text: str) -> Any:
    return {"true": True, "false": False}.get(text.lower(), text)  # anything else: mapping rejects it


def _number(text: str) -> Any:
    try:
        return Decimal(text)  # REST JSON is parsed with parse_float=Decimal too (client.py)
    except InvalidOperation:
        return text  # mapping rejects the row with the field's name


def _datetime(text: str) -> str:
    # Bulk CSV writes `…000Z`, REST JSON `…000+0000` (§1.1): the same instant, spelled as REST does.
    return text[:-1] + "+0000" if text.endswith("Z") else text
