"""`check()`: mapped fields and write-back fields against the org's describe; open_connector."""

from __future__ import annotations

import responses

from connectors import open_connector
from connectors.salesforce import SalesforceConnector
from syncer.config.models import HubSpotSource, KeyedTarget, OwnerTarget
from tests.connectors.salesforce.builders import API, USER_FIELDS, describe
from tests.connectors.salesforce.conftest import make_source

USER_TARGET = OwnerTarget(
    source="sfdc",
    object="User",
    match="owner",
    fields={
        "Q_Revenue__c": "q.revenue.value",
        "Q_Missing__c": "q.revenue.target",
        "Department": "q.revenue.status",
    },
)


def problems(connector: SalesforceConnector) -> list[tuple[str, str]]:
    return [(f.level, f.subject) for f in connector.check() if f.level != "ok"]


def test_check_reports_missing_and_read_only_write_back_fields(
    org: responses.RequestsMock, waits: list[float]
) -> None:
    org.replace(
        responses.GET,
        f"{API}/sobjects/User/describe/",
        json=describe("User", USER_FIELDS, read_only=("Department",)),
    )
    other_source = OwnerTarget(source="hub", object="Owner__c", match="owner", fields={"X__c": "q.r.value"})
    connector = open_connector(
        "sfdc", make_source(), writeback=[USER_TARGET, other_source], sleep=waits.append
    )

    findings = {f.subject: f for f in connector.check()}

    assert findings["User.Q_Missing__c"].level == "error"
    assert "fields ensure" in (findings["User.Q_Missing__c"].fix or "")
    assert findings["User.Department"].message == "write-back field is not editable"
    assert "User.Q_Revenue__c" not in findings
    assert not any("Owner__c" in subject for subject in findings)  # another source's target


def test_check_reports_unreadable_mapped_fields_and_bad_where(
    org: responses.RequestsMock, waits: list[float]
) -> None:
    streams = {
        "deals": {"object": "Opportunity", "fields": {"stage": "Stage__c"}},
        "renewals": {"object": "Opportunity", "where": "Type = 'Renewal' LIMIT 5"},
    }
    connector = SalesforceConnector(
        "sfdc", make_source(streams=streams, owners={"team_field": "Team__c"}), sleep=waits.append
    )

    findings = connector.check()

    assert [(f.level, f.subject) for f in findings if f.level != "ok"] == [
        ("error", "Opportunity.Stage__c"),
        ("error", "Opportunity (streams.renewals)"),
        ("error", "User.Team__c"),
    ]
    assert "LIMIT" in findings[1].message


def test_check_reports_an_unknown_object_and_goes_on(org: responses.RequestsMock, waits: list[float]) -> None:
    org.get(
        f"{API}/sobjects/Deal__c/describe/",
        status=404,
        json=[{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}],
    )
    connector = SalesforceConnector(
        "sfdc", make_source(streams={"deals": {"object": "Deal__c"}}), sleep=waits.append
    )

    assert problems(connector) == [("error", "Deal__c")]


def test_check_wants_an_external_id_to_upsert_on(org: responses.RequestsMock, waits: list[float]) -> None:
    fields = {"Id": "id", "Okr_Key__c": "string", "Value__c": "double"}
    org.get(f"{API}/sobjects/Key_Result__c/describe/", json=describe("Key_Result__c", fields))
    target = KeyedTarget(
        source="sfdc", object="Key_Result__c", upsert_on="Okr_Key__c", fields={"Value__c": "*.value"}
    )
    connector = SalesforceConnector("sfdc", make_source(), writeback=[target], sleep=waits.append)

    assert problems(connector) == [("error", "Key_Result__c.Okr_Key__c")]


def test_open_connector_builds_the_salesforce_connector_without_a_call(rsps: responses.RequestsMock) -> None:
    connector = open_connector("sfdc", make_source())

    assert isinstance(connector, SalesforceConnector)
    assert connector.source == "sfdc"
    assert len(rsps.calls) == 0
    connector.close()


def test_open_connector_picks_the_connector_by_the_source_kind() -> None:
    source = HubSpotSource.model_validate(
        {"kind": "hubspot", "auth": {"method": "private_app", "access_token": "t"}, "streams": {"deals": {}}}
    )
    connector = open_connector("hub", source)

    assert type(connector).__name__ == "HubSpotConnector"
    assert connector.source == "hub"
    connector.close()
