"""Search in the HubSpot sandbox through hubspot-api-client: operators, groups, sort, the 10,000 cap."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from hubspot import HubSpot
from hubspot.crm.objects import ApiException

from sandbox.hubspot import HsRecord, HubSpotSandbox, HubSpotSettings
from sandbox.sample_org import SampleScale
from tests.sandbox.hubspot.conftest import NOW

CUTOFF_MS = "1767225600000"  # 2026-01-01T00:00:00Z


def _amount(record: HsRecord) -> Decimal | None:
    raw = record.properties.get("amount")
    return None if raw is None else Decimal(raw)


def _modified_ms(record: HsRecord) -> int:
    return int(record.updated_at.timestamp() * 1000)


# (filter, predicate over live deals): the sandbox must agree with a plain Python filter.
OPERATOR_CASES: list[tuple[dict[str, object], Callable[[HsRecord], bool]]] = [
    ({"propertyName": "dealstage", "operator": "EQ", "value": "closedwon"}, lambda r: r.properties["dealstage"] == "closedwon"),
    ({"propertyName": "pipeline", "operator": "NEQ", "value": "default"}, lambda r: r.properties["pipeline"] != "default"),
    ({"propertyName": "amount", "operator": "LT", "value": "10000"}, lambda r: (a := _amount(r)) is not None and a < 10000),
    ({"propertyName": "amount", "operator": "LTE", "value": "10000"}, lambda r: (a := _amount(r)) is not None and a <= 10000),
    ({"propertyName": "amount", "operator": "GT", "value": "50000"}, lambda r: (a := _amount(r)) is not None and a > 50000),
    ({"propertyName": "amount", "operator": "GTE", "value": "50000"}, lambda r: (a := _amount(r)) is not None and a >= 50000),
    ({"propertyName": "hs_lastmodifieddate", "operator": "BETWEEN", "value": CUTOFF_MS, "highValue": "2026-06-30T00:00:00Z"},
     lambda r: 1767225600000 <= _modified_ms(r) <= 1782777600000),
    ({"propertyName": "deal_currency_code", "operator": "IN", "values": ["EUR", "GBP"]},
     lambda r: r.properties["deal_currency_code"] in ("EUR", "GBP")),
    ({"propertyName": "dealtype", "operator": "NOT_IN", "values": ["newbusiness"]}, lambda r: r.properties["dealtype"] != "newbusiness"),
    ({"propertyName": "amount", "operator": "HAS_PROPERTY"}, lambda r: r.properties.get("amount") is not None),
    ({"propertyName": "amount", "operator": "NOT_HAS_PROPERTY"}, lambda r: r.properties.get("amount") is None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("search_filter", "expected"), OPERATOR_CASES, ids=[str(c[0]["operator"]) for c in OPERATOR_CASES]
)
def test_each_operator_matches_what_python_finds(
    hs: HubSpotSandbox,
    client: HubSpot,
    search_filter: dict[str, object],
    expected: Callable[[HsRecord], bool],
) -> None:
    body = {"filterGroups": [{"filters": [search_filter]}], "limit": 200, "properties": ["amount"]}
    response = client.crm.objects.search_api.do_search("deals", body)
    matching = [record.id for record in hs.records("deals") if expected(record)]
    assert 0 < response.total == len(matching)
    assert [record.id for record in response.results] == matching[:200]


def test_filters_and_within_a_group_and_or_across_groups(hs: HubSpotSandbox, client: HubSpot) -> None:
    won = {"propertyName": "dealstage", "operator": "EQ", "value": "closedwon"}
    big = {"propertyName": "amount", "operator": "GTE", "value": "50000"}
    renewals = {"propertyName": "pipeline", "operator": "EQ", "value": "renewals"}
    body = {"filterGroups": [{"filters": [won, big]}, {"filters": [renewals]}], "limit": 1}
    response = client.crm.objects.search_api.do_search("deals", body)
    expected = [
        r for r in hs.records("deals")
        if (r.properties["dealstage"] == "closedwon" and (_amount(r) or 0) >= 50000) or r.properties["pipeline"] == "renewals"
    ]  # fmt: skip
    assert response.total == len(expected)


def test_one_sort_orders_results_and_paging_continues_with_after(client: HubSpot) -> None:
    sort = [{"propertyName": "hs_lastmodifieddate", "direction": "DESCENDING"}]
    body = {"sorts": sort, "limit": 50, "properties": ["hs_lastmodifieddate"]}
    first = client.crm.objects.search_api.do_search("calls", body)
    second = client.crm.objects.search_api.do_search("calls", body | {"after": first.paging.next.after})
    stamps = [r.properties["hs_lastmodifieddate"] for r in [*first.results, *second.results]]
    assert stamps == sorted(stamps, reverse=True)
    assert first.paging.next.after == "50"


def test_archived_records_never_match(hs: HubSpotSandbox, client: HubSpot) -> None:
    archived = hs.records("deals", archived=True)[0]
    body = {
        "filterGroups": [
            {"filters": [{"propertyName": "hs_object_id", "operator": "EQ", "value": archived.id}]}
        ]
    }
    assert client.crm.objects.search_api.do_search("deals", body).total == 0


@pytest.mark.parametrize(("groups", "per_group"), [(6, 1), (1, 7), (4, 5)])
def test_too_many_filters_is_a_400(client: HubSpot, groups: int, per_group: int) -> None:
    one = {"propertyName": "amount", "operator": "HAS_PROPERTY"}
    body = {"filterGroups": [{"filters": [one] * per_group} for _ in range(groups)]}
    with pytest.raises(ApiException) as raised:
        client.crm.objects.search_api.do_search("deals", body)
    assert raised.value.status == 400


def test_search_limit_is_two_hundred(client: HubSpot) -> None:
    with pytest.raises(ApiException) as raised:
        client.crm.objects.search_api.do_search("deals", {"limit": 201})
    assert raised.value.status == 400


def test_paging_past_ten_thousand_results_is_a_400() -> None:
    scale = SampleScale(accounts=10, deals=20, renewals=5, calls=50, emails=0)
    with HubSpotSandbox(now=NOW, scale=scale, settings=HubSpotSettings(search_per_second=None)) as hs:
        touched = hs.bulk_touch("calls", 10_050)
        client = HubSpot(access_token=hs.access_token, host=hs.base_url)
        body = {"limit": 200, "after": "9800", "properties": ["hs_lastmodifieddate"]}
        last = client.crm.objects.search_api.do_search("calls", body)
        assert last.total == len(touched) == 10_050
        assert last.paging.next.after == "10000"
        with pytest.raises(ApiException) as raised:
            client.crm.objects.search_api.do_search("calls", body | {"after": last.paging.next.after})
        assert raised.value.status == 400
        assert '"category": "VALIDATION_ERROR"' in raised.value.body
        narrowed = {"propertyName": "hs_object_id", "operator": "GT", "value": last.results[-1].id}
        rest = client.crm.objects.search_api.do_search(
            "calls", {"filterGroups": [{"filters": [narrowed]}], "limit": 200}
        )
        assert rest.total == 50
