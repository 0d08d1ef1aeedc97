"""API usage and limits, injected failures, error routing, describe, and the standalone CLI."""

from __future__ import annotations

import ssl
import subprocess
import sys

import pytest
from cryptography import x509
from simple_salesforce import (
    Salesforce,
    SalesforceGeneralError,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)
from simple_salesforce.util import Usage

from sandbox.salesforce import SalesforceSandbox
from sandbox.tls import localhost_certificate
from tests.sandbox.clients import NOW, connect, open_session


def test_every_call_reports_usage_that_simple_salesforce_parses(
    sf: SalesforceSandbox, client: Salesforce
) -> None:
    client.query("SELECT Id FROM User LIMIT 1")
    used, maximum = sf.api_usage
    assert client.api_usage["api-usage"] == Usage(used=used, total=maximum)
    client.query("SELECT Id FROM User LIMIT 1")
    assert client.api_usage["api-usage"] == Usage(used=used + 1, total=maximum)


def test_limits_resource_shows_the_daily_allocation(sf: SalesforceSandbox, client: Salesforce) -> None:
    sf.set_api_limit(max=15_000, used=100)
    limits = client.limits()
    assert limits["DailyApiRequests"] == {"Max": 15_000, "Remaining": 14_899}
    assert {"DailyBulkV2QueryJobs", "DailyBulkApiBatches"} <= set(limits)


def test_used_up_allocation_is_refused_with_request_limit_exceeded(
    sf: SalesforceSandbox, client: Salesforce
) -> None:
    sf.set_api_limit(max=500, used=499)
    client.query("SELECT Id FROM User LIMIT 1")
    with pytest.raises(SalesforceRefusedRequest) as caught:
        client.query("SELECT Id FROM User LIMIT 1")
    assert caught.value.status == 403
    assert caught.value.content == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]
    assert sf.api_usage == (500, 500)


def test_fail_next_serves_server_unavailable_then_recovers(sf: SalesforceSandbox, client: Salesforce) -> None:
    sf.fail_next(2, retry_after=3)
    for _ in range(2):
        with pytest.raises(SalesforceGeneralError) as caught:
            client.query("SELECT Id FROM User LIMIT 1")
        assert caught.value.status == 503
        assert caught.value.content[0]["errorCode"] == "SERVER_UNAVAILABLE"
    assert client.query("SELECT Id FROM User LIMIT 1")["totalSize"] == 1
    assert [e.status for e in sf.requests][-3:] == [503, 503, 200]


def test_fail_next_can_target_a_path_and_carry_retry_after(sf: SalesforceSandbox, client: Salesforce) -> None:
    sf.fail_next(
        1, status=429, error_code="REQUEST_LIMIT_EXCEEDED", path_contains="/composite/", retry_after=7
    )
    client.query("SELECT Id FROM User LIMIT 1")  # not a composite call: served
    response = open_session(sf).patch(
        f"{sf.instance_url}/services/data/v59.0/composite/sobjects",
        json={"records": []},
        headers={"Authorization": f"Bearer {client.session_id}"},
    )
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.headers["Sforce-Limit-Info"].startswith("api-usage=")


def test_fail_next_on_the_token_endpoint(sf: SalesforceSandbox) -> None:
    sf.fail_next(1, path_contains="/oauth2/token")
    form = {"grant_type": "client_credentials", "client_id": sf.client_id, "client_secret": sf.client_secret}
    assert open_session(sf).post(sf.token_url, data=form).status_code == 503
    assert open_session(sf).post(sf.token_url, data=form).status_code == 200


def test_unknown_resources_are_not_found(sf: SalesforceSandbox, client: Salesforce) -> None:
    with pytest.raises(SalesforceResourceNotFound) as caught:
        client.restful("sobjects/Nope__c/describe")
    assert caught.value.content == [
        {"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}
    ]
    with pytest.raises(SalesforceResourceNotFound):
        client.restful("no/such/thing")


def test_wrong_method_is_not_allowed(sf: SalesforceSandbox, client: Salesforce) -> None:
    with pytest.raises(SalesforceGeneralError) as caught:
        client.restful("limits", method="POST")
    assert caught.value.status == 405
    assert caught.value.content[0]["errorCode"] == "METHOD_NOT_ALLOWED"


def test_describe_global_lists_the_org_objects(client: Salesforce) -> None:
    described = client.describe()
    assert described is not None
    names = {o["name"]: o for o in described["sobjects"]}
    assert {"User", "Account", "RecordType", "Opportunity", "Task", "OKR_Key_Result__c"} <= set(names)
    assert names["OKR_Key_Result__c"]["custom"] is True
    assert names["OKR_Key_Result__c"]["keyPrefix"] == "a0X"
    assert names["Opportunity"]["urls"]["describe"] == "/services/data/v59.0/sobjects/Opportunity/describe"


def test_describe_shows_types_flags_references_and_picklists(client: Salesforce) -> None:
    fields = {f["name"]: f for f in client.Opportunity.describe()["fields"]}
    amount, owner, stage = fields["Amount"], fields["OwnerId"], fields["StageName"]
    assert (amount["type"], amount["precision"], amount["scale"], amount["soapType"]) == (
        "currency",
        18,
        2,
        "xsd:double",
    )
    assert (owner["type"], owner["referenceTo"], owner["relationshipName"]) == (
        "reference",
        ["User"],
        "Owner",
    )
    assert "Closed Won" in [v["value"] for v in stage["picklistValues"]]
    assert fields["IsWon"]["updateable"] is False
    assert fields["SystemModstamp"]["type"] == "datetime"
    assert fields["Description"]["filterable"] is False
    okr = {f["name"]: f for f in client.OKR_Key_Result__c.describe()["fields"]}
    assert okr["OKR_Key__c"]["externalId"] is True
    assert okr["OKR_Key__c"]["unique"] is True
    user = {f["name"]: f for f in client.User.describe()["fields"]}
    assert user["Q_Revenue_Status__c"]["restrictedPicklist"] is True
    assert [v["value"] for v in user["Q_Revenue_Status__c"]["picklistValues"]] == [
        "on_track", "at_risk", "off_track", "done",
    ]  # fmt: skip


def test_describe_follows_schema_changes(fresh_sf: SalesforceSandbox) -> None:
    fresh_sf.schema.add_field("User", "Q_Churn__c", "percent", precision=5, scale=2)
    fresh_sf.schema.remove_field("User", "Q_Calls__c")
    fresh_sf.schema.update_field("User", "Q_Revenue__c", updateable=False)
    client = connect(fresh_sf)
    fields = {f["name"]: f for f in client.User.describe()["fields"]}
    assert fields["Q_Churn__c"]["type"] == "percent"
    assert fields["Q_Churn__c"]["custom"] is True
    assert "Q_Calls__c" not in fields
    assert fields["Q_Revenue__c"]["updateable"] is False
    record_types = client.Opportunity.describe()["recordTypeInfos"]
    assert {r["developerName"] for r in record_types} == {"Sales", "Renewal", "Partner", "Master"}


def test_token_requests_are_logged_without_secrets(sf: SalesforceSandbox) -> None:
    connect(sf)
    entry = sf.requests.filter(kind="token")[-1]
    assert entry.body["client_secret"] == "***"
    assert entry.body["grant_type"] == "client_credentials"
    assert sf.client_secret not in repr(list(sf.requests))


def test_certificate_names_127_0_0_1_and_localhost() -> None:
    paths = localhost_certificate()
    cert = x509.load_pem_x509_certificate(paths.cert_file.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert "127.0.0.1" in {str(ip) for ip in names.get_values_for_type(x509.IPAddress)}
    context = ssl.create_default_context(cafile=str(paths.ca_bundle))
    assert context.cert_store_stats()["x509_ca"] == 1
    assert localhost_certificate() is paths  # made once per process


def test_cli_describes_itself() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sandbox.salesforce", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--port" in result.stdout
    assert "--seed" in result.stdout


def test_same_inputs_seed_the_same_salesforce_records() -> None:
    first, second = SalesforceSandbox(now=NOW), SalesforceSandbox(now=NOW)
    for object_name in ("User", "Account", "Opportunity", "Task"):
        assert first.org.records(object_name, include_deleted=True) == second.org.records(
            object_name, include_deleted=True
        )


def test_current_quarter_has_won_revenue_in_soql(client: Salesforce) -> None:
    won = client.query("SELECT COUNT() FROM Opportunity WHERE IsWon = true AND CloseDate = THIS_QUARTER")
    renewals = client.query(
        "SELECT COUNT() FROM Opportunity WHERE Type = 'Renewal' AND CloseDate = THIS_QUARTER"
    )
    calls = client.query(
        "SELECT COUNT() FROM Task WHERE TaskSubtype = 'Call' AND ActivityDate = THIS_QUARTER"
    )
    assert won["totalSize"] >= 8
    assert renewals["totalSize"] > 0
    assert calls["totalSize"] > 0
