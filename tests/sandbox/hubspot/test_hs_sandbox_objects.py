"""Objects API of the HubSpot sandbox through hubspot-api-client: list paging, batch read/update/upsert."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from hubspot import HubSpot
from hubspot.crm.objects import ApiException

from sandbox.hubspot import HubSpotSandbox
from tests.sandbox.hubspot.conftest import Call

HS_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
DEAL_PROPERTIES = ["amount", "amount_in_home_currency", "deal_currency_code", "dealstage", "pipeline", "closedate",
                   "createdate", "hs_lastmodifieddate", "hubspot_owner_id", "dealtype", "hs_is_closed_won"]  # fmt: skip


def test_list_pages_follow_after_through_every_live_deal(hs: HubSpotSandbox, client: HubSpot) -> None:
    ids: list[str] = []
    after = None
    while True:
        page = client.crm.objects.basic_api.get_page("deals", limit=100, after=after, properties=["amount"])
        ids += [record.id for record in page.results]
        if page.paging is None:
            break
        after = page.paging.next.after
    assert ids == [record.id for record in hs.records("deals")]
    assert ids == sorted(ids, key=int)
    assert hs.requests.count(kind="list") == -(-len(ids) // 100)


def test_list_defaults_to_ten_and_refuses_more_than_a_hundred(client: HubSpot) -> None:
    assert len(client.crm.deals.basic_api.get_page().results) == 10
    with pytest.raises(ApiException) as raised:
        client.crm.objects.basic_api.get_page("deals", limit=101)
    assert raised.value.status == 400


def test_archived_true_lists_only_archived_records(hs: HubSpotSandbox, client: HubSpot) -> None:
    page = client.crm.objects.basic_api.get_page("deals", limit=100, archived=True)
    assert page.results
    assert all(record.archived for record in page.results)
    assert {record.id for record in page.results} <= {
        record.id for record in hs.records("deals", archived=True)
    }


def test_property_values_are_strings_and_instants_have_milliseconds(call: Call) -> None:
    response = call("GET", f"/crm/v3/objects/deals?limit=100&properties={','.join(DEAL_PROPERTIES)}")
    for record in response.json()["results"]:
        assert set(record) == {"id", "properties", "createdAt", "updatedAt", "archived"}
        assert all(value is None or isinstance(value, str) for value in record["properties"].values())
        assert HS_TIME.fullmatch(record["updatedAt"])
        assert HS_TIME.fullmatch(record["properties"]["hs_lastmodifieddate"])
        assert record["properties"]["dealtype"] in ("newbusiness", "existingbusiness")


def test_batch_read_reports_missing_ids_with_207(hs: HubSpotSandbox, client: HubSpot) -> None:
    known = hs.records("calls")[0].id
    body = {"inputs": [{"id": known}, {"id": "999"}], "properties": ["hs_call_duration"]}
    response = client.crm.objects.batch_api.read("calls", body)
    assert [record.id for record in response.results] == [known]
    assert response.num_errors == 1
    assert response.errors[0].category == "OBJECT_NOT_FOUND"
    assert response.errors[0].context == {"ids": ["999"]}


def test_batch_update_bumps_last_modified(hs: HubSpotSandbox, client: HubSpot) -> None:
    hs.clock.advance(timedelta(seconds=1))
    deal = hs.records("deals")[5]
    before = deal.properties["hs_lastmodifieddate"]
    response = client.crm.objects.batch_api.update(
        "deals", {"inputs": [{"id": deal.id, "properties": {"amount": 1234}}]}
    )
    assert response.status == "COMPLETE"
    assert response.results[0].properties["amount"] == "1234"
    assert hs.get("deals", deal.id).properties["hs_lastmodifieddate"] > str(before)
    assert hs.get("deals", deal.id).properties["amount_in_home_currency"] is not None


def test_batch_update_partial_failure_is_207_and_applies_the_rest(
    hs: HubSpotSandbox, client: HubSpot
) -> None:
    first, second = hs.records("deals")[6:8]
    hs.reject_upserts({second.id: "Property values were not valid"})
    inputs = [{"id": record.id, "properties": {"dealname": "renamed"}} for record in (first, second)]
    response = client.crm.objects.batch_api.update("deals", {"inputs": inputs})
    assert [record.id for record in response.results] == [first.id]
    assert response.num_errors == 1
    assert response.errors[0].context == {"ids": [second.id]}
    assert response.errors[0].message == "Property values were not valid"
    assert hs.get("deals", first.id).properties["dealname"] == "renamed"
    assert hs.get("deals", second.id).properties["dealname"] != "renamed"
    assert hs.requests[-1].status == 207


def test_batch_of_more_than_a_hundred_inputs_is_refused(hs: HubSpotSandbox, client: HubSpot) -> None:
    inputs = [{"id": record.id, "properties": {}} for record in hs.records("calls")[:101]]
    with pytest.raises(ApiException) as raised:
        client.crm.objects.batch_api.update("calls", {"inputs": inputs})
    assert raised.value.status == 400


def test_batch_update_with_unknown_property_is_refused(hs: HubSpotSandbox, client: HubSpot) -> None:
    inputs = [{"id": hs.records("calls")[0].id, "properties": {"no_such_property": "1"}}]
    with pytest.raises(ApiException) as raised:
        client.crm.objects.batch_api.update("calls", {"inputs": inputs})
    assert raised.value.status == 400
    assert "PROPERTY_DOESNT_EXIST" in raised.value.body


def test_upsert_creates_then_updates_by_unique_value(small_hs: HubSpotSandbox, small_client: HubSpot) -> None:
    body = {
        "inputs": [{"id": "q4.revenue.ana", "idProperty": "okr_key", "properties": {"okr_name": "Revenue"}}]
    }
    created = small_client.crm.objects.batch_api.upsert("p_key_results", body)
    updated = small_client.crm.objects.batch_api.upsert("p_key_results", body)
    assert created.results[0].new is True
    assert updated.results[0].new is False
    assert created.results[0].id == updated.results[0].id
    assert len(small_hs.records("p_key_results")) == 1


def test_upsert_partial_failure_is_207(small_hs: HubSpotSandbox, small_client: HubSpot) -> None:
    small_hs.reject_upserts({"bad": "INVALID_INTEGER"})
    inputs = [
        {"id": key, "idProperty": "okr_key", "properties": {"okr_name": key}} for key in ("good", "bad")
    ]
    response = small_client.crm.objects.batch_api.upsert("p_key_results", {"inputs": inputs})
    assert [record.properties["okr_key"] for record in response.results] == ["good"]
    assert response.num_errors == 1
    assert response.errors[0].context == {"ids": ["bad"]}
    retried = small_client.crm.objects.batch_api.upsert("p_key_results", {"inputs": inputs[1:]})
    assert retried.results[0].new is True  # a rejection applies once by default


def test_upsert_needs_a_unique_id_property(hs: HubSpotSandbox, client: HubSpot) -> None:
    body = {"inputs": [{"id": "x", "idProperty": "dealname", "properties": {}}]}
    with pytest.raises(ApiException) as raised:
        client.crm.objects.batch_api.upsert("deals", body)
    assert raised.value.status == 400
