"""The oracle itself, on raw records small enough to compute by hand: dated rates, local dates,
an even split of a relative target, the progress floor, values on owner records."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.differential.oracle import ExpectedRecord, expected_records

NOW = datetime(2026, 11, 15, 3, 0, tzinfo=UTC)  # Q4 of a January fiscal year, in every zone used here
KEYED = {"source": "crm", "object": "KR", "upsert_on": "Key",
         "fields": {"V": "*.value", "T": "*.target", "P": "*.progress_pct", "S": "*.status"}}  # fmt: skip


def config(kr: dict[str, Any], *, zone: str = "UTC", crm: str = "salesforce") -> dict[str, Any]:
    source: dict[str, Any] = {
        "streams": {"deals": {"object": "Opportunity"}},
        "owners": {"team_field": "Department"},
    }
    if crm == "hubspot":
        source = {"streams": {"deals": {"pipelines": ["default"]}}}
    return {
        "timezone": zone, "fiscal_year_start_month": 1, "sources": {"crm": source},
        "objectives": [{"key": "o", "period": "current_quarter", "key_results": [kr]}],
        "writeback": [KEYED],
    }  # fmt: skip


def by_key(records: list[ExpectedRecord]) -> dict[str, dict[str, Any]]:
    return {r.key: r.fields for r in records}


def user(user_id: str, email: str, *, active: bool = True, team: str | None = None) -> dict[str, Any]:
    return {"Id": user_id, "Email": email, "IsActive": active, "Department": team}


def opportunity(
    opp_id: str, owner: str, amount: float, currency: str, close: str, **more: Any
) -> dict[str, Any]:
    row = {"Id": opp_id, "OwnerId": owner, "Amount": amount, "CurrencyIsoCode": currency, "CloseDate": close,
           "IsClosed": True, "IsWon": True, "Type": "New Business", "IsDeleted": False,
           "CreatedDate": "2026-09-01T10:00:00+00:00"}  # fmt: skip
    return row | more


REVENUE = {"kind": "sum", "stream": "deals", "field": "amount", "where": {"is_won": True}}
RATES = [
    {"IsoCode": "USD", "ConversionRate": 1.0, "IsCorporate": True},
    {"IsoCode": "EUR", "ConversionRate": 0.8, "IsCorporate": False},
]


def test_salesforce_amounts_use_the_dated_rate_of_the_close_date() -> None:
    raw = {
        "User": [user("u1", "ana@example.com")],
        "Opportunity": [
            opportunity("o1", "u1", 900.0, "EUR", "2026-10-10"),  # dated 0.9 → 1,000 USD
            opportunity("o2", "u1", 800.0, "EUR", "2026-11-02"),  # dated 0.5 → 1,600 USD
            opportunity("o3", "u1", 500.0, "USD", "2026-10-20"),  # corporate: as is
            opportunity("o4", "u1", 999.0, "EUR", "2026-10-21", IsDeleted=True),
        ],
        "CurrencyType": RATES,
        "DatedConversionRate": [
            {
                "IsoCode": "EUR",
                "ConversionRate": 0.9,
                "StartDate": "0001-01-01",
                "NextStartDate": "2026-11-01",
            },
            {"IsoCode": "EUR", "ConversionRate": 0.5, "StartDate": "2026-11-01", "NextStartDate": None},
        ],
    }
    kr = {"key": "rev", "metric": REVENUE, "target": 6200}
    assert by_key(expected_records("salesforce", raw, config(kr), NOW))["o.rev"] == {
        "V": 3100.0, "T": 6200.0, "P": 50.0, "S": "on_track",  # 45.125 of Q4's 92 days gone: 49.05 %
    }  # fmt: skip


def test_hubspot_instants_fall_on_their_local_date() -> None:
    """00:30 on 1 October in Tokyo is 30 September in UTC: a Q4 deal in Tokyo, not in Los Angeles."""
    deal = {"id": "1", "archived": False, "properties": {
        "amount": "100", "amount_in_home_currency": "250", "closedate": "2026-09-30T15:30:00.000Z",
        "pipeline": "default", "dealstage": "closedwon", "hs_is_closed_won": "true", "hubspot_owner_id": "7",
    }}  # fmt: skip
    raw = {"owners": [{"id": "7", "email": "ana@example.com", "archived": False, "teams": []}],
           "pipelines": [], "deals": [deal], "calls": []}  # fmt: skip
    kr = {"key": "rev", "metric": REVENUE, "target": 1000}
    tokyo = by_key(expected_records("hubspot", raw, config(kr, zone="Asia/Tokyo", crm="hubspot"), NOW))
    los_angeles = by_key(
        expected_records("hubspot", raw, config(kr, zone="America/Los_Angeles", crm="hubspot"), NOW)
    )
    assert tokyo["o.rev"]["V"] == 250.0  # the home-currency amount
    assert los_angeles["o.rev"]["V"] == 0.0


def test_even_split_of_a_relative_target_and_the_progress_floor() -> None:
    """Last quarter 1,000 in all → +20 % is 1,200, split over 3 active owners: 400 each; the
    inactive rep's deal counts in the total only; a rep going the wrong way reads 0 %."""
    users = [user("u1", "ana@example.com"), user("u2", "Bo@Example.com"), user("u3", "cy@example.com"),
             user("u4", "dee@example.com", active=False)]  # fmt: skip
    deals = [
        opportunity("p1", "u1", 700.0, "USD", "2026-08-01"),
        opportunity("p2", "u4", 300.0, "USD", "2026-09-30"),
        opportunity("c1", "u1", 200.0, "USD", "2026-10-01"),
        opportunity("c2", "u4", 100.0, "USD", "2026-12-31"),
    ]
    raw = {"User": users, "Opportunity": deals, "CurrencyType": RATES}
    kr = {"key": "rev", "metric": REVENUE, "baseline": "previous_period", "target": "+20%",
          "group_by": "owner", "owner_targets": "even"}  # fmt: skip
    got = by_key(expected_records("salesforce", raw, config(kr), NOW))
    assert got["o.rev"] == {"V": 300.0, "T": 1200.0, "P": 25.0, "S": "off_track"}
    assert got["o.rev.ana@example.com"] == {"V": 200.0, "T": 400.0, "P": 50.0, "S": "on_track"}
    assert got["o.rev.bo@example.com"] == {"V": 0.0, "T": 400.0, "P": 0.0, "S": "off_track"}
    assert "o.rev.dee@example.com" not in got  # inactive: no per-owner value


@pytest.mark.parametrize(("value", "progress", "status"), [(0.5, 0.0, "off_track"), (0.2, 100.0, "done")])
def test_a_ratio_moving_the_wrong_way_reads_zero(value: float, progress: float, status: str) -> None:
    """Churn 0.4 → target −50 % = 0.2 (a decrease, counted from the baseline)."""
    won = round(value * 10)
    deals = [opportunity(f"d{n}", "u1", 1.0, "USD", "2026-10-05", IsWon=n < won) for n in range(10)]
    raw = {"User": [user("u1", "ana@example.com")], "Opportunity": deals, "CurrencyType": RATES}
    metric = {
        "kind": "ratio",
        "stream": "deals",
        "numerator": {"is_won": True},
        "denominator": {"is_closed": True},
    }
    kr = {"key": "churn", "metric": metric, "baseline": 0.4, "target": "-50%"}
    assert by_key(expected_records("salesforce", raw, config(kr), NOW))["o.churn"] == {
        "V": value, "T": 0.2, "P": progress, "S": status,
    }  # fmt: skip


def test_owner_records_show_me_my_team_and_the_company() -> None:
    users = [user("u1", "ana@example.com", team="East"), user("u2", "bo@example.com"),
             user("u3", "cy@example.com", active=False, team="East")]  # fmt: skip
    deals = [opportunity("a", "u1", 100.0, "USD", "2026-10-05"), opportunity("c", "u3", 50.0, "USD", "2026-10-06"),
             opportunity("b", "u2", 10.0, "USD", "2026-10-07")]  # fmt: skip
    raw = {"User": users, "Opportunity": deals, "CurrencyType": RATES}
    team_kr = {"key": "team", "metric": REVENUE, "target": 1, "group_by": "team"}
    cfg = config(team_kr)
    cfg["objectives"][0]["key_results"].append({"key": "all", "metric": REVENUE, "target": 1})
    cfg["writeback"] = [{"source": "crm", "object": "User", "match": "owner",
                         "fields": {"Team": "o.team.value", "All": "o.all.value"}}]  # fmt: skip
    got = by_key(expected_records("salesforce", raw, cfg, NOW))
    assert got == {
        "u1": {"Team": 150.0, "All": 160.0},  # East counts the departed rep's deal
        "u2": {"Team": None, "All": 160.0},  # no team: no team value
        "u3": {"Team": None, "All": None},  # inactive: nothing
    }
