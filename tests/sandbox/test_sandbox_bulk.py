"""The sandbox's Bulk API 2.0 query jobs (docs/crm-apis.md §1.3): lifecycle, CSV result sets, refusals."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
import requests

from sandbox.salesforce import SalesforceSandbox
from tests.sandbox.clients import fetch_token, open_session

CALLS = "SELECT Id, Subject, CallDurationInSeconds, IsDeleted, SystemModstamp, Owner.Email FROM Task WHERE TaskSubtype = 'Call'"


class Api:
    """Raw HTTPS calls to one sandbox's versioned API, the way a Bulk client makes them."""

    def __init__(self, sf: SalesforceSandbox, version: str = "59.0") -> None:
        self.base = f"{sf.instance_url}/services/data/v{version}"
        self.session = open_session(sf)
        self.session.headers["Authorization"] = f"Bearer {fetch_token(sf)}"

    def create(self, query: str, operation: str = "queryAll") -> requests.Response:
        return self.session.post(f"{self.base}/jobs/query", json={"operation": operation, "query": query})

    def status(self, job_id: str) -> str:
        state: str = self.session.get(f"{self.base}/jobs/query/{job_id}").json()["state"]
        return state

    def results(self, job_id: str, **params: Any) -> requests.Response:
        return self.session.get(f"{self.base}/jobs/query/{job_id}/results", params=params)

    def completed(self, query: str, operation: str = "queryAll") -> str:
        job_id: str = self.create(query, operation).json()["id"]
        while self.status(job_id) != "JobComplete":
            pass
        return job_id


@pytest.fixture
def api(sf: SalesforceSandbox) -> Api:
    return Api(sf)


def rows_of(response: requests.Response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.text)))


def test_job_completes_over_two_status_calls_and_results_wait_for_it(api: Api) -> None:
    created = api.create(CALLS)
    job_id = created.json()["id"]

    assert created.status_code == 200
    assert created.json()["state"] == "UploadComplete"
    assert job_id.startswith("750")
    early = api.results(job_id)
    assert early.status_code == 412
    assert early.json()[0]["errorCode"] == "JOB_NOT_COMPLETE"
    assert [api.status(job_id), api.status(job_id), api.status(job_id)] == [
        "InProgress",
        "JobComplete",
        "JobComplete",
    ]


def test_result_sets_follow_the_locator_and_hold_every_row_once(sf: SalesforceSandbox, api: Api) -> None:
    job_id = api.completed(CALLS)
    expected = {row["Id"] for row in sf.org.select(CALLS, include_deleted=True)}
    seen: list[str] = []
    locator: str | None = None
    sets = 0
    while locator != "null":
        params = {"maxRecords": 1_000, **({"locator": locator} if locator else {})}
        response = api.results(job_id, **params)
        rows = rows_of(response)
        assert response.headers["Content-Type"] == "text/csv"
        assert int(response.headers["Sforce-NumberOfRecords"]) == len(rows) <= 1_000
        seen += [row["Id"] for row in rows]
        locator = response.headers["Sforce-Locator"]
        sets += 1

    assert sorted(seen) == sorted(expected)
    assert sets == -(-len(expected) // 1_000)


def test_csv_spells_values_as_bulk_does(sf: SalesforceSandbox, api: Api) -> None:
    job_id = api.completed(CALLS + " AND CallDurationInSeconds = null")
    response = api.results(job_id, maxRecords=5)
    header = response.text.splitlines()[0]
    row = rows_of(response)[0]

    assert header == '"Id","Subject","CallDurationInSeconds","IsDeleted","SystemModstamp","Owner.Email"'
    assert row["CallDurationInSeconds"] == ""  # null
    assert row["IsDeleted"] in ("true", "false")
    assert row["SystemModstamp"].endswith(".000Z")
    assert "@" in row["Owner.Email"]


def test_query_all_includes_deleted_rows_and_query_does_not(sf: SalesforceSandbox, api: Api) -> None:
    victim = sf.org.select(CALLS)[-1]["Id"]
    sf.org.delete("Task", victim)
    ids: dict[str, set[str]] = {}
    for operation in ("query", "queryAll"):
        job_id = api.completed(CALLS, operation)
        ids[operation] = {row["Id"] for row in rows_of(api.results(job_id, maxRecords=100_000))}

    assert victim in ids["queryAll"]
    assert victim not in ids["query"]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("SELECT Id FROM Task ORDER BY SystemModstamp", "INVALIDJOB"),
        ("SELECT Id FROM Task LIMIT 10", "INVALIDJOB"),
        ("SELECT Id FROM Task LIMIT 10 OFFSET 5", "INVALIDJOB"),
        ("SELECT COUNT() FROM Task", "INVALIDJOB"),
        ("SELECT Id, NoSuchField__c FROM Task", "INVALID_FIELD"),
        ("SELECT Id FROM NoSuchObject__c", "INVALID_TYPE"),
        ("SELECT Id FROM Task WHERE", "MALFORMED_QUERY"),
    ],
)
def test_query_bulk_cannot_run_is_refused_and_makes_no_job(api: Api, query: str, code: str) -> None:
    before = len(api.session.get(f"{api.base}/jobs/query").json()["records"])

    response = api.create(query)

    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == code
    assert len(api.session.get(f"{api.base}/jobs/query").json()["records"]) == before


def test_unknown_operation_is_refused(api: Api) -> None:
    response = api.create("SELECT Id FROM Task", operation="upsert")

    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "INVALIDJOB"


def test_abort_then_delete(api: Api) -> None:
    job_id = api.create("SELECT Id FROM Task").json()["id"]
    url = f"{api.base}/jobs/query/{job_id}"

    aborted = api.session.patch(url, data=json.dumps({"state": "Aborted"}))
    again = api.session.patch(url, data=json.dumps({"state": "Aborted"}))
    results = api.results(job_id)
    deleted = api.session.delete(url)

    assert aborted.json()["state"] == "Aborted"
    assert again.status_code == 400
    assert results.status_code == 412
    assert deleted.status_code == 204
    assert api.session.get(url).status_code == 404


def test_job_in_progress_cannot_be_deleted(api: Api) -> None:
    job_id = api.create("SELECT Id FROM Task").json()["id"]
    assert api.status(job_id) == "InProgress"

    response = api.session.delete(f"{api.base}/jobs/query/{job_id}")

    assert response.status_code == 400


def test_results_need_the_version_that_created_the_job(sf: SalesforceSandbox, api: Api) -> None:
    job_id = api.completed("SELECT Id FROM Task")

    response = Api(sf, version="60.0").results(job_id)

    assert response.status_code == 409


def test_every_bulk_call_is_logged_and_counted(sf: SalesforceSandbox, api: Api) -> None:
    sf.requests.clear()
    used_before, _ = sf.api_usage
    job_id = api.completed("SELECT Id FROM User")
    api.results(job_id)

    kinds = sf.requests.kinds()
    assert kinds["bulk_query_create"] == 1
    assert kinds["bulk_query_status"] == 2
    assert kinds["bulk_query_results"] == 1
    assert sf.api_usage[0] - used_before == 4  # each Bulk request counts against the allocation (§1.3)
