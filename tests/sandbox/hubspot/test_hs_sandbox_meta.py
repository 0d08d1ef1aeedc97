"""Owners, pipelines, properties and custom object schemas of the HubSpot sandbox."""

from __future__ import annotations

import pytest
from hubspot import HubSpot
from hubspot.crm.properties import ApiException as PropertiesApiException
from hubspot.crm.properties import PropertyCreate
from hubspot.crm.schemas import ObjectSchemaEgg

from sandbox.hubspot import HubSpotSandbox
from tests.sandbox.hubspot.conftest import Call


def test_owners_page_with_teams_and_archive_inactive_reps(hs: HubSpotSandbox, client: HubSpot) -> None:
    active = client.crm.owners.owners_api.get_page(limit=500).results
    archived = client.crm.owners.owners_api.get_page(limit=500, archived=True).results
    people = {user.key: user for user in hs.sample.users}
    assert {o.id for o in active} == {hs.owner_ids[k] for k, u in people.items() if u.active}
    assert {o.id for o in archived} == {hs.owner_ids[k] for k, u in people.items() if not u.active}
    rep = next(o for o in active if o.teams)
    assert rep.teams[0].primary is True
    assert rep.teams[0].name in ("East", "West", "EMEA")


def test_owners_page_by_after_and_filter_by_email(hs: HubSpotSandbox, client: HubSpot) -> None:
    first = client.crm.owners.owners_api.get_page(limit=2)
    second = client.crm.owners.owners_api.get_page(limit=2, after=first.paging.next.after)
    assert len({o.id for o in [*first.results, *second.results]}) == 4
    email = first.results[0].email
    assert [o.id for o in client.crm.owners.owners_api.get_page(email=email).results] == [first.results[0].id]


def test_pipelines_have_sales_and_renewals_with_closed_stage_metadata(client: HubSpot) -> None:
    pipelines = {p.id: p for p in client.crm.pipelines.pipelines_api.get_all("deals").results}
    assert {"default", "renewals"} <= set(pipelines)
    stages = {s.id: s.metadata for s in pipelines["default"].stages}
    assert stages["closedwon"] == {"isClosed": "true", "probability": "1.0"}
    assert stages["closedlost"] == {"isClosed": "true", "probability": "0.0"}
    assert stages["appointmentscheduled"]["isClosed"] == "false"


def test_deals_sit_in_both_pipelines_and_their_stages(hs: HubSpotSandbox) -> None:
    deals = hs.records("deals")
    assert {d.properties["pipeline"] for d in deals} >= {"default", "renewals"}
    won = [d for d in deals if d.properties["hs_is_closed_won"] == "true"]
    assert won
    assert all(d.properties["hs_is_closed"] == "true" for d in won)


def test_property_create_then_duplicate_is_409(small_hs: HubSpotSandbox, small_client: HubSpot) -> None:
    spec = PropertyCreate(
        name="okr_revenue",
        label="Q revenue",
        type="number",
        field_type="number",
        group_name="dealinformation",
    )
    created = small_client.crm.properties.core_api.create("deals", spec)
    assert created.name == "okr_revenue"
    assert "okr_revenue" in {p.name for p in small_client.crm.properties.core_api.get_all("deals").results}
    with pytest.raises(PropertiesApiException) as raised:
        small_client.crm.properties.core_api.create("deals", spec)
    assert raised.value.status == 409


def test_property_create_without_required_fields_is_a_validation_error(call: Call) -> None:
    response = call("POST", "/crm/v3/properties/deals", json={"name": "x", "label": "X"})
    assert response.status_code == 400
    assert response.json()["category"] == "VALIDATION_ERROR"


def test_key_result_schema_is_absent_by_default_and_can_be_created(
    hs: HubSpotSandbox, client: HubSpot
) -> None:
    assert client.crm.schemas.core_api.get_all().results == []
    egg = ObjectSchemaEgg(
        name="key_results_x", labels={"singular": "Key result", "plural": "Key results"}, required_properties=["okr_key"],
        properties=[{"name": "okr_key", "label": "Key", "type": "string", "fieldType": "text", "hasUniqueValue": True}],
        associated_objects=[], primary_display_property="okr_key",
    )  # fmt: skip
    schema = client.crm.schemas.core_api.create(egg)
    assert schema.object_type_id.startswith("2-")
    for name in (schema.object_type_id, "p_key_results_x", schema.fully_qualified_name):
        assert client.crm.objects.basic_api.get_page(name).results == []


def test_key_result_schema_present_with_the_flag(small_client: HubSpot) -> None:
    names = [schema.name for schema in small_client.crm.schemas.core_api.get_all().results]
    assert names == ["key_results"]
