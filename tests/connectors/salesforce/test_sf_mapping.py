"""The default field mapping of every stream and of owners, and how the YAML overrides it."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import responses
from responses import matchers

from connectors.salesforce import SalesforceConnector, currency
from connectors.salesforce import organization as organization_module
from syncer.records import Call, Deal, Renewal
from tests.connectors.salesforce.builders import (
    API,
    HOST,
    OPPORTUNITY_FIELDS,
    TASK_FIELDS,
    describe,
    query_page,
    sf_opportunity,
    sf_task,
    sf_user,
)
from tests.connectors.salesforce.conftest import make_source, pulled, soql_of


def deals_of(connector: SalesforceConnector) -> list[Deal]:
    return [r for page in pulled(connector) for r in page.records if isinstance(r, Deal)]


def calls_of(connector: SalesforceConnector) -> list[Call]:
    return [r for page in pulled(connector, "calls") for r in page.records if isinstance(r, Call)]


def test_deal_mapping_reads_every_default_field(
    org: responses.RequestsMock, sf_connector: SalesforceConnector
) -> None:
    org.get(f"{API}/queryAll/", json=query_page([sf_opportunity(Amount=1234.56)]))

    [deal] = deals_of(sf_connector)

    assert deal == Deal(
        source="sfdc",
        id="006A",
        owner_id="005A",
        account_id="001A",
        amount=Decimal("1234.56"),
        currency=None,
        stage="Closed Won",
        pipeline=None,
        type="new",
        is_closed=True,
        is_won=True,
        created_at=datetime(2026, 9, 1, 8, tzinfo=UTC),
        close_date=date(2026, 9, 30),
        modified_at=datetime(2026, 10, 1, 9, tzinfo=UTC),
    )


def test_amount_keeps_every_cent(org: responses.RequestsMock, sf_connector: SalesforceConnector) -> None:
    org.get(
        f"{API}/queryAll/",
        body='{"totalSize":1,"done":true,"records":['
        + json.dumps(sf_opportunity()).replace("12000.0", "0.10")
        + "]}",
    )

    assert deals_of(sf_connector)[0].amount == Decimal("0.10")


def _rates(rsps: responses.RequestsMock, *, dated: list[dict[str, object]] | None) -> None:
    """CurrencyType (corporate USD, EUR at 0.8) and DatedConversionRate (None: the org has no ACM)."""
    currencies = [
        {"IsoCode": "USD", "ConversionRate": 1.0, "DecimalPlaces": 2, "IsCorporate": True, "IsActive": True},
        {"IsoCode": "EUR", "ConversionRate": 0.8, "DecimalPlaces": 2, "IsCorporate": False, "IsActive": True},
    ]
    rsps.get(f"{API}/query/", json=query_page(currencies), match=[_soql(currency.CURRENCY_TYPES_QUERY)])
    if dated is None:
        invalid = [
            {"message": "sObject type 'DatedConversionRate' is not supported.", "errorCode": "INVALID_TYPE"}
        ]
        rsps.get(f"{API}/query/", status=400, json=invalid, match=[_soql(currency.DATED_RATES_QUERY)])
    else:
        rsps.get(f"{API}/query/", json=query_page(dated), match=[_soql(currency.DATED_RATES_QUERY)])
    organization = [{"Id": "00DA00000000001AAA", "DefaultCurrencyIsoCode": "USD"}]
    rsps.get(
        f"{API}/query/", json=query_page(organization), match=[_soql(organization_module.ORGANIZATION_QUERY)]
    )


def _soql(text: str) -> object:
    return matchers.query_param_matcher({"q": text})


@pytest.mark.parametrize(
    ("dated", "expected"),
    [
        (None, Decimal("1250.00")),  # no ACM: 1,000 EUR / 0.8
        (  # ACM: the rate whose range holds the CloseDate (2026-09-30), 0.75
            [
                {
                    "IsoCode": "EUR",
                    "ConversionRate": 0.9,
                    "StartDate": "0001-01-01",
                    "NextStartDate": "2026-09-01",
                },
                {"IsoCode": "EUR", "ConversionRate": 0.75, "StartDate": "2026-09-01", "NextStartDate": None},
            ],
            Decimal("1333.33"),
        ),
    ],
)
def test_multi_currency_org_converts_amount_into_the_corporate_currency_with_the_orgs_rates(
    rsps: responses.RequestsMock, waits: list[float], dated: list[dict[str, object]] | None, expected: Decimal
) -> None:
    fields = {**OPPORTUNITY_FIELDS, "CurrencyIsoCode": "picklist", "RecordTypeId": "reference"}
    _org(rsps, describe("Opportunity", fields, relationships={"RecordTypeId": "RecordType"}))
    _rates(rsps, dated=dated)
    row = sf_opportunity(
        Amount=1000.0,
        CurrencyIsoCode="EUR",
        RecordType={"attributes": {"type": "RecordType"}, "DeveloperName": "Enterprise"},
    )
    usd = sf_opportunity(Id="006B", Amount=50.0, CurrencyIsoCode="USD", RecordType=None)
    rsps.get(f"{API}/queryAll/", json=query_page([row, usd]))
    connector = SalesforceConnector("sfdc", make_source(), sleep=waits.append)

    deals = deals_of(connector)

    soql = soql_of(rsps.calls[-1])
    assert "convertCurrency" not in soql  # that would give the integration user's currency
    assert "CurrencyIsoCode, RecordType.DeveloperName FROM Opportunity" in soql
    assert [(d.amount, d.currency, d.pipeline) for d in deals] == [
        (expected, "EUR", "Enterprise"),
        (Decimal("50"), "USD", None),
    ]
    assert connector.identity().home_currency == "USD"
    assert connector.identity().org_id == "00DA00000000001AAA"


def test_convert_currency_false_takes_amounts_as_they_are(
    rsps: responses.RequestsMock, waits: list[float]
) -> None:
    fields = {**OPPORTUNITY_FIELDS, "CurrencyIsoCode": "picklist"}
    _org(rsps, describe("Opportunity", fields))
    _rates(rsps, dated=None)
    rsps.get(f"{API}/queryAll/", json=query_page([sf_opportunity(Amount=1000.0, CurrencyIsoCode="EUR")]))
    connector = SalesforceConnector("sfdc", make_source(convert_currency=False), sleep=waits.append)

    [deal] = deals_of(connector)

    assert (deal.amount, deal.currency) == (Decimal("1000"), "EUR")
    assert connector.identity().home_currency is None  # mixed currencies: okrsync claims none


@pytest.mark.parametrize(
    ("picklist", "deal_type"),
    [
        ("Existing Customer - Renewal", "renewal"),
        ("New Customer", "new"),
        ("New Business", "new"),
        ("Existing Customer - Upgrade", "expansion"),
        ("Upsell", "expansion"),
        ("Expansion", "expansion"),
        ("Partner Referral", "other"),
        (None, "other"),
    ],
)
def test_deal_type_follows_the_type_picklist(
    org: responses.RequestsMock, sf_connector: SalesforceConnector, picklist: str | None, deal_type: str
) -> None:
    org.get(f"{API}/queryAll/", json=query_page([sf_opportunity(Type=picklist)]))

    assert deals_of(sf_connector)[0].type == deal_type


def test_calls_map_duration_outcome_and_direction(
    org: responses.RequestsMock, sf_connector: SalesforceConnector
) -> None:
    org.get(f"{API}/queryAll/", json=query_page([sf_task()]))

    [call] = calls_of(sf_connector)

    assert (call.occurred_at, call.duration_seconds, call.outcome, call.direction) == (
        datetime(2026, 9, 1, 8, 30, tzinfo=UTC),
        300,
        "Connected",
        "outbound",
    )
    assert "FROM Task WHERE (TaskSubtype = 'Call') AND " in soql_of(org.calls[-1])


def test_calls_fall_back_to_created_date_without_completed_date_time(
    rsps: responses.RequestsMock, waits: list[float]
) -> None:
    fields = {k: v for k, v in TASK_FIELDS.items() if k != "CompletedDateTime"}
    _org(rsps, describe("Task", fields), sobject="Task")
    rsps.get(f"{API}/queryAll/", json=query_page([sf_task(CompletedDateTime=None)]))
    connector = SalesforceConnector("sfdc", make_source(), sleep=waits.append)

    [call] = calls_of(connector)

    assert call.occurred_at == datetime(2026, 9, 1, 8, tzinfo=UTC)
    assert "CompletedDateTime" not in soql_of(rsps.calls[-1])


@pytest.mark.parametrize(
    ("closed", "won", "status", "closed_at"),
    [
        (True, True, "renewed", datetime(2026, 9, 30, tzinfo=UTC)),
        (True, False, "churned", datetime(2026, 9, 30, tzinfo=UTC)),
        (False, False, "open", None),
    ],
)
def test_renewal_status_follows_closed_and_won(
    org: responses.RequestsMock,
    sf_connector: SalesforceConnector,
    closed: bool,
    won: bool,
    status: str,
    closed_at: datetime | None,
) -> None:
    org.get(f"{API}/queryAll/", json=query_page([sf_opportunity(IsClosed=closed, IsWon=won)]))

    renewal = pulled(sf_connector, "renewals")[0].records[0]

    assert isinstance(renewal, Renewal)
    assert (renewal.status, renewal.closed_at, renewal.due_date) == (status, closed_at, date(2026, 9, 30))


def test_yaml_fields_and_attributes_override_the_mapping(
    org: responses.RequestsMock, waits: list[float]
) -> None:
    source = make_source(
        streams={
            "deals": {
                "object": "Opportunity",
                "fields": {"stage": "name"},
                "attributes": {"amount_raw": "Amount"},
            }
        }
    )
    org.get(f"{API}/queryAll/", json=query_page([sf_opportunity(Name="Big deal", Amount=10.5)]))
    connector = SalesforceConnector("sfdc", source, sleep=waits.append)

    [deal] = deals_of(connector)

    assert (deal.stage, deal.attributes) == ("Big deal", {"amount_raw": 10.5})
    assert "StageName" not in soql_of(org.calls[-1])


def test_owners_are_every_user_with_lower_cased_email(
    org: responses.RequestsMock, waits: list[float]
) -> None:
    org.get(f"{API}/query/", json=query_page([sf_user(), sf_user(Id="005B", IsActive=False, Email=None)]))
    connector = SalesforceConnector(
        "sfdc", make_source(owners={"team_field": "Department"}), sleep=waits.append
    )

    pages = list(connector.pull_owners())

    owners = pages[0].owners
    assert [(o.id, o.email, o.active, o.team, o.record_id) for o in owners] == [
        ("005A", "ana@example.com", True, "EMEA", "005A"),
        ("005B", None, False, "EMEA", "005B"),
    ]
    assert (
        soql_of(org.calls[-1])
        == "SELECT Id, Name, Email, IsActive, SystemModstamp, Department FROM User ORDER BY Id"
    )


def _org(
    rsps: responses.RequestsMock, description: dict[str, object], *, sobject: str = "Opportunity"
) -> None:
    rsps.post(f"{HOST}/services/oauth2/token", json={"access_token": "t"})
    rsps.get(f"{API}/sobjects/{sobject}/describe/", json=description)
