"""query / queryAll / queryMore as simple-salesforce consumes them: pages, shapes, snapshots."""

from __future__ import annotations

import math
import re
from datetime import date

import pytest
from simple_salesforce import Salesforce, SalesforceMalformedRequest

from sandbox.salesforce import SalesforceSandbox
from tests.sandbox.clients import connect, open_session

TASKS = "SELECT Id, Subject, OwnerId, CallDurationInSeconds, ActivityDate, SystemModstamp FROM Task"
NEXT_URL = re.compile(r"/services/data/v59\.0/(query|queryAll)/01g[0-9A-Za-z]{15}-\d+")


def test_query_all_iter_follows_2000_row_pages(sf: SalesforceSandbox, client: Salesforce) -> None:
    expected = len(sf.org.records("Task"))
    assert expected > 4_000
    sf.requests.clear()
    records = list(client.query_all_iter(TASKS))
    assert len(records) == expected == len({r["Id"] for r in records})
    assert sf.requests.count(kind="query") == 1
    assert sf.requests.count(kind="query_more") == math.ceil(expected / 2_000) - 1


@pytest.mark.parametrize(("asked", "served"), [(500, 500), (50, 200), (5_000, 2_000)])
def test_batch_size_header_is_clamped_to_200_to_2000(
    sf: SalesforceSandbox, client: Salesforce, asked: int, served: int
) -> None:
    headers = {"Sforce-Query-Options": f"batchSize={asked}"}
    first = client.query(TASKS, headers=headers)
    assert len(first["records"]) == served
    assert first["done"] is False
    assert NEXT_URL.fullmatch(first["nextRecordsUrl"])
    assert first["nextRecordsUrl"].endswith(f"-{served}")
    sf.requests.clear()
    total = sum(1 for _ in client.query_all_iter(TASKS, headers=headers))
    assert total == first["totalSize"]
    assert sf.requests.count(kind="query_more") == math.ceil(total / served) - 1


def test_last_page_is_done_without_next_url(client: Salesforce) -> None:
    page = client.query("SELECT Id FROM User")
    assert page["done"] is True
    assert "nextRecordsUrl" not in page
    assert page["totalSize"] == len(page["records"]) == 14  # manager, 12 reps, integration user


def test_records_carry_attributes_nested_relationships_and_wire_formats(client: Salesforce) -> None:
    page = client.query(
        "SELECT Id, Amount, CloseDate, IsWon, SystemModstamp, Owner.Email, Owner.Manager.Name, Account.Name, "
        "RecordType.DeveloperName FROM Opportunity WHERE Amount != null ORDER BY Id LIMIT 3"
    )
    record = page["records"][0]
    assert list(record) == [
        "attributes", "Id", "Amount", "CloseDate", "IsWon", "SystemModstamp", "Owner", "Account", "RecordType",
    ]  # fmt: skip
    assert record["attributes"] == {
        "type": "Opportunity", "url": f"/services/data/v59.0/sobjects/Opportunity/{record['Id']}"
    }  # fmt: skip
    assert isinstance(record["Amount"], float)
    assert isinstance(record["IsWon"], bool)
    assert date.fromisoformat(record["CloseDate"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", record["SystemModstamp"])
    owner = record["Owner"]
    assert owner["attributes"]["type"] == "User"
    assert owner["Email"].endswith("@example.com")
    assert owner["Manager"]["attributes"]["type"] == "User"
    assert owner["Manager"]["Name"]
    assert record["RecordType"]["DeveloperName"] in {"Sales", "Renewal", "Partner"}


def test_empty_reference_comes_back_as_null(sf: SalesforceSandbox, client: Salesforce) -> None:
    task_id = sf.org.insert(
        "Task", {"Subject": "Call with nobody", "TaskSubtype": "Call", "Status": "Completed"}
    )
    record = client.query(f"SELECT Id, What.Name, Owner.Email FROM Task WHERE Id = '{task_id}'")["records"][0]
    assert record["What"] is None
    assert record["Owner"]["Email"] == sf.username


def test_count_returns_only_the_total(sf: SalesforceSandbox, client: Salesforce) -> None:
    page = client.query("SELECT COUNT() FROM Opportunity WHERE IsWon = true")
    won = [r for r in sf.org.records("Opportunity") if r["IsWon"]]
    assert page == {"totalSize": len(won), "done": True, "records": []}


def test_query_all_shows_deleted_rows(sf: SalesforceSandbox, client: Salesforce) -> None:
    victim = client.query("SELECT Id FROM Opportunity WHERE IsWon = false ORDER BY Id DESC LIMIT 1")[
        "records"
    ][0]
    sf.org.delete("Opportunity", victim["Id"])
    soql = f"SELECT Id, IsDeleted FROM Opportunity WHERE Id = '{victim['Id']}'"
    assert client.query(soql)["totalSize"] == 0
    deleted = client.query(soql, include_deleted=True)["records"]
    assert [r["IsDeleted"] for r in deleted] == [True]
    assert sf.requests[-1].path.endswith("/queryAll/")


def test_pages_come_from_a_snapshot_taken_by_the_first_call(
    sf: SalesforceSandbox, client: Salesforce
) -> None:
    soql = "SELECT Id, Subject FROM Task WHERE TaskSubtype = 'Email' ORDER BY Id"
    first = client.query(soql, headers={"Sforce-Query-Options": "batchSize=200"})
    later_ids = [r["Id"] for r in sf.org.select(soql)][200:]
    sf.org.update("Task", later_ids[0], {"Subject": "Email: changed mid-pull"})
    sf.org.delete("Task", later_ids[1])
    sf.org.insert("Task", {"Subject": "Email: new", "TaskSubtype": "Email", "Status": "Completed"})
    rest = client.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert [r["Id"] for r in rest["records"]] == later_ids[:200]
    assert rest["records"][0]["Subject"] == "Email: changed mid-pull"  # values are read when served
    assert rest["totalSize"] == first["totalSize"]


def test_unknown_locator_is_an_invalid_query_locator(client: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        client.query_more("01gDn0000000999ZZZ-2000")
    assert caught.value.content == [
        {"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}
    ]


def test_opening_an_eleventh_cursor_releases_the_oldest(sf: SalesforceSandbox, client: Salesforce) -> None:
    headers = {"Sforce-Query-Options": "batchSize=200"}
    first = client.query(TASKS, headers=headers)
    for _ in range(10):
        client.query(TASKS, headers=headers)
    with pytest.raises(SalesforceMalformedRequest):
        client.query_more(first["nextRecordsUrl"], identifier_is_url=True)


def test_two_long_text_fields_shrink_pages_to_200(fresh_sf: SalesforceSandbox) -> None:
    fresh_sf.schema.add_field("Task", "Call_Notes__c", "textarea", length=32_000)
    page = connect(fresh_sf).query("SELECT Id, Description, Call_Notes__c FROM Task")
    assert len(page["records"]) == 200
    assert page["nextRecordsUrl"].endswith("-200")


def test_any_api_version_and_trailing_slashes_are_served(sf: SalesforceSandbox, client: Salesforce) -> None:
    session = open_session(sf)
    headers = {"Authorization": f"Bearer {client.session_id}"}
    for path in ("/services/data/v62.0/query", "/services/data/v57.0/query/"):
        response = session.get(
            sf.instance_url + path, params={"q": "SELECT Id FROM User LIMIT 1"}, headers=headers
        )
        assert response.status_code == 200, path
        assert response.json()["records"][0]["attributes"]["url"].startswith(path[:20])
