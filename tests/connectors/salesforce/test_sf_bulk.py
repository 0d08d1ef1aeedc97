"""Bulk API 2.0 pulls (issue #4): when a window is large, the job's calls, CSV rows, cursors, failures.

The first part mocks the org with `responses`; the second pulls from the sandbox through Bulk and
through REST and compares the canonical records.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import responses

from connectors import open_connector
from connectors.salesforce import SalesforceConnector, bulk, mapping
from connectors.salesforce.client import OrgClient
from sandbox.salesforce import SalesforceSandbox
from sandbox.sample_org import SampleScale
from syncer.config.models import SalesforceSource
from syncer.contract import Cursor, Page
from syncer.errors import RejectedRequestError, TransientCrmError
from syncer.pull import pull_window
from syncer.records import Call, Record, StreamName
from tests.connectors.salesforce.builders import (
    API,
    OPPORTUNITY_FIELDS,
    describe,
    sf_opportunity,
    sf_task,
    url_of,
)
from tests.connectors.salesforce.conftest import UNTIL, make_source, pulled, soql_of

JOBS = f"{API}/jobs/query"
JOB_ID = "750R0000000zxr8IAA"
JOB = f"{JOBS}/{JOB_ID}"
NEXT = "/services/data/v59.0/queryAll/01gXX-2000"
TASK_HEADER = (
    "Id,OwnerId,CallDurationInSeconds,CallDisposition,CallType,SystemModstamp,IsDeleted,CompletedDateTime"
)
THRESHOLD = 2_000  # the lowest bulk_threshold the config allows


def job(state: str, **extra: Any) -> dict[str, Any]:
    """A Bulk 2.0 job body (docs/crm-apis.md §1.3 "Job JSON")."""
    return {"id": JOB_ID, "operation": "queryAll", "object": "Task", "state": state, **extra}


def task_line(
    record_id: str, *, duration: str = "300", disposition: str = "Connected", deleted: str = "false"
) -> str:
    return f'"{record_id}","005A","{duration}","{disposition}","Outbound","2026-10-01T09:00:00.000Z","{deleted}","2026-09-01T08:30:00.000Z"'


def results(org: responses.RequestsMock, lines: list[str], *, locator: str) -> None:
    body = "\n".join([TASK_HEADER, *lines]) + "\n"
    headers = {"Sforce-Locator": locator, "Sforce-NumberOfRecords": str(len(lines))}
    org.get(f"{JOB}/results", body=body, headers=headers, content_type="text/csv")


def first_rest_page(org: responses.RequestsMock, total: int) -> None:
    """The REST query whose totalSize decides between REST and Bulk."""
    page = {"totalSize": total, "done": False, "nextRecordsUrl": NEXT, "records": [sf_task()]}
    org.get(f"{API}/queryAll/", json=page)


@pytest.fixture
def bulk_connector(waits: list[float]) -> Iterator[SalesforceConnector]:
    connector = SalesforceConnector("sfdc", make_source(bulk_threshold=THRESHOLD), sleep=waits.append)
    yield connector
    connector.close()


def test_window_above_threshold_is_read_by_one_job_result_set_by_result_set(
    org: responses.RequestsMock, bulk_connector: SalesforceConnector, waits: list[float]
) -> None:
    first_rest_page(org, THRESHOLD + 1)
    org.post(JOBS, json=job("UploadComplete"))
    org.get(JOB, json=job("InProgress"))
    org.get(JOB, json=job("JobComplete"))
    results(org, [task_line("00TA"), task_line("00TB", duration="", disposition="")], locator="MjAwMQ")
    results(org, [task_line("00TC", deleted="true")], locator="null")

    pages = pulled(bulk_connector, "calls")

    assert [[r.id for r in page.records] for page in pages] == [["00TA", "00TB"], ["00TC"]]
    # result sets come in no order: only the end of the job moves the cursor, to `until`
    assert [page.cursor for page in pages] == [None, Cursor(UNTIL.replace(microsecond=0))]
    assert waits == [0.5, 0.5]  # injected: the poll backs off without sleeping in tests
    assert [(c.request.method, url_of(c)) for c in org.calls[2:]] == [
        ("GET", f"{API}/queryAll/"),
        ("POST", JOBS),
        ("GET", JOB),
        ("GET", JOB),
        ("GET", f"{JOB}/results"),
        ("GET", f"{JOB}/results"),
    ]
    rest_soql = soql_of(org.calls[2])
    created = json.loads(org.calls[3].request.body or "")
    assert created["operation"] == "queryAll"  # deleted rows too, as REST's queryAll
    assert created["query"] == rest_soql.split(" ORDER BY ")[0]  # same window, no ORDER BY (§1.3)
    assert [c.request.params for c in org.calls[6:]] == [  # type: ignore[attr-defined]
        {"maxRecords": "50000"},
        {"maxRecords": "50000", "locator": "MjAwMQ"},
    ]
    assert bulk_connector.usage().calls == 8  # token, describe, query, create, 2 polls, 2 result sets


def test_csv_values_become_typed_records(
    org: responses.RequestsMock, bulk_connector: SalesforceConnector
) -> None:
    first_rest_page(org, THRESHOLD + 1)
    org.post(JOBS, json=job("UploadComplete"))
    org.get(JOB, json=job("JobComplete"))
    results(
        org,
        [task_line("00TA"), task_line("00TB", duration="", disposition="", deleted="true")],
        locator="null",
    )

    records = [r for page in pulled(bulk_connector, "calls") for r in page.records]

    assert records[0] == Call(
        source="sfdc",
        id="00TA",
        owner_id="005A",
        occurred_at=datetime(2026, 9, 1, 8, 30, tzinfo=UTC),
        duration_seconds=300,
        outcome="Connected",
        direction="outbound",
        modified_at=datetime(2026, 10, 1, 9, tzinfo=UTC),
        deleted=False,
        attributes={},
    )
    assert (records[1].duration_seconds, records[1].outcome, records[1].deleted) == (None, None, True)


def test_window_at_threshold_stays_on_rest(
    org: responses.RequestsMock, bulk_connector: SalesforceConnector
) -> None:
    org.get(f"{API}/queryAll/", json={"totalSize": THRESHOLD, "done": True, "records": [sf_task()]})

    pages = pulled(bulk_connector, "calls")

    assert [r.id for page in pages for r in page.records] == ["00TA"]
    assert not any("jobs/query" in url_of(c) for c in org.calls)


def test_failed_job_fails_the_stream_without_reading_results(
    org: responses.RequestsMock, bulk_connector: SalesforceConnector
) -> None:
    first_rest_page(org, THRESHOLD + 1)
    org.post(JOBS, json=job("UploadComplete"))
    org.get(JOB, json=job("Failed", errorMessage="INVALID_FIELD: No such column 'Foo__c'"))

    with pytest.raises(RejectedRequestError, match="failed: INVALID_FIELD: No such column") as caught:
        pulled(bulk_connector, "calls")

    assert caught.value.code == "JOB_FAILED"
    assert not any(url_of(c).endswith("/results") for c in org.calls)


def test_result_set_that_fails_is_read_again_whole(
    org: responses.RequestsMock, bulk_connector: SalesforceConnector, waits: list[float]
) -> None:
    first_rest_page(org, THRESHOLD + 1)
    org.post(JOBS, json=job("UploadComplete"))
    org.get(JOB, json=job("JobComplete"))
    org.get(f"{JOB}/results", status=503, json=[{"errorCode": "SERVER_UNAVAILABLE", "message": "busy"}],
            headers={"Retry-After": "3"})  # fmt: skip
    results(org, [task_line("00TA"), task_line("00TB")], locator="null")

    pages = pulled(bulk_connector, "calls")

    assert [r.id for page in pages for r in page.records] == ["00TA", "00TB"]  # once each
    assert waits == [0.5, 3.0]  # the poll's wait, then the Retry-After of the 503


def test_poll_backs_off_and_aborts_a_job_that_never_finishes(
    org: responses.RequestsMock, waits: list[float]
) -> None:
    org.get(JOB, json=job("InProgress"))
    org.patch(JOB, json=job("Aborted"))
    client = OrgClient("sfdc", make_source(), sleep=waits.append)

    with pytest.raises(TransientCrmError, match="still InProgress after 244 s; aborted"):
        bulk.wait_for_job(client, JOB_ID, sleep=waits.append, max_wait_seconds=200)

    # Polls 0.5 s, 1 s, 2 s … 64 s after the create, then a minute apart.
    assert waits == [0.5, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]
    aborts = [c for c in org.calls if c.request.method == "PATCH"]
    assert [json.loads(c.request.body or "") for c in aborts] == [{"state": "Aborted"}]
    client.close()


BODY = (
    'Id,Name,Amount,IsWon\n"006A","Zürich ✓ ""big""","12000.5","true"\n"006B","two\nlines\x00","","false"\n'
)


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, len(BODY.encode())])
def test_csv_is_read_row_by_row_across_chunk_boundaries(chunk: int) -> None:
    data = BODY.encode()
    chunks = (data[i : i + chunk] for i in range(0, len(data), chunk))
    info = describe("Opportunity", OPPORTUNITY_FIELDS)

    rows = list(bulk.iter_rows(bulk.iter_lines(chunks), mapping.to_description(info)))

    assert rows == [
        {"Id": "006A", "Name": 'Zürich ✓ "big"', "Amount": Decimal("12000.5"), "IsWon": True},
        {"Id": "006B", "Name": "two\nlines", "Amount": None, "IsWon": False},
    ]


def test_csv_row_maps_to_the_record_its_rest_row_maps_to() -> None:
    """Types come from describe, so mapped fields and attributes match REST JSON exactly."""
    fields = {**OPPORTUNITY_FIELDS, "RecordTypeId": "reference", "Probability": "percent"}
    info = mapping.to_description(
        describe("Opportunity", fields, relationships={"RecordTypeId": "RecordType"})
    )
    attributes = {
        "probability": "Probability",
        "record_type": "RecordType.DeveloperName",
        "created": "CreatedDate",
    }
    row_map = mapping.RowMap({**_DEAL_PATHS, "pipeline": "RecordType.DeveloperName"}, attributes)
    rest = sf_opportunity(
        Amount=Decimal("12000.0"), Probability=Decimal("75"), RecordType={"DeveloperName": "Sales"}
    )
    header = ",".join(["Id", "OwnerId", "AccountId", "Amount", "StageName", "Type", "IsClosed", "IsWon",
                       "CreatedDate", "CloseDate", "SystemModstamp", "IsDeleted", "Probability",
                       "RecordType.DeveloperName"])  # fmt: skip
    line = ('"006A","005A","001A","12000.0","Closed Won","New Customer","true","true",'
            '"2026-09-01T08:00:00.000Z","2026-09-30","2026-10-01T09:00:00.000Z","false","75","Sales"')  # fmt: skip
    csv_rows = bulk.iter_rows(bulk.iter_lines([f"{header}\n{line}\n".encode()]), info)

    assert _records("deals", csv_rows, row_map) == _records("deals", [rest], row_map)


_DEAL_PATHS: dict[str, str | None] = {
    "id": "Id", "owner_id": "OwnerId", "account_id": "AccountId", "amount": "Amount", "stage": "StageName",
    "type": "Type", "is_closed": "IsClosed", "is_won": "IsWon", "created_at": "CreatedDate",
    "close_date": "CloseDate", "modified_at": "SystemModstamp", "deleted": "IsDeleted",
}  # fmt: skip


def _records(stream: StreamName, rows: Any, row_map: mapping.RowMap) -> list[Record]:
    page = mapping.to_page("sfdc", stream, rows, row_map, start=None)
    assert not page.rejected
    return list(page.records)


# ---------------------------------------------------------------- against the sandbox

NOW = datetime(2026, 11, 15, 12, tzinfo=UTC)
WHERE = {"deals": None, "calls": "TaskSubtype = 'Call'"}
OBJECT = {"deals": "Opportunity", "calls": "Task"}
ATTRIBUTES = {
    "deals": {"probability": "Probability", "record_type": "RecordType.DeveloperName", "year": "FiscalYear"},
    "calls": {"subject": "Subject", "due": "ActivityDate", "created": "CreatedDate"},
}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SalesforceSandbox]:
    """A few thousand deals and calls: above the lowest threshold, quick to read."""
    with SalesforceSandbox(now=NOW, scale=SampleScale(deals=2_400, calls=2_600)) as sb:
        yield sb


def sandbox_source(sb: SalesforceSandbox, *, bulk_threshold: int) -> SalesforceSource:
    streams = {
        name: {"object": OBJECT[name], "attributes": ATTRIBUTES[name], **({"where": w} if w else {})}
        for name, w in WHERE.items()
    }
    return SalesforceSource.model_validate(
        {
            "kind": "salesforce",
            "instance_url": sb.instance_url,
            "ca_bundle": sb.ca_bundle,
            "auth": {
                "method": "client_credentials",
                "client_id": sb.client_id,
                "client_secret": sb.client_secret,
            },
            "streams": streams,
            "convert_currency": True,  # convertCurrency() reaches the Bulk query as well
            "bulk_threshold": bulk_threshold,
        }
    )


def pull_all(
    sb: SalesforceSandbox, stream: StreamName, *, bulk_threshold: int
) -> tuple[list[Page], list[float]]:
    waits: list[float] = []
    connector = open_connector("sfdc", sandbox_source(sb, bulk_threshold=bulk_threshold), sleep=waits.append)
    try:
        return list(pull_window(connector, stream, since=None, until=NOW)), waits
    finally:
        connector.close()


@pytest.mark.integration
@pytest.mark.parametrize("stream", ["deals", "calls"])
def test_bulk_pull_gives_the_records_a_rest_pull_gives(
    sandbox: SalesforceSandbox, stream: StreamName
) -> None:
    sandbox.requests.clear()
    bulk_pages, waits = pull_all(sandbox, stream, bulk_threshold=THRESHOLD)
    jobs = sandbox.requests.filter(kind="bulk_query_create")
    rest_pages, _ = pull_all(sandbox, stream, bulk_threshold=10_000_000)

    def by_id(pages: list[Page]) -> list[Record]:
        return sorted((r for page in pages for r in page.records), key=lambda r: r.id)

    assert len(jobs) == 1
    assert jobs[0].body["operation"] == "queryAll"
    assert "ORDER BY" not in jobs[0].body["query"]
    assert len(by_id(bulk_pages)) > THRESHOLD
    assert by_id(bulk_pages) == by_id(rest_pages)
    assert bulk_pages[-1].cursor == rest_pages[-1].cursor == Cursor(NOW)
    assert all(page.cursor is None for page in bulk_pages[:-1])
    assert waits == [0.5, 0.5]  # the sandbox completes a job on its second status call
