"""Money in the corporate currency on a multi-currency org, and one org per store.

The sandbox org is multi-currency (corporate USD; EUR and GBP opportunities), has Advanced
Currency Management on (monthly dated rates), and its integration user's personal currency is
EUR, so convertCurrency() would give euros. The expected numbers are computed here, in plain
Python over the sandbox's raw Opportunity and DatedConversionRate rows, sharing no code with
syncer/ or connectors/.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from sandbox.salesforce import SalesforceSandbox, SandboxSettings
from syncer.cli import main
from syncer.store.database import open_store
from syncer.store.tables import SourceIdentityRow

pytestmark = pytest.mark.integration
CENT = Decimal("0.01")
CONFIG = """\
version: 1
store: {store}
timezone: UTC
sources:
  sfdc:
    kind: salesforce
    instance_url: ${{SF_URL}}
    ca_bundle: ${{SF_CA}}
    auth: {{method: client_credentials, client_id: "${{SF_ID}}", client_secret: "${{SF_SECRET}}"}}
    streams:
      deals: {{object: Opportunity}}
objectives:
  - key: q
    period: current_quarter
    key_results:
      - key: revenue
        metric: {{kind: sum, stream: deals, field: amount, where: {{is_won: true}}, date: close_date}}
        target: 1000000
        group_by: owner
writeback:
  - source: sfdc
    object: OKR_Key_Result__c
    upsert_on: OKR_Key__c
    fields: {{Name: "*.key", Value__c: "*.value"}}
"""


@pytest.fixture
def org() -> Iterator[SalesforceSandbox]:
    with SalesforceSandbox() as sb:  # wall-clock time: the cycle's quarter is today's
        yield sb


def configure(sb: SalesforceSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SF_URL", sb.instance_url)
    monkeypatch.setenv("SF_CA", sb.ca_bundle)
    monkeypatch.setenv("SF_ID", sb.client_id)
    monkeypatch.setenv("SF_SECRET", sb.client_secret)
    config = tmp_path / "okr.yaml"
    config.write_text(CONFIG.format(store=f"sqlite:///{tmp_path / 'okr.db'}"), encoding="utf-8")
    return config


def run(config: Path) -> int:
    # Records stamped in this second are left to the next cycle; start the cycle a second later.
    time.sleep(1.05 - datetime.now(UTC).microsecond / 1e6)
    return main(["run", "-c", str(config)])


def this_quarter() -> tuple[date, date]:
    today = datetime.now(UTC).date()
    start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    end = date(start.year + start.month // 10, (start.month + 2) % 12 + 1, 1) - timedelta(days=1)
    return start, end


def rate(dated: list[dict[str, Any]], code: str, day: date) -> Decimal:
    """Units of `code` per 1 USD on `day`: the DatedConversionRate row whose range holds it."""
    if code == "USD":
        return Decimal(1)
    [found] = [
        r["ConversionRate"]
        for r in dated
        if r["IsoCode"] == code
        and r["StartDate"] <= day
        and (r["NextStartDate"] is None or day < r["NextStartDate"])
    ]
    return Decimal(str(found))


def expected_revenue(sb: SalesforceSandbox) -> tuple[Decimal, dict[str, Decimal]]:
    """(total, per owner id) of won opportunities closing this quarter, each amount in USD at the
    dated rate of its CloseDate and rounded to the cent, as Salesforce converts it."""
    start, end = this_quarter()
    dated = sb.org.records("DatedConversionRate")
    total, per_owner = Decimal(0), dict[str, Decimal]()
    for opp in sb.org.records("Opportunity"):
        if not opp["IsWon"] or not start <= opp["CloseDate"] <= end or opp["Amount"] is None:
            continue
        usd = Decimal(str(opp["Amount"])) / rate(dated, opp["CurrencyIsoCode"], opp["CloseDate"])
        usd = usd.quantize(CENT, rounding=ROUND_HALF_UP)
        total += usd
        per_owner[opp["OwnerId"]] = per_owner.get(opp["OwnerId"], Decimal(0)) + usd
    return total, per_owner


def written(sb: SalesforceSandbox) -> dict[str, Decimal]:
    """OKR_Key__c → Value__c of the key-result records okrsync wrote."""
    return {
        r["OKR_Key__c"]: Decimal(str(r["Value__c"])).quantize(CENT)
        for r in sb.org.records("OKR_Key_Result__c")
        if r["Value__c"] is not None
    }


def test_revenue_is_in_the_corporate_currency_at_dated_rates_whatever_the_users_currency(
    org: SalesforceSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = configure(org, tmp_path, monkeypatch)
    [user] = [u for u in org.org.records("User") if u["Id"] == org.org.running_user_id]
    assert user["DefaultCurrencyIsoCode"] == "EUR"  # convertCurrency() would give euros
    currencies = {o["CurrencyIsoCode"] for o in org.org.records("Opportunity") if o["IsWon"]}
    assert currencies == {"USD", "EUR", "GBP"}

    assert run(config) == 0

    total, per_owner = expected_revenue(org)
    values = written(org)
    assert values["q.revenue"] == total
    emails = {u["Id"]: u["Email"].lower() for u in org.org.records("User")}
    owners = {f"q.revenue.{emails[owner]}": amount for owner, amount in per_owner.items()}
    assert {key: value for key, value in values.items() if key in owners} == owners
    assert len(owners) >= 3


def test_a_change_of_the_orgs_rates_is_followed_on_the_next_cycle(
    org: SalesforceSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = configure(org, tmp_path, monkeypatch)
    assert run(config) == 0
    before = written(org)["q.revenue"]
    # Finance corrects a EUR rate: no opportunity changes (their SystemModstamp stays).
    quarter = this_quarter()
    [deal, *_] = [
        o
        for o in org.org.records("Opportunity")
        if o["IsWon"] and o["CurrencyIsoCode"] == "EUR" and quarter[0] <= o["CloseDate"] <= quarter[1]
    ]
    [current] = [
        r
        for r in org.org.records("DatedConversionRate")
        if r["IsoCode"] == "EUR"
        and r["StartDate"] <= deal["CloseDate"]
        and (r["NextStartDate"] is None or deal["CloseDate"] < r["NextStartDate"])
    ]
    stamp = deal["SystemModstamp"]
    org.org.update("DatedConversionRate", current["Id"], {"ConversionRate": current["ConversionRate"] * 0.8})
    assert org.org.get("Opportunity", deal["Id"])["SystemModstamp"] == stamp

    assert run(config) == 0

    after = written(org)["q.revenue"]
    assert after == expected_revenue(org)[0]
    assert after != before


def test_a_second_org_on_the_same_store_is_refused_until_the_source_is_reset(
    org: SalesforceSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = configure(org, tmp_path, monkeypatch)
    assert run(config) == 0
    first = org.org.org_id
    other_settings = SandboxSettings(org_id="00DDn0000OTHERX")
    with SalesforceSandbox(settings=other_settings) as other:
        configure(other, tmp_path, monkeypatch)  # same file, same store, another org's URL
        capsys.readouterr()

        assert run(config) == 2
        err = capsys.readouterr().err
        assert first in err
        assert other.org.org_id in err
        assert "reset-source sfdc" in err
        assert other.requests.count(path_contains="queryAll") == 0  # nothing pulled
        assert other.requests.count(writes=True) == 0  # nothing written

        assert main(["check", "-c", str(config)]) == 2

        assert main(["db", "reset-source", "sfdc", "-c", str(config)]) == 2  # without --yes: counts only
        assert "run again with --yes" in capsys.readouterr().err
        assert main(["db", "reset-source", "sfdc", "-c", str(config), "--yes"]) == 0

        assert run(config) == 0
        assert written(other)["q.revenue"] == expected_revenue(other)[0]
    store = open_store(f"sqlite:///{tmp_path / 'okr.db'}")
    with store.sessions() as session:
        [row] = session.scalars(select(SourceIdentityRow)).all()
        assert (row.source, row.org_id, row.home_currency) == ("sfdc", other.org.org_id, "USD")
    store.close()


def test_check_reports_the_org_its_corporate_currency_and_dated_rates(
    org: SalesforceSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = configure(org, tmp_path, monkeypatch)

    main(["check", "-c", str(config)])

    out = capsys.readouterr().out
    assert f"org {org.org.org_id}" in out
    assert "home currency USD" in out
    assert "dated exchange rates: in use" in out
