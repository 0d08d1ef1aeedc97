"""`match: owner` write-back shows "me / my team / my region / company" on each rep's own User record.

A full cycle against the Salesforce sandbox writes four fields on every active user: their own
count of won deals this quarter, their team's (the `teams:` map wins over the Department
field), their region's (Division) and the company's. A user in no team gets no team value;
inactive users get nothing. The expected numbers are counted here from the sandbox's raw User
and Opportunity records, with none of okrsync's code.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sandbox.salesforce import SalesforceSandbox
from sandbox.sample_records import SampleScale
from syncer.commands.crm import connector_factory, ensure_fields
from syncer.config import load_settings
from syncer.config.models import Settings
from syncer.cycle import run_cycle
from syncer.store.database import open_store

pytestmark = pytest.mark.integration
ZONE = ZoneInfo("America/New_York")
SCALE = SampleScale(reps=6, accounts=20, deals=120, renewals=10, calls=10, emails=0, quarters=2)
FIELDS = {"me": "Me_Won__c", "team": "Team_Won__c", "region": "Region_Won__c", "company": "Company_Won__c"}
CONFIG = """
version: 1
store: sqlite:///unused.db
timezone: America/New_York
sources:
  sfdc:
    kind: salesforce
    instance_url: ${SF_URL}
    ca_bundle: ${SF_CA}
    auth:
      method: client_credentials
      client_id: ${SF_ID}
      client_secret: ${SF_SECRET}
    owners: {team_field: Department, region_field: Division}
    streams:
      deals: {object: Opportunity}
teams:
  moved: [MOVED_EMAIL]
objectives:
  - key: won
    period: current_quarter
    key_results:
      - key: me
        metric: &won {kind: count, stream: deals, where: {is_won: true}, date: close_date}
        target: 10
        group_by: owner
      - key: team
        metric: *won
        target: 10
        group_by: team
      - key: region
        metric: *won
        target: 10
        group_by: region
      - key: company
        metric: *won
        target: 40
writeback:
  - source: sfdc
    object: User
    match: owner
    fields:
      Me_Won__c: won.me.value
      Team_Won__c: won.team.value
      Region_Won__c: won.region.value
      Company_Won__c: won.company.value
"""


@pytest.fixture
def sb() -> Iterator[SalesforceSandbox]:
    with SalesforceSandbox(scale=SCALE) as sandbox:
        yield sandbox


def moved_rep(sb: SalesforceSandbox) -> dict[str, Any]:
    """An active rep with a Department, whom the YAML's `teams:` puts in team `moved` instead."""
    return next(
        u for u in sorted(sb.org.records("User"), key=lambda u: u["Id"]) if u["IsActive"] and u["Department"]
    )


def settings_for(sb: SalesforceSandbox, tmp_path: Path, store_url: str) -> Settings:
    path = tmp_path / "okr.yaml"
    path.write_text(
        CONFIG.replace("MOVED_EMAIL", moved_rep(sb)["Email"].upper())
    )  # e-mails match in any case
    env = {
        "SF_URL": sb.instance_url,
        "SF_CA": sb.ca_bundle,
        "SF_ID": sb.client_id,
        "SF_SECRET": sb.client_secret,
    }
    return load_settings(path, env).model_copy(update={"store": store_url})


# ---------------------------------------------------------------- the independent computation


def this_quarter() -> tuple[date, date]:
    today = datetime.now(ZONE).date()
    first = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    after = date(first.year + (first.month == 10), (first.month + 3 - 1) % 12 + 1, 1)
    return first, after - timedelta(days=1)


def expected_fields(sb: SalesforceSandbox) -> dict[str, dict[str, float | None]]:
    """User id → the four values its record should hold (None: not written)."""
    start, end = this_quarter()
    users = {u["Id"]: u for u in sb.org.records("User")}
    moved = moved_rep(sb)["Id"]

    def team(user: dict[str, Any]) -> str | None:
        return "moved" if user["Id"] == moved else user["Department"]

    won = [
        o for o in sb.org.records("Opportunity") if o["IsWon"] and start <= o["CloseDate"] <= end
    ]  # every owner's deals, a departed rep's too
    by_owner = Counter(o["OwnerId"] for o in won)
    by_team = Counter(team(users[o["OwnerId"]]) for o in won if o["OwnerId"] in users)
    by_region = Counter(users[o["OwnerId"]]["Division"] for o in won if o["OwnerId"] in users)
    expected: dict[str, dict[str, float | None]] = {}
    for user in users.values():
        if not user["IsActive"]:
            expected[user["Id"]] = dict.fromkeys(FIELDS)
            continue
        expected[user["Id"]] = {
            "me": float(by_owner[user["Id"]]),
            "team": float(by_team[team(user)]) if team(user) else None,
            "region": float(by_region[user["Division"]]) if user["Division"] else None,
            "company": float(len(won)),
        }
    return expected


def written_fields(sb: SalesforceSandbox) -> dict[str, dict[str, float | None]]:
    return {
        u["Id"]: {name: None if u.get(field) is None else float(u[field]) for name, field in FIELDS.items()}
        for u in sb.org.records("User")
    }


def test_each_rep_record_shows_me_my_team_my_region_and_the_company(
    sb: SalesforceSandbox, tmp_path: Path, store_url: str
) -> None:
    settings = settings_for(sb, tmp_path, store_url)
    _, created = ensure_fields(settings, "sfdc", apply=True)  # `okrsync fields ensure --apply`
    assert all(f.level == "ok" for f in created), created
    store = open_store(store_url)
    try:
        report = run_cycle(settings, store, connector_factory(settings), clock=lambda: datetime.now(UTC))
    finally:
        store.close()

    assert report.exit_code == 0, report.errors
    expected = expected_fields(sb)
    assert written_fields(sb) == expected
    active = [u for u in sb.org.records("User") if u["IsActive"]]
    assert any(expected[u["Id"]]["team"] is None for u in active)  # the integration user: no team
    assert any(not u["IsActive"] for u in sb.org.records("User"))  # a departed rep: nothing written
    moved = expected[moved_rep(sb)["Id"]]
    assert moved["team"] == moved["me"]  # alone in the YAML's team `moved`, not in their Department's
    assert all(v["company"] and v["company"] > 0 for u, v in expected.items() if v["me"] is not None)
