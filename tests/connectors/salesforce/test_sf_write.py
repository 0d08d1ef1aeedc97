"""Write-back through sObject Collections: batching, upserts, per-record results, value formats."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import responses

from connectors.salesforce import SalesforceConnector
from connectors.salesforce.write import to_json_value
from syncer.contract import WriteItem, WriteResult
from syncer.errors import QuotaExhaustedError, SourceUnreachableError
from syncer.retry import WRITE_RETRY_WAITS_SECONDS
from tests.connectors.salesforce.builders import API, save_result, sf_error
from tests.connectors.salesforce.conftest import make_source
from tests.connectors.transport_servers import untrusted_tls_server

COLLECTIONS = f"{API}/composite/sobjects"


def body_of(call: responses.Call) -> dict[str, object]:
    return json.loads(call.request.body or b"{}")  # type: ignore[no-any-return]


def user_item(n: int, **fields: object) -> WriteItem:
    return WriteItem(object="User", record_id=f"005{n:04d}", fields={"Q_Revenue__c": n, **fields})  # type: ignore[dict-item]


def test_updates_go_in_calls_of_200_and_results_stay_in_order(
    org: responses.RequestsMock, sf_connector: SalesforceConnector, waits: list[float]
) -> None:
    items = [user_item(n) for n in range(450)]
    for chunk in (items[:200], items[200:400], items[400:]):
        saved = [save_result(i.record_id) for i in chunk]
        if chunk[0] is items[0]:
            saved[3] = save_result(
                None, code="UNABLE_TO_LOCK_ROW", message="unable to obtain exclusive access"
            )
            saved[4] = save_result(None, code="INVALID_FIELD_FOR_INSERT_UPDATE", message="not editable")
        org.patch(COLLECTIONS, json=saved)
    locked = save_result(None, code="UNABLE_TO_LOCK_ROW", message="unable to obtain exclusive access")
    for _ in WRITE_RETRY_WAITS_SECONDS:  # the lock outlasts every retry of this run
        org.patch(COLLECTIONS, json=[locked])

    results = sf_connector.write(items)

    writes = [c for c in org.calls if c.request.method == "PATCH"]
    assert [len(body_of(c)["records"]) for c in writes] == [200, 200, 50, 1, 1, 1]  # type: ignore[arg-type]
    assert waits == list(WRITE_RETRY_WAITS_SECONDS)
    assert all(body_of(c)["allOrNone"] is False for c in writes)
    assert len(results) == 450
    assert results[3] == WriteResult(
        ok=False,
        record_id="0050003",
        error_code="UNABLE_TO_LOCK_ROW",
        message="unable to obtain exclusive access",
        retryable=True,
    )
    assert (results[4].error_code, results[4].retryable) == ("INVALID_FIELD_FOR_INSERT_UPDATE", False)
    assert [r.record_id for r in results if r.ok] == [
        i.record_id for n, i in enumerate(items) if n not in (3, 4)
    ]


def test_update_record_carries_type_id_and_fields(
    org: responses.RequestsMock, sf_connector: SalesforceConnector
) -> None:
    org.patch(COLLECTIONS, json=[save_result("0050001")])

    sf_connector.write([user_item(1, Q_Revenue_Status__c="on_track", Q_Revenue_Target__c=None)])

    assert body_of(org.calls[-1])["records"] == [
        {
            "attributes": {"type": "User"},
            "id": "0050001",
            "Q_Revenue__c": 1,
            "Q_Revenue_Status__c": "on_track",
            "Q_Revenue_Target__c": None,
        }
    ]


def test_upsert_uses_the_external_id_url_and_no_record_id(
    org: responses.RequestsMock, sf_connector: SalesforceConnector
) -> None:
    url = f"{API}/composite/sobjects/Key_Result__c/Okr_Key__c"
    org.patch(
        url,
        json=[
            {"id": "a01A", "success": True, "errors": [], "created": True},
            save_result(None, code="DUPLICATE_VALUE"),
        ],
    )
    items = [
        WriteItem(
            "Key_Result__c",
            None,
            {"Value__c": 5.5},
            upsert_key="Okr_Key__c",
            upsert_value="q-revenue.revenue",
        ),
        WriteItem(
            "Key_Result__c",
            None,
            {"Value__c": 1.0},
            upsert_key="Okr_Key__c",
            upsert_value="q-revenue.revenue.ana",
        ),
    ]

    results = sf_connector.write(items)

    assert body_of(org.calls[-1])["records"] == [
        {"attributes": {"type": "Key_Result__c"}, "Okr_Key__c": "q-revenue.revenue", "Value__c": 5.5},
        {"attributes": {"type": "Key_Result__c"}, "Okr_Key__c": "q-revenue.revenue.ana", "Value__c": 1.0},
    ]
    assert [(r.ok, r.record_id, r.error_code) for r in results] == [
        (True, "a01A", None),
        (False, None, "DUPLICATE_VALUE"),
    ]


def test_mixed_items_keep_their_order(org: responses.RequestsMock, sf_connector: SalesforceConnector) -> None:
    org.patch(f"{API}/composite/sobjects/Key_Result__c/Okr_Key__c", json=[save_result("a01A")])
    org.patch(COLLECTIONS, json=[save_result("0050001"), save_result("0050002")])
    items = [
        user_item(1),
        WriteItem("Key_Result__c", None, {"Value__c": 1}, upsert_key="Okr_Key__c", upsert_value="k"),
        user_item(2),
    ]

    results = sf_connector.write(items)

    assert [r.record_id for r in results] == ["0050001", "a01A", "0050002"]


def test_batch_refused_as_a_whole_fails_each_item(
    org: responses.RequestsMock, sf_connector: SalesforceConnector
) -> None:
    org.patch(
        COLLECTIONS,
        status=400,
        json=sf_error("INVALID_FIELD", "No such column 'Nope__c' on sobject of type User"),
    )

    results = sf_connector.write([user_item(1), user_item(2)])

    assert [(r.ok, r.error_code) for r in results] == [(False, "INVALID_FIELD"), (False, "INVALID_FIELD")]
    assert "No such column" in (results[0].message or "")


def test_write_quota_exhaustion_stops_the_source(
    org: responses.RequestsMock, sf_connector: SalesforceConnector
) -> None:
    org.patch(COLLECTIONS, status=403, json=sf_error("REQUEST_LIMIT_EXCEEDED"))

    with pytest.raises(QuotaExhaustedError):
        sf_connector.write([user_item(1)])


def test_an_untrusted_certificate_stops_the_write_instead_of_refusing_each_item(waits: list[float]) -> None:
    # A static token: the first request is the write itself.
    auth = {"method": "access_token", "access_token": "00Dtoken-never-shown"}
    with untrusted_tls_server() as port:
        source = make_source(instance_url=f"https://127.0.0.1:{port}", auth=auth)
        connector = SalesforceConnector("sfdc", source, sleep=waits.append)
        with pytest.raises(SourceUnreachableError, match="TLS certificate not trusted") as raised:
            connector.write([user_item(n) for n in range(250)])  # two calls planned: the first fails

    assert waits == []
    assert str(raised.value).startswith(
        f"sfdc: write composite/sobjects failed: cannot reach 127.0.0.1:{port}: "
    )
    assert "00Dtoken-never-shown" not in str(raised.value)


def test_items_salesforce_could_not_address_are_refused_without_a_call(
    rsps: responses.RequestsMock, sf_connector: SalesforceConnector
) -> None:
    items = [
        WriteItem("User/../x", "0050001", {"A__c": 1}),
        WriteItem("Key_Result__c", None, {"A__c": 1}, upsert_key="Key__c"),
    ]

    results = sf_connector.write(items)

    assert [r.error_code for r in results] == ["INVALID_NAME", "NO_TARGET"]
    assert len(rsps.calls) == 0


def test_nothing_to_write_makes_no_call(
    rsps: responses.RequestsMock, sf_connector: SalesforceConnector
) -> None:
    assert sf_connector.write([]) == []
    assert len(rsps.calls) == 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2026, 10, 5, 12, 30, 1, 250_000, tzinfo=UTC), "2026-10-05T12:30:01.250+0000"),
        (datetime(2026, 10, 5, 14, 0, tzinfo=timezone(timedelta(hours=2))), "2026-10-05T12:00:00.000+0000"),
        (date(2026, 12, 31), "2026-12-31"),
        (Decimal("412000.00"), 412000),
        (Decimal("0.72"), 0.72),
        (float("nan"), None),
        (None, None),
        (True, True),
        ("on_track", "on_track"),
    ],
)
def test_values_are_written_as_salesforce_reads_them(value: object, expected: object) -> None:
    assert to_json_value(value) == expected
