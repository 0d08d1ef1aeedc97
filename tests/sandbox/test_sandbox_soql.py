"""SOQL as the sandbox evaluates it: every operator, literal and ordering rule, and Salesforce's errors.

Expected results are computed in Python from the org's records, so the tests do not depend on
what the sample org happens to contain.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from sandbox.salesforce import SalesforceSandbox, SandboxSettings
from sandbox.salesforce.errors import ApiError
from tests.sandbox.clients import NOW

Row = dict[str, Any]
TODAY = NOW.date()
QUARTER = (date(2026, 10, 1), date(2027, 1, 1))
NOV_1 = datetime(2026, 11, 1, tzinfo=UTC)


def _ids(sf: SalesforceSandbox, where: str) -> set[str]:
    return {row["Id"] for row in sf.org.select(f"SELECT Id FROM Opportunity WHERE {where}")}


def _expected(sf: SalesforceSandbox, keep: Callable[[Row, Callable[[str | None], Row]], bool]) -> set[str]:
    def parent(record_id: str | None) -> Row:
        return (sf.org.lookup(record_id) or {}) if record_id else {}

    return {r["Id"] for r in sf.org.records("Opportunity") if keep(r, parent)}


WHERE_CASES: list[tuple[str, Callable[[Row, Callable[[str | None], Row]], bool]]] = [
    ("Amount = 24000", lambda r, p: r["Amount"] == 24000),
    ("Amount > 50000", lambda r, p: r["Amount"] is not None and r["Amount"] > 50000),
    ("Amount >= 50000.5", lambda r, p: r["Amount"] is not None and r["Amount"] >= 50000.5),
    ("Amount < 10000", lambda r, p: r["Amount"] is not None and r["Amount"] < 10000),
    ("Amount <= 10000", lambda r, p: r["Amount"] is not None and r["Amount"] <= 10000),
    ("Amount = null", lambda r, p: r["Amount"] is None),
    ("Amount != null", lambda r, p: r["Amount"] is not None),
    ("Amount != 24000", lambda r, p: r["Amount"] != 24000),  # null rows are "not equal" too
    ("Amount <> 24000", lambda r, p: r["Amount"] != 24000),
    ("StageName = 'closed won'", lambda r, p: r["StageName"] == "Closed Won"),  # case-insensitive
    ("StageName IN ('Closed Won', 'Closed Lost')", lambda r, p: r["IsClosed"]),
    ("StageName NOT IN ('Closed Won', 'Closed Lost')", lambda r, p: not r["IsClosed"]),
    ("Name LIKE 'northwind%'", lambda r, p: r["Name"].lower().startswith("northwind")),
    ("Name LIKE '%Renewal 2026'", lambda r, p: r["Name"].endswith("Renewal 2026")),
    ("Name LIKE '_orthwind%'", lambda r, p: r["Name"][1:].lower().startswith("orthwind")),
    ("NOT Name LIKE '%Renewal%'", lambda r, p: "renewal" not in r["Name"].lower()),
    ("IsWon = true", lambda r, p: r["IsWon"]),
    ("IsWon = false", lambda r, p: not r["IsWon"]),
    ("IsWon = null", lambda r, p: not r["IsWon"]),  # a boolean null is false
    ("CloseDate = 2026-10-01", lambda r, p: r["CloseDate"] == date(2026, 10, 1)),
    (
        "CloseDate >= 2026-10-01 AND CloseDate < 2027-01-01",
        lambda r, p: QUARTER[0] <= r["CloseDate"] < QUARTER[1],
    ),
    ("CloseDate = THIS_QUARTER", lambda r, p: QUARTER[0] <= r["CloseDate"] < QUARTER[1]),
    ("CloseDate = LAST_QUARTER", lambda r, p: date(2026, 7, 1) <= r["CloseDate"] < QUARTER[0]),
    ("CloseDate < THIS_QUARTER", lambda r, p: r["CloseDate"] < QUARTER[0]),
    ("CloseDate > TODAY", lambda r, p: r["CloseDate"] > TODAY),
    ("CloseDate = YESTERDAY", lambda r, p: r["CloseDate"] == TODAY - timedelta(days=1)),
    ("CloseDate = LAST_N_DAYS:30", lambda r, p: TODAY - timedelta(days=30) <= r["CloseDate"] <= TODAY),
    ("CloseDate = NEXT_N_DAYS:10", lambda r, p: TODAY < r["CloseDate"] <= TODAY + timedelta(days=10)),
    ("SystemModstamp > 2026-11-01T00:00:00Z", lambda r, p: r["SystemModstamp"] > NOV_1),
    ("SystemModstamp > 2026-11-01T00:00:00.000Z", lambda r, p: r["SystemModstamp"] > NOV_1),
    ("SystemModstamp >= 2026-11-01T00:00:00+0000", lambda r, p: r["SystemModstamp"] >= NOV_1),
    ("SystemModstamp >= 2026-10-31T19:00:00-05:00", lambda r, p: r["SystemModstamp"] >= NOV_1),
    ("CreatedDate = LAST_N_DAYS:7", lambda r, p: r["CreatedDate"].date() >= TODAY - timedelta(days=7)),
    (
        "(StageName = 'Closed Won' OR StageName = 'Closed Lost') AND Amount > 50000",
        lambda r, p: r["IsClosed"] and r["Amount"] is not None and r["Amount"] > 50000,
    ),
    ("NOT (IsWon = true OR Amount = null)", lambda r, p: not r["IsWon"] and r["Amount"] is not None),
    ("Owner.Department = 'EMEA'", lambda r, p: p(r["OwnerId"]).get("Department") == "EMEA"),
    ("Owner.IsActive = false", lambda r, p: not p(r["OwnerId"]).get("IsActive")),
    (
        "RecordType.DeveloperName != 'Partner'",
        lambda r, p: p(r["RecordTypeId"]).get("DeveloperName") != "Partner",
    ),
    ("Account.Name LIKE 'North%'", lambda r, p: p(r["AccountId"]).get("Name", "").startswith("North")),
    (
        "Owner.Manager.Title = 'VP Sales'",
        lambda r, p: p(p(r["OwnerId"]).get("ManagerId")).get("Title") == "VP Sales",
    ),
    ("Probability >= 75 AND IsClosed = false", lambda r, p: r["Probability"] >= 75 and not r["IsClosed"]),
    ("Type = 'Renewal' AND IsClosed = true", lambda r, p: r["Type"] == "Renewal" and r["IsClosed"]),
]


@pytest.mark.parametrize(("where", "keep"), WHERE_CASES, ids=[case[0] for case in WHERE_CASES])
def test_where_matches_what_salesforce_would_return(
    sandbox: SalesforceSandbox, where: str, keep: Callable[[Row, Callable[[str | None], Row]], bool]
) -> None:
    assert _ids(sandbox, where) == _expected(sandbox, keep)


def test_operator_cases_are_not_vacuous(sandbox: SalesforceSandbox) -> None:
    """Most cases select some rows and leave others out, so they can tell right from wrong."""
    sizes = [len(_ids(sandbox, where)) for where, _ in WHERE_CASES]
    total = len(sandbox.org.records("Opportunity"))
    assert sum(0 < size < total for size in sizes) >= len(WHERE_CASES) - 4


def test_ids_match_in_15_and_18_character_forms(sandbox: SalesforceSandbox) -> None:
    owner = sandbox.org.records("Opportunity")[0]["OwnerId"]
    assert _ids(sandbox, f"OwnerId = '{owner[:15]}'") == _ids(sandbox, f"OwnerId = '{owner}'")
    assert _ids(sandbox, f"OwnerId IN ('{owner[:15]}')") == _ids(sandbox, f"OwnerId = '{owner}'")


def test_missing_parent_reads_as_null(sandbox: SalesforceSandbox) -> None:
    record_id = sandbox.org.insert(
        "Opportunity", {"Name": "No record type", "StageName": "Prospecting", "CloseDate": date(2026, 12, 1)}
    )
    assert record_id in _ids(sandbox, "RecordType.DeveloperName = null")
    assert record_id in _ids(sandbox, "RecordType.DeveloperName != 'Partner'")
    row = sandbox.org.select(f"SELECT RecordType.DeveloperName FROM Opportunity WHERE Id = '{record_id}'")
    assert row == [{"RecordType": None}]


def test_string_escapes_and_literal_wildcards(sandbox: SalesforceSandbox) -> None:
    tricky = sandbox.org.insert("Account", {"Name": "O'Brien \\ Sons\nLtd"})
    percent = sandbox.org.insert("Account", {"Name": "100% Organic_Farms"})
    assert sandbox.org.select(r"SELECT Id FROM Account WHERE Name = 'o\'brien \\ sons\nltd'") == [
        {"Id": tricky}
    ]
    assert sandbox.org.select(r"SELECT Id FROM Account WHERE Name LIKE '100\% Organic\_%'") == [
        {"Id": percent}
    ]
    assert sandbox.org.select(r"SELECT Id FROM Account WHERE Name LIKE '100\%Organic%'") == []


def test_order_by_several_fields_with_nulls_placement(sandbox: SalesforceSandbox) -> None:
    rows = sandbox.org.select(
        "SELECT Id, Amount, CloseDate FROM Opportunity ORDER BY Amount DESC NULLS FIRST, CloseDate, Id LIMIT 400"
    )
    records = sandbox.org.records("Opportunity")
    records.sort(key=lambda r: r["Id"])
    records.sort(key=lambda r: r["CloseDate"])
    records.sort(key=lambda r: (r["Amount"] is not None, -(r["Amount"] or 0)))
    assert [row["Id"] for row in rows] == [r["Id"] for r in records[:400]]
    assert rows[0]["Amount"] is None
    assert rows[-1]["Amount"] is not None


def test_default_null_order_is_first_ascending_and_last_descending(sandbox: SalesforceSandbox) -> None:
    ascending = sandbox.org.select("SELECT Amount FROM Opportunity ORDER BY Amount LIMIT 1")
    descending = sandbox.org.select("SELECT Amount FROM Opportunity ORDER BY Amount DESC")
    assert ascending == [{"Amount": None}]
    assert descending[0]["Amount"] is not None
    assert descending[-1]["Amount"] is None


def test_text_orders_case_insensitively(sandbox: SalesforceSandbox) -> None:
    names = [row["Name"] for row in sandbox.org.select("SELECT Name FROM User ORDER BY Name")]
    assert names == sorted(names, key=str.lower)


def test_limit_and_offset_slice_the_ordered_rows(sandbox: SalesforceSandbox) -> None:
    every = sandbox.org.select("SELECT Id FROM Task ORDER BY SystemModstamp, Id")
    page = sandbox.org.select("SELECT Id FROM Task ORDER BY SystemModstamp, Id LIMIT 10 OFFSET 5")
    assert page == every[5:15]


def test_select_nests_relationships_and_converts_currency(sandbox: SalesforceSandbox) -> None:
    rows = sandbox.org.select(
        "SELECT Id, Amount, CloseDate, convertCurrency(Amount) mine, Owner.Email, Owner.Manager.Name "
        "FROM Opportunity WHERE CurrencyIsoCode = 'GBP' AND Amount != null LIMIT 5"
    )
    [user] = sandbox.org.select(
        f"SELECT DefaultCurrencyIsoCode FROM User WHERE Id = '{sandbox.org.running_user_id}'"
    )
    dated = sandbox.org.select(
        "SELECT IsoCode, ConversionRate, StartDate, NextStartDate FROM DatedConversionRate"
    )

    def rate(code: str, day: str) -> float:
        if code == "USD":
            return 1.0
        return next(
            r["ConversionRate"]
            for r in dated
            if r["IsoCode"] == code and r["StartDate"] <= day and (r["NextStartDate"] or "9999") > day
        )

    assert rows
    assert user["DefaultCurrencyIsoCode"] == "EUR"  # not the corporate USD: convertCurrency() gives euros
    for row in rows:
        expected = row["Amount"] / rate("GBP", row["CloseDate"]) * rate("EUR", row["CloseDate"])
        assert row["mine"] == pytest.approx(expected, abs=0.01)
        assert row["Owner.Email"].endswith("@example.com")
        assert row["Owner.Manager.Name"]


def test_currency_objects_are_queryable_and_dated_rates_exist_only_with_acm() -> None:
    with_acm = SalesforceSandbox(now=datetime(2026, 11, 15, 12, tzinfo=UTC))
    without = SalesforceSandbox(
        now=datetime(2026, 11, 15, 12, tzinfo=UTC), settings=SandboxSettings(dated_rates=False)
    )

    corporate = with_acm.org.select("SELECT IsoCode FROM CurrencyType WHERE IsCorporate = true")
    [organization] = with_acm.org.select("SELECT Id FROM Organization")

    assert corporate == [{"IsoCode": "USD"}]
    assert organization["Id"] == with_acm.org.org_id
    assert {r["IsoCode"] for r in with_acm.org.select("SELECT IsoCode FROM DatedConversionRate")} == {
        "USD",
        "EUR",
        "GBP",
    }
    with pytest.raises(ApiError, match="INVALID_TYPE"):
        without.org.select("SELECT IsoCode FROM DatedConversionRate")


def test_query_hides_deleted_rows_and_query_all_shows_them(sandbox: SalesforceSandbox) -> None:
    live = sandbox.org.select("SELECT Id FROM Task")
    every = sandbox.org.select("SELECT Id, IsDeleted FROM Task", include_deleted=True)
    assert len(every) > len(live)
    assert {row["Id"] for row in every if not row["IsDeleted"]} == {row["Id"] for row in live}


ERROR_CASES = [
    ("SELECT Id FROM Opportunityy", "INVALID_TYPE", "sObject type 'Opportunityy' is not supported"),
    ("SELECT Foo__c FROM Opportunity", "INVALID_FIELD", "No such column 'Foo__c' on entity 'Opportunity'"),
    ("SELECT Ownr.Email FROM Opportunity", "INVALID_FIELD", "Didn't understand relationship 'Ownr'"),
    ("SELECT Owner.Foo FROM Opportunity", "INVALID_FIELD", "No such column 'Foo' on entity 'User'"),
    ("SELECT Id FROMM Opportunity", "MALFORMED_QUERY", "unexpected token: 'FROMM'"),
    ("SELECT Id FROM Opportunity; DELETE FROM Opportunity", "MALFORMED_QUERY", "unexpected token: ';'"),
    ("SELECT Id FROM Opportunity WHERE", "MALFORMED_QUERY", "unexpected token: '<EOF>'"),
    (
        "SELECT Id FROM Opportunity WHERE IsWon = true AND Amount > 5 OR IsClosed = false",
        "MALFORMED_QUERY",
        "OR",
    ),
    ("SELECT Id FROM Opportunity WHERE Name = 'open", "MALFORMED_QUERY", "unexpected token"),
    ("SELECT Id FROM Opportunity WHERE Name = 'a\\qb'", "MALFORMED_QUERY", "Illegal escape sequence"),
    ("SELECT Id FROM Opportunity WHERE Amount = '5'", "INVALID_FIELD", "must be of type currency"),
    ("SELECT Id FROM Opportunity WHERE Name = 5", "INVALID_FIELD", "must be of type string"),
    ("SELECT Id FROM Opportunity WHERE IsWon = 'true'", "INVALID_FIELD", "must be of type boolean"),
    (
        "SELECT Id FROM Opportunity WHERE CloseDate > 2026-10-01T00:00:00Z",
        "INVALID_FIELD",
        "must be of type date",
    ),
    (
        "SELECT Id FROM Opportunity WHERE SystemModstamp > 2026-10-01",
        "INVALID_FIELD",
        "must be of type dateTime",
    ),
    (
        "SELECT Id FROM Opportunity WHERE OwnerId = 'nope'",
        "INVALID_QUERY_FILTER_OPERATOR",
        "invalid ID field: nope",
    ),
    ("SELECT Id FROM Opportunity WHERE Description = 'x'", "INVALID_FIELD", "can not be filtered"),
    ("SELECT Id FROM Opportunity ORDER BY Description", "INVALID_FIELD", "can not be sorted"),
    ("SELECT Id, COUNT() FROM Opportunity", "MALFORMED_QUERY", "COUNT()"),
    ("SELECT convertCurrency(Name) FROM Opportunity", "INVALID_FIELD", "convertCurrency"),
    ("SELECT Id, id FROM Opportunity", "MALFORMED_QUERY", "duplicate field selected"),
    ("SELECT Id FROM Opportunity OFFSET 2001", "NUMBER_OUTSIDE_VALID_RANGE", "maximum SOQL offset"),
    ("SELECT Id FROM Opportunity WHERE CloseDate = LAST_N_DAYS", "MALFORMED_QUERY", "unexpected token"),
    ("SELECT Id FROM Opportunity WHERE Id IN (SELECT WhatId FROM Task)", "MALFORMED_QUERY", "sub-selects"),
]


@pytest.mark.parametrize(("soql", "code", "text"), ERROR_CASES, ids=[case[0] for case in ERROR_CASES])
def test_bad_statements_fail_as_salesforce_says(
    sandbox: SalesforceSandbox, soql: str, code: str, text: str
) -> None:
    with pytest.raises(ApiError) as caught:
        sandbox.org.select(soql)
    assert (caught.value.status, caught.value.error_code) == (400, code)
    assert text in caught.value.message


def test_errors_point_at_row_and_column(sandbox: SalesforceSandbox) -> None:
    with pytest.raises(ApiError) as caught:
        sandbox.org.select("SELECT Id\nFROM Opportunity\nWHERE Foo__c = 1")
    assert caught.value.message.startswith(
        "\nWHERE Foo__c = 1\n      ^\nERROR at Row:3:Column:7\nNo such column"
    )


def test_keywords_and_names_are_case_insensitive(sandbox: SalesforceSandbox) -> None:
    rows = sandbox.org.select(
        "select id, owner.email from opportunity where iswon = TRUE order by id limit 3"
    )
    assert rows
    assert set(rows[0]) == {"Id", "Owner.Email"}
