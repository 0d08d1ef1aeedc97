"""Writes as the connector makes them: sObject Collections update and upsert, single records."""

from __future__ import annotations

from typing import Any

import pytest
from simple_salesforce import Salesforce, SalesforceMalformedRequest, SalesforceResourceNotFound

from sandbox.salesforce import SalesforceSandbox
from sandbox.salesforce.errors import RecordError
from tests.sandbox.clients import connect

UPSERT = "composite/sobjects/OKR_Key_Result__c/OKR_Key__c"


def _reps(sf: SalesforceSandbox, team: str) -> list[str]:
    """Active reps of one team: each test writes to its own team's users."""
    return [
        row["Id"]
        for row in sf.org.select(f"SELECT Id FROM User WHERE Department = '{team}' AND IsActive = true")
    ]


def _update(client: Salesforce, records: list[dict[str, Any]], *, all_or_none: bool = False) -> Any:
    body = {"allOrNone": all_or_none, "records": [{"attributes": {"type": "User"}, **r} for r in records]}
    return client.restful("composite/sobjects", method="PATCH", json=body)


def test_update_writes_fields_and_bumps_system_modstamp(sf: SalesforceSandbox, client: Salesforce) -> None:
    first, second = _reps(sf, "East")[:2]
    before = sf.org.get("User", first)
    assert before is not None
    results = _update(client, [
        {"id": first, "Q_Revenue__c": 412000, "Q_Revenue_Progress__c": "71.6", "Q_Revenue_Status__c": "on_track",
         "OKR_Updated__c": "2026-11-15T12:00:00.000+0000"},
        {"id": second, "Q_Calls__c": 31},
    ])  # fmt: skip
    assert results == [
        {"id": first, "success": True, "errors": []},
        {"id": second, "success": True, "errors": []},
    ]
    after = client.User.get(first)
    assert (after["Q_Revenue__c"], after["Q_Revenue_Progress__c"], after["Q_Revenue_Status__c"]) == (
        412000.0, 71.6, "on_track",
    )  # fmt: skip
    assert after["OKR_Updated__c"] == "2026-11-15T12:00:00.000+0000"
    stamps = [sf.org.get("User", u)["SystemModstamp"] for u in (first, second)]  # type: ignore[index]
    assert before["SystemModstamp"] < stamps[0] < stamps[1]  # strictly increasing, even on a frozen clock


def test_partial_failure_reports_each_record_in_request_order(
    sf: SalesforceSandbox, client: Salesforce
) -> None:
    good, bad_type, locked = _reps(sf, "West")[:3]
    deleted = sf.org.insert("Account", {"Name": "Gone Ltd"})
    sf.org.delete("Account", deleted)
    sf.schema.update_field("User", "Q_Win_Rate__c", updateable=False)
    try:
        results = _update(client, [
            {"id": good, "Q_New_Deals__c": 4},
            {"id": "005Dn000BADID"},
            {"id": bad_type, "Q_Revenue__c": "lots"},
            {"id": locked, "Q_Win_Rate__c": 33.3},
            {"id": good, "Foo__c": 1},
            {"id": good, "Q_Revenue_Status__c": "great"},
            {"id": "005Dn0000000ZZZ", "Q_Calls__c": 1},
        ])  # fmt: skip
    finally:
        sf.schema.update_field("User", "Q_Win_Rate__c", updateable=True)
    codes = [(r["success"], r["errors"][0]["statusCode"] if r["errors"] else None) for r in results]
    assert codes == [
        (True, None), (False, "MALFORMED_ID"), (False, "INVALID_TYPE_ON_FIELD_IN_RECORD"),
        (False, "INVALID_FIELD_FOR_INSERT_UPDATE"), (False, "INVALID_FIELD"),
        (False, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"), (False, "INVALID_CROSS_REFERENCE_KEY"),
    ]  # fmt: skip
    assert "id" not in results[1]
    assert results[3]["id"] == locked
    assert results[3]["errors"][0]["fields"] == ["Q_Win_Rate__c"]
    assert sf.org.get("User", good)["Q_New_Deals__c"] == 4.0  # type: ignore[index]
    account = {"attributes": {"type": "Account"}, "id": deleted, "Name": "Back Ltd"}
    on_deleted = client.restful("composite/sobjects", method="PATCH", json={"records": [account]})
    assert on_deleted[0]["errors"][0]["statusCode"] == "ENTITY_IS_DELETED"


def test_all_or_none_rolls_everything_back(sf: SalesforceSandbox, client: Salesforce) -> None:
    first, second = _reps(sf, "EMEA")[:2]
    stamp = sf.org.get("User", first)["SystemModstamp"]  # type: ignore[index]
    results = _update(
        client, [{"id": first, "Q_Calls__c": 99}, {"id": second, "Nope__c": 1}], all_or_none=True
    )
    assert results[0] == {
        "id": first, "success": False,
        "errors": [{
            "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
            "message": "Record rolled back because not all records were valid and the request was using AllOrNone header",
            "fields": [],
        }],
    }  # fmt: skip
    assert results[1]["errors"][0]["statusCode"] == "INVALID_FIELD"
    user = sf.org.get("User", first)
    assert user is not None
    assert user["Q_Calls__c"] != 99
    assert user["SystemModstamp"] == stamp


def test_more_than_200_records_is_refused_whole(sf: SalesforceSandbox, client: Salesforce) -> None:
    user = _reps(sf, "East")[0]
    with pytest.raises(SalesforceMalformedRequest) as caught:
        _update(client, [{"id": user, "Q_Calls__c": n} for n in range(201)])
    assert caught.value.content[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


def test_upsert_creates_then_updates_by_external_id(sf: SalesforceSandbox, client: Salesforce) -> None:
    def upsert(value: float) -> Any:
        record = {"attributes": {"type": "OKR_Key_Result__c"}, "Name": "Revenue", "OKR_Key__c": "q-revenue.revenue",
                  "Value__c": value, "Status__c": "on_track", "Owner_Email__c": "ana@example.com"}  # fmt: skip
        return client.restful(UPSERT, method="PATCH", json={"allOrNone": False, "records": [record]})

    created = upsert(100)
    assert created[0]["created"] is True
    assert created[0]["success"] is True
    assert created[0]["id"].startswith("a0X")
    updated = upsert(250)
    assert updated == [{"id": created[0]["id"], "success": True, "errors": [], "created": False}]
    rows = sf.org.select(
        "SELECT Value__c, OwnerId FROM OKR_Key_Result__c WHERE OKR_Key__c = 'Q-REVENUE.revenue'"
    )
    assert rows == [{"Value__c": 250.0, "OwnerId": sf.org.running_user_id}]


def test_upsert_rejects_missing_and_duplicate_keys(client: Salesforce) -> None:
    records = [
        {"attributes": {"type": "OKR_Key_Result__c"}, "Name": "A", "OKR_Key__c": "dup"},
        {"attributes": {"type": "OKR_Key_Result__c"}, "Name": "B", "OKR_Key__c": "dup"},
        {"attributes": {"type": "OKR_Key_Result__c"}, "Name": "C"},
        {"attributes": {"type": "OKR_Key_Result__c"}, "OKR_Key__c": "no-name"},
    ]
    results = client.restful(UPSERT, method="PATCH", json={"allOrNone": False, "records": records})
    assert [r["errors"][0]["statusCode"] for r in results] == [
        "DUPLICATE_EXTERNAL_ID", "DUPLICATE_EXTERNAL_ID", "MISSING_ARGUMENT", "REQUIRED_FIELD_MISSING",
    ]  # fmt: skip


def test_upsert_on_a_field_that_is_not_an_external_id_fails_the_call(client: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        client.restful("composite/sobjects/User/Email", method="PATCH", json={"records": []})
    assert caught.value.content[0]["errorCode"] == "INVALID_FIELD"


def test_reject_writes_fails_a_record_the_given_number_of_times(
    sf: SalesforceSandbox, client: Salesforce
) -> None:
    user = _reps(sf, "West")[-1]
    sf.reject_writes({user: "UNABLE_TO_LOCK_ROW"}, times=1)
    first = _update(client, [{"id": user, "Q_Calls__c": 7}])
    assert first[0]["success"] is False
    assert first[0]["errors"][0]["statusCode"] == "UNABLE_TO_LOCK_ROW"
    assert user in first[0]["errors"][0]["message"]
    assert _update(client, [{"id": user, "Q_Calls__c": 7}])[0]["success"] is True


def test_reject_writes_takes_a_predicate(sf: SalesforceSandbox, client: Salesforce) -> None:
    sf.reject_writes(
        lambda obj, _id, fields: "FIELD_INTEGRITY_EXCEPTION" if "Q_Revenue__c" in fields else None, times=None
    )
    user = _reps(sf, "EMEA")[-1]
    for _ in range(2):
        result = _update(client, [{"id": user, "Q_Revenue__c": 1}, {"id": user, "Q_Calls__c": 1}])
        assert [r["success"] for r in result] == [False, True]


def test_single_record_routes_of_simple_salesforce(sf: SalesforceSandbox, client: Salesforce) -> None:
    created = client.Account.create({"Name": "Single Route Inc", "Industry": "Retail"})
    assert created["success"] is True
    assert client.Account.update(created["id"], {"Industry": "Software"}) == 204
    assert client.Account.get(created["id"])["Industry"] == "Software"
    assert client.Account.delete(created["id"]) == 204
    with pytest.raises(SalesforceResourceNotFound):
        client.Account.get(created["id"])
    with pytest.raises(SalesforceMalformedRequest) as caught:
        client.Opportunity.update(sf.org.records("Opportunity")[0]["Id"], {"IsWon": True})
    assert caught.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_upsert_single_record_by_external_id(client: Salesforce) -> None:
    assert client.OKR_Key_Result__c.upsert("OKR_Key__c/calls.total", {"Name": "Calls", "Value__c": 3}) == 201
    assert client.OKR_Key_Result__c.upsert("OKR_Key__c/calls.total", {"Value__c": 4}) == 200
    assert client.OKR_Key_Result__c.get_by_custom_id("OKR_Key__c", "calls.total")["Value__c"] == 4.0


def test_opportunity_stage_drives_the_computed_fields(sf: SalesforceSandbox) -> None:
    opportunity = next(r for r in sf.org.records("Opportunity") if not r["IsClosed"])
    sf.org.update("Opportunity", opportunity["Id"], {"StageName": "Closed Won", "CloseDate": "2026-11-14"})
    won = sf.org.get("Opportunity", opportunity["Id"])
    assert won is not None
    assert (won["IsClosed"], won["IsWon"], won["Probability"], won["ForecastCategoryName"]) == (
        True, True, 100.0, "Closed",
    )  # fmt: skip
    assert (won["FiscalYear"], won["FiscalQuarter"]) == (2026, 4)


def test_write_calls_are_counted_in_the_request_log(sf: SalesforceSandbox) -> None:
    client = connect(sf)
    sf.requests.clear()
    user = _reps(sf, "East")[-1]
    _update(client, [{"id": user, "Q_Calls__c": 1}])
    client.query("SELECT Id FROM User LIMIT 1")
    assert sf.requests.count(writes=True) == 1 == sf.requests.count(kind="composite_update")
    entry = sf.requests.filter(kind="composite_update")[0]
    assert entry.body["records"][0]["Q_Calls__c"] == 1
    assert entry.headers["Authorization"] == "Bearer ***"


def test_writes_through_the_org_check_types_but_not_access(sf: SalesforceSandbox) -> None:
    opportunity = sf.org.records("Opportunity")[-1]["Id"]
    with pytest.raises(RecordError) as caught:
        sf.org.update("Opportunity", opportunity, {"Amount": "a lot"})
    assert caught.value.status_code == "INVALID_TYPE_ON_FIELD_IN_RECORD"
    sf.org.update("Opportunity", opportunity, {"IsWon": True, "SystemModstamp": "2026-11-01T08:00:00Z"})
    record = sf.org.get("Opportunity", opportunity)
    assert record is not None
    assert record["IsWon"] is True
    assert record["SystemModstamp"].isoformat() == "2026-11-01T08:00:00+00:00"  # tests may set system fields
