"""Read-back queries for drift repair: one per key field, cut under the URI limit, names checked."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import quote_plus

from connectors.salesforce.mapping import to_description
from connectors.salesforce.readback import MAX_ENCODED_QUERY, decimals, plan_queries, to_stored
from syncer.contract import RecordRef

DESCRIPTION = to_description(
    {
        "name": "OKR_Key_Result__c",
        "fields": [
            {"name": "Id", "type": "id"},
            {"name": "OKR_Key__c", "type": "string", "externalId": True},
            {"name": "Value__c", "type": "currency", "scale": 2},
            {"name": "Status__c", "type": "picklist"},
        ],
    }
)


def test_ids_and_keys_are_read_in_one_query_each_with_unknown_fields_left_out() -> None:
    refs = [RecordRef("a01000000000001AAA"), RecordRef(None, "okr_key__c", "q.revenue")]
    queries = plan_queries(DESCRIPTION, refs, ["value__c", "Status__c", "Gone__c"])
    assert [q.soql for q in queries] == [
        "SELECT Id, Value__c, Status__c FROM OKR_Key_Result__c WHERE Id IN ('a01000000000001AAA')",
        "SELECT Id, OKR_Key__c, Value__c, Status__c FROM OKR_Key_Result__c WHERE OKR_Key__c IN ('q.revenue')",
    ]


def test_a_long_in_list_is_cut_so_every_query_stays_under_the_uri_limit() -> None:
    refs = [RecordRef(None, "OKR_Key__c", f"o.kr.{i:05d}.{'é' * 30}'s") for i in range(2_000)]
    queries = plan_queries(DESCRIPTION, refs, ["Value__c"])
    assert all(len(quote_plus(q.soql)) <= MAX_ENCODED_QUERY for q in queries)
    assert [r for q in queries for r in q.refs] == refs  # every ref once, in order
    used = sum(len(quote_plus(q.soql)) for q in queries)
    assert len(queries) == -(-used // MAX_ENCODED_QUERY)  # no query left half empty


def test_rows_map_back_by_15_character_id_and_by_key_regardless_of_case() -> None:
    [by_id, by_key] = plan_queries(
        DESCRIPTION,
        [
            RecordRef("a01000000000001"),
            RecordRef(None, "OKR_Key__c", "Q.Revenue"),
            RecordRef("a01000000000002"),
        ],
        ["Value__c"],
    )
    rows = [{"Id": "a01000000000001AAA", "Value__c": Decimal("12.50")}]
    assert to_stored(by_id, rows, ["Value__c"], DESCRIPTION) == {"a01000000000001": {"Value__c": 12.5}}
    keyed = [{"Id": "a01000000000003AAA", "OKR_Key__c": "q.revenue", "Value__c": Decimal(7)}]
    assert to_stored(by_key, keyed, ["Value__c"], DESCRIPTION) == {"OKR_Key__c=Q.Revenue": {"Value__c": 7}}
    assert decimals(DESCRIPTION, ["Value__c", "Status__c"]) == {"Value__c": 2}
