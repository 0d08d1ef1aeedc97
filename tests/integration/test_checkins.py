"""Check-ins end to end: `okrsync checkin` as a user runs it, then real cycles against the sandbox.

A manual key result ("hire 2 AEs") gets its value only from check-ins: none before the first
one (nothing written), the checked-in value after a cycle, and a later check-in supersedes it.
A rep's own check-in reaches their User record. A note on a CRM-computed key result leaves its
value alone, and `--value` on one is refused. The expected CRM fields are worked out here from
the numbers typed and the sandbox's raw records, with none of okrsync's scoring code.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sandbox.salesforce import SalesforceSandbox
from sandbox.sample_records import SampleScale
from syncer.commands.crm import connector_factory, ensure_fields
from syncer.config import load_settings
from syncer.config.models import Settings
from syncer.cycle import CycleResult, run_cycle
from syncer.store import checkins
from syncer.store.database import open_store

pytestmark = pytest.mark.integration
ZONE = ZoneInfo("America/New_York")
SCALE = SampleScale(reps=4, accounts=10, deals=60, renewals=5, calls=5, emails=0, quarters=2)
OBJECT, KEY = "OKR_Key_Result__c", "OKR_Key__c"
CONFIG = """
version: 1
store: sqlite:///unused.db
timezone: America/New_York
sources:
  sfdc:
    kind: salesforce
    instance_url: ${SF_URL}
    ca_bundle: ${SF_CA}
    auth: {method: client_credentials, client_id: "${SF_ID}", client_secret: "${SF_SECRET}"}
    streams:
      deals: {object: Opportunity}
objectives:
  - key: won
    key_results:
      - key: deals
        metric: {kind: count, stream: deals, where: {is_won: true}, date: close_date}
        target: 1000
  - key: team
    key_results:
      - key: hires
        title: Hire 2 AEs
        metric: {kind: manual}
        baseline: 0
        target: 2
      - key: ramp
        title: Each new AE closes a first deal
        metric: {kind: manual}
        target: 1
        group_by: owner
        owner_targets: {REP_EMAIL: 1}
writeback:
  - source: sfdc
    object: OKR_Key_Result__c
    upsert_on: OKR_Key__c
    fields:
      Name: "*.key"
      Value__c: "*.value"
      Target__c: "*.target"
      Progress__c: "*.progress_pct"
      Expected__c: "*.expected"
      Status__c: "*.status"
  - source: sfdc
    object: User
    match: owner
    fields: {Ramp__c: team.ramp.value}
"""


@pytest.fixture
def sb() -> Iterator[SalesforceSandbox]:
    with SalesforceSandbox(scale=SCALE) as sandbox:
        yield sandbox


def the_rep(sb: SalesforceSandbox) -> dict[str, Any]:
    return next(
        u for u in sorted(sb.org.records("User"), key=lambda u: u["Id"]) if u["IsActive"] and u["Email"]
    )


def environment(sb: SalesforceSandbox) -> dict[str, str]:
    return {
        "SF_URL": sb.instance_url,
        "SF_CA": sb.ca_bundle,
        "SF_ID": sb.client_id,
        "SF_SECRET": sb.client_secret,
    }


def okrsync(
    config: Path, store_url: str, sb: SalesforceSandbox, *args: str
) -> subprocess.CompletedProcess[str]:
    """The CLI in its own process, as a manager types it (OKRSYNC_USER names who)."""
    env = {**environment(sb), "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "OKRSYNC_USER": "dana"}
    return subprocess.run(
        [sys.executable, "-m", "syncer", *args, "-c", str(config), "--store", store_url],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def cycle(settings: Settings, store_url: str) -> CycleResult:
    store = open_store(store_url)
    try:
        return run_cycle(settings, store, connector_factory(settings), clock=lambda: datetime.now(UTC))
    finally:
        store.close()


def record(sb: SalesforceSandbox, key: str) -> dict[str, Any] | None:
    return next((r for r in sb.org.records(OBJECT) if r.get(KEY) == key), None)


def status_from(progress: float, expected: float) -> str:
    """The README's status rule, applied to what the CRM record holds."""
    if progress >= 1:
        return "done"
    if progress >= expected:
        return "on_track"
    return "at_risk" if progress >= 0.7 * expected else "off_track"


def won_this_quarter(sb: SalesforceSandbox) -> int:
    today = datetime.now(ZONE).date()
    first = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    after = date(first.year + (first.month == 10), (first.month + 3 - 1) % 12 + 1, 1)
    return sum(1 for o in sb.org.records("Opportunity") if o["IsWon"] and first <= o["CloseDate"] < after)


def test_check_ins_are_written_back_superseded_and_notes_leave_crm_values_alone(
    sb: SalesforceSandbox, tmp_path: Path, store_url: str
) -> None:
    rep = the_rep(sb)
    config = tmp_path / "okr.yaml"
    config.write_text(CONFIG.replace("REP_EMAIL", rep["Email"].upper()))  # e-mails match in any case
    settings = load_settings(config, environment(sb)).model_copy(update={"store": store_url})
    _, created = ensure_fields(settings, "sfdc", apply=True)
    assert all(f.level == "ok" for f in created), created

    # Before any check-in: the manual key result is unknown, so nothing is written for it.
    assert cycle(settings, store_url).exit_code == 0
    assert record(sb, "team.hires") is None
    assert record(sb, "won.deals") is not None

    first = okrsync(config, store_url, sb, "checkin", "team.hires", "--value", "1", "--note", "Sam signed")
    assert first.returncode == 0, first.stderr
    assert "checked in team.hires (total) = 1 by dana" in first.stdout
    mine = okrsync(config, store_url, sb, "checkin", "team.ramp", "--group", rep["Email"], "--value", "1")
    assert mine.returncode == 0, mine.stderr
    assert cycle(settings, store_url).exit_code == 0

    hires = record(sb, "team.hires")
    assert hires is not None
    assert (hires["Value__c"], hires["Target__c"], hires["Progress__c"]) == (1, 2, 50)
    assert hires["Status__c"] == status_from(0.5, hires["Expected__c"])
    ramp = {u["Id"]: u.get("Ramp__c") for u in sb.org.records("User")}
    assert ramp[rep["Id"]] == 1
    assert all(value is None for user, value in ramp.items() if user != rep["Id"])  # none checked in

    # A second check-in supersedes the first; both stay on the record.
    second = okrsync(config, store_url, sb, "checkin", "team.hires", "--value", "2", "--by", "lee")
    assert second.returncode == 0, second.stderr
    assert "supersedes 1 by dana" in second.stdout
    # A note on a CRM-computed key result changes nothing; a value for one is refused.
    note = okrsync(config, store_url, sb, "checkin", "won.deals", "--note", "two deals slipped")
    assert note.returncode == 0, note.stderr
    assert "its value is unchanged" in note.stdout
    refused = okrsync(config, store_url, sb, "checkin", "won.deals", "--value", "999")
    assert refused.returncode == 2
    assert "drop --value to add a note" in refused.stderr
    unknown = okrsync(config, store_url, sb, "checkin", "team.hire", "--value", "1")
    assert unknown.returncode == 2
    assert "team.hires" in unknown.stderr  # the valid paths are listed
    assert cycle(settings, store_url).exit_code == 0

    hires = record(sb, "team.hires")
    assert hires is not None
    assert (hires["Value__c"], hires["Progress__c"], hires["Status__c"]) == (2, 100, "done")
    won = record(sb, "won.deals")
    assert won is not None
    assert won["Value__c"] == won_this_quarter(sb)

    store = open_store(store_url)
    try:
        with store.sessions() as session:
            listed = checkins.history(session, "team", "hires")
            notes = checkins.history(session, "won", "deals")
    finally:
        store.close()
    assert [(c.value, c.author) for c in listed] == [(2, "lee"), (1, "dana")]
    assert listed[1].note == "Sam signed"
    assert [(c.value, c.note) for c in notes] == [(None, "two deals slipped")]

    shown = okrsync(config, store_url, sb, "status")
    assert shown.returncode == 0, shown.stderr
    assert "Sam signed" in shown.stdout
    assert "two deals slipped" in shown.stdout
    assert "1 (superseded)" in shown.stdout
