"""Drift repair, `okrsync push --force` and `okrsync plan`, end to end against both sandboxes.

Fields are edited by hand through each sandbox's own state, as a user editing a record in the
CRM would. What a repair must restore is what the CRM held before the edit, read from the
sandbox itself; call counts come from the sandboxes' request logs.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from sandbox.demo import DemoOrg, start_demo_org
from syncer.cli import main
from syncer.config.history import HUBSPOT_FIELDS, HUBSPOT_OBJECT
from syncer.store.database import open_store
from syncer.store.tables import LedgerRow, WritebackCheckRow

pytestmark = pytest.mark.integration
DEMO = Path(__file__).resolve().parents[2] / "config" / "demo.yaml"
KEY_RESULTS = "p_key_results"
# Every HubSpot object the demo writes, with the unique property its records are upserted on:
# the key results, and the weekly history records (README "History as CRM records").
HUBSPOT_KEYS = {KEY_RESULTS: "okr_key", HUBSPOT_OBJECT: HUBSPOT_FIELDS["key"]}
HS_BATCH = 100  # inputs per HubSpot batch read or upsert (docs/crm-apis.md)
UPDATED = "OKR_Updated__c"  # the demo's updated_at field: re-sent with a repair, never compared


@dataclass
class Org:
    demo: DemoOrg
    config: Path
    store_url: str

    def run(self, *argv: str) -> int:
        wait_next_second()
        return main([*argv, "-c", str(self.config)])

    def clear_logs(self) -> None:
        self.demo.salesforce.requests.clear()
        self.demo.hubspot.requests.clear()

    def age_checks(self, by: timedelta) -> None:
        """Move every object's last verification back, as if `by` had passed."""
        store = open_store(self.store_url)
        with store.sessions.begin() as session:
            for row in session.scalars(select(WritebackCheckRow)):
                row.verified_at -= by
        store.close()

    def ledger_rows(self) -> list[tuple[Any, ...]]:
        store = open_store(self.store_url)
        with store.sessions() as session:
            rows = session.execute(
                LedgerRow.__table__.select().order_by(LedgerRow.object, LedgerRow.target, LedgerRow.field)
            )
            found = [tuple(row) for row in rows]
        store.close()
        return found


def wait_next_second() -> None:
    """A cycle reads changes up to its start in whole seconds: start it after this second."""
    time.sleep(1.05 - datetime.now(UTC).microsecond / 1e6)


def demo_config(tmp_path: Path, store_url: str, verify: str | None) -> Path:
    text = DEMO.read_text().replace("sqlite:///okrsync-demo.db", store_url)
    if verify is not None:  # on every write-back target (the only list items starting `- source:`)
        text = text.replace("\n  - source: ", f"\n  - verify: {verify}\n    source: ")
    config = tmp_path / "okr.yaml"
    config.write_text(text)
    return config


def open_org(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, verify: str | None) -> Iterator[Org]:
    store_url = f"sqlite:///{tmp_path / 'okr.db'}"
    with start_demo_org() as demo:
        for name, value in demo.env.items():
            monkeypatch.setenv(name, value)
        org = Org(demo, demo_config(tmp_path, store_url, verify), store_url)
        assert main(["fields", "ensure", "--apply", "-c", str(org.config)]) == 0
        yield org


@pytest.fixture
def org(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Org]:
    """The demo org with its first cycle run: every field written, verify left at its default."""
    for opened in open_org(tmp_path, monkeypatch, verify=None):
        assert opened.run("run") == 0
        yield opened


# ---------------------------------------------------------------- hand edits


def edit_salesforce(org: Org) -> dict[tuple[str, str], Any]:
    """Five User fields on three reps changed by hand; (user id, field) → the value before."""
    sf = org.demo.salesforce
    reps = [u for u in sf.org.records("User") if u["IsActive"] and u["Q_Revenue__c"]]
    edits = {
        (reps[0]["Id"], "Q_Revenue__c"): 1.0,
        (reps[0]["Id"], "Q_Calls__c"): reps[0]["Q_Calls__c"] + 7,
        (reps[1]["Id"], "Q_Revenue_Status__c"): other_status(reps[1]["Q_Revenue_Status__c"]),
        (reps[1]["Id"], "Q_New_Deals__c"): 99.0,
        (reps[2]["Id"], "Q_Revenue_Progress__c"): None,  # reset, as a sandbox refresh would
    }
    before = {(rid, f): sf.org.get("User", rid)[f] for rid, f in edits}
    for (rid, field), value in edits.items():
        sf.org.update("User", rid, {field: value})
    assert all(sf.org.get("User", rid)[f] != before[(rid, f)] for rid, f in edits)
    return before


def edit_hubspot(org: Org) -> dict[tuple[str, str], Any]:
    """Five key-result properties on four records changed by hand; (okr_key, property) → before."""
    hs = org.demo.hubspot
    rows = [r for r in hs.records(KEY_RESULTS) if r.properties.get("okr_progress") not in (None, "")]
    edits = [
        (rows[0], "okr_value", "1"),
        (rows[0], "okr_target", "2"),
        (rows[1], "okr_status", other_status(rows[1].properties["okr_status"])),
        (rows[2], "okr_progress", ""),  # cleared
        (rows[3], "okr_value", str(float(rows[3].properties["okr_value"]) + 0.5)),
    ]
    before = {(r.properties["okr_key"], f): r.properties[f] for r, f, _ in edits}
    for record, field, value in edits:
        hs.update(KEY_RESULTS, record.id, {field: value})
    return before


def other_status(status: str) -> str:
    return "off_track" if status != "off_track" else "on_track"


def hubspot_values(org: Org, keys: set[str]) -> dict[str, dict[str, Any]]:
    return {
        r.properties["okr_key"]: dict(r.properties)
        for r in org.demo.hubspot.records(KEY_RESULTS)
        if r.properties.get("okr_key") in keys
    }


def hubspot_keys(org: Org) -> dict[str, set[str]]:
    """object → the upsert keys of the records okrsync wrote there, as the portal holds them."""
    return {
        obj: {r.properties[key] for r in org.demo.hubspot.records(obj) if r.properties.get(key)}
        for obj, key in HUBSPOT_KEYS.items()
    }


def fewest_batches(keys_by_object: dict[str, set[str]]) -> int:
    """HubSpot batch calls for every record: ⌈records/100⌉ per object."""
    return sum(math.ceil(len(keys) / HS_BATCH) for keys in keys_by_object.values())


def sf_write_fields(org: Org) -> list[dict[str, set[str]]]:
    """Per Salesforce write call: record id → the fields it sent (without attributes and id)."""
    calls = org.demo.salesforce.requests.filter(writes=True)
    return [
        {str(r.get("id") or r.get("OKR_Key__c")): set(r) - {"attributes", "id"} for r in call.body["records"]}
        for call in calls
    ]


def hs_write_fields(org: Org) -> list[dict[str, set[str]]]:
    """Per HubSpot write call: input id (record id or okr_key) → the properties it sent."""
    calls = org.demo.hubspot.requests.filter(writes=True)
    return [{str(i["id"]): set(i["properties"]) for i in call.body["inputs"]} for call in calls]


def expected_by_record(before: dict[tuple[str, str], Any]) -> dict[str, set[str]]:
    grouped: dict[str, set[str]] = {}
    for record, field in before:
        grouped.setdefault(record, set()).add(field)
    return grouped


# ---------------------------------------------------------------- drift repair


def test_a_cycle_before_verify_is_due_sends_nothing_then_the_verifying_one_puts_back_the_five(
    org: Org, capsys: pytest.CaptureFixture[str]
) -> None:
    sf_before, hs_before = edit_salesforce(org), edit_hubspot(org)
    written_hs = hubspot_keys(org)
    assert all(written_hs.values())  # the first cycle wrote key results and history records
    capsys.readouterr()
    org.clear_logs()

    assert org.run("run") == 0  # daily verify, verified by the first cycle: not due
    assert org.demo.salesforce.requests.count(writes=True) == 0
    assert org.demo.hubspot.requests.count(writes=True) == 0
    assert org.demo.hubspot.requests.count(kind="batch_read") == 0
    assert "repaired" not in capsys.readouterr().out

    org.age_checks(timedelta(days=1, minutes=1))
    org.clear_logs()
    assert org.run("run") == 0
    out = capsys.readouterr().out

    # Salesforce: the three reps in ⌈3/200⌉ = 1 call, each with exactly its edited fields
    # (and its updated_at field, which says okrsync changed the record again).
    assert sf_write_fields(org) == [
        {rid: fields | {UPDATED} for rid, fields in expected_by_record(sf_before).items()}
    ]
    sf = org.demo.salesforce
    assert {(rid, f): sf.org.get("User", rid)[f] for rid, f in sf_before} == sf_before
    # HubSpot: the four records in ⌈4/100⌉ = 1 batch upsert, with exactly the edited properties.
    assert hs_write_fields(org) == [expected_by_record(hs_before)]
    restored = hubspot_values(org, {key for key, _ in hs_before})
    assert {(key, f): restored[key][f] for key, f in hs_before} == hs_before
    # Read back in the fewest calls: one query per Salesforce object, and per HubSpot object
    # ⌈records/100⌉ batch reads (key results and history records, every one okrsync wrote).
    queries = [r.params.get("q", "") for r in sf.requests.filter(kind="query")]
    assert sum("FROM User WHERE Id IN" in q for q in queries) == 1
    assert sum("FROM OKR_Key_Result__c WHERE OKR_Key__c IN" in q for q in queries) == 1
    assert org.demo.hubspot.requests.count(kind="batch_read") == fewest_batches(written_hs)

    assert "sfdc: wrote 8 fields on 3 records, 5 of them repaired" in out
    assert "hub: wrote 5 fields on 4 records, 5 of them repaired" in out
    store = open_store(org.store_url)
    with store.sessions() as session:
        from syncer.store.runs import recent

        assert recent(session, limit=1)[0].counts.details["repaired_fields"] == 10
    store.close()
    assert org.run("status") == 0
    status = capsys.readouterr().out
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in status.splitlines()]
    header = next(
        row
        for row in (line.split("┃")[1:-1] for line in status.splitlines())
        if row and row[0].strip() == "run"
    )
    columns = [cell.strip() for cell in header]
    [latest] = [row for row in rows if row and row[0] == "3"]
    assert (latest[columns.index("written")], latest[columns.index("repaired")]) == ("13", "10")

    org.clear_logs()
    assert org.run("run") == 0  # repaired and verified: nothing left to send
    assert org.demo.salesforce.requests.count(writes=True) == 0
    assert org.demo.hubspot.requests.count(writes=True) == 0


def test_verify_every_cycle_repairs_on_the_next_cycle_and_off_never_reads_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for org in open_org(tmp_path, monkeypatch, verify="every_cycle"):
        assert org.run("run") == 0
        sf_before, hs_before = edit_salesforce(org), edit_hubspot(org)
        org.clear_logs()
        assert org.run("run") == 0
        assert sf_write_fields(org) == [
            {rid: fields | {UPDATED} for rid, fields in expected_by_record(sf_before).items()}
        ]
        assert hs_write_fields(org) == [expected_by_record(hs_before)]

    off = tmp_path / "off"
    off.mkdir()
    for org in open_org(off, monkeypatch, verify="off"):
        assert org.run("run") == 0
        edit_salesforce(org)
        edit_hubspot(org)
        org.age_checks(timedelta(days=365))
        org.clear_logs()
        assert org.run("run") == 0
        assert org.demo.salesforce.requests.count(writes=True) == 0
        assert org.demo.hubspot.requests.count(writes=True) == 0
        assert org.demo.hubspot.requests.count(kind="batch_read") == 0


# ---------------------------------------------------------------- push --force


def test_push_force_resends_every_value_and_records_it_in_the_ledger(
    org: Org, capsys: pytest.CaptureFixture[str]
) -> None:
    hs = org.demo.hubspot
    user_fields = {"Q_Revenue__c", "Q_Revenue_Target__c", "Q_Calls__c"}
    written = {
        (u["Id"], f): u[f]
        for u in org.demo.salesforce.org.records("User")
        for f in user_fields
        if u[f] is not None
    }
    keys = hubspot_keys(org)  # key results and history records
    before_ledger = org.ledger_rows()
    org.clear_logs()

    assert org.run("push") == 0  # without --force: the ledger says nothing changed
    assert org.demo.salesforce.requests.count(writes=True) == 0
    assert hs.requests.count(writes=True) == 0

    assert org.run("push", "--force") == 0
    sent_sf = {rid for call in sf_write_fields(org) for rid in call}
    assert {rid for rid, _ in written} <= sent_sf
    sent_hs = hs_write_fields(org)
    assert {key for call in sent_hs for key in call} == set().union(*keys.values())
    assert len(sent_hs) == fewest_batches(keys)
    assert all(len(c.body["records"]) <= 200 for c in org.demo.salesforce.requests.filter(writes=True))
    out = capsys.readouterr().out
    assert "sfdc: wrote" in out
    assert "hub: wrote" in out
    after_ledger = org.ledger_rows()
    assert len(after_ledger) == len(before_ledger)
    assert all(a[5] > b[5] for a, b in zip(after_ledger, before_ledger, strict=True))  # written_at
    assert [a[:5] for a in after_ledger if a[3] != UPDATED] == [
        b[:5] for b in before_ledger if b[3] != UPDATED
    ]


# ---------------------------------------------------------------- plan


def test_plan_shows_the_pending_differences_with_the_crm_values_and_writes_nothing(
    org: Org, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert org.run("plan") == 0  # nothing differs: exit 0
    assert "nothing would change" in capsys.readouterr().out

    sf_before, hs_before = edit_salesforce(org), edit_hubspot(org)
    sf, hs = org.demo.salesforce, org.demo.hubspot
    edited_sf = {(rid, f): sf.org.get("User", rid)[f] for rid, f in sf_before}
    edited_hs = hubspot_values(org, {key for key, _ in hs_before})
    ledger_before = org.ledger_rows()
    org.clear_logs()

    assert org.run("plan", "--json") == 4
    report = json.loads(capsys.readouterr().out)
    changes = report["changes"]
    assert report["would_change"] == len(changes) == 5 + 3 + 5  # + each edited User's updated_at
    shown = {(c["record"], c["field"]): (c["current"], c["new"]) for c in changes if c["field"] != UPDATED}
    expected: dict[tuple[str, str], tuple[Any, Any]] = {}
    for (rid, f), was in sf_before.items():
        expected[(rid, f)] = (edited_sf[(rid, f)], was)
    for (key, f), was in hs_before.items():
        now = edited_hs[key][f]
        expected[(f"okr_key={key}", f)] = (None if now == "" else now, was)
    assert set(shown) == set(expected)
    for where, (current, new) in shown.items():
        want_current, want_new = expected[where]
        assert same(current, want_current), (where, current)
        assert same(new, want_new), (where, new)

    assert sf.requests.count(writes=True) == 0
    assert hs.requests.count(writes=True) == 0
    assert org.ledger_rows() == ledger_before
    assert {(rid, f): sf.org.get("User", rid)[f] for rid, f in sf_before} == edited_sf

    assert org.run("plan") == 4
    table = capsys.readouterr().out
    assert "A run would write 13 fields on 7 records" in table
    assert "nothing was written" in table


def test_plan_prints_crm_text_as_text_not_markup(org: Org, capsys: pytest.CaptureFixture[str]) -> None:
    sf = org.demo.salesforce
    rep = next(u for u in sf.org.records("User") if u["IsActive"] and u["Q_Revenue__c"])
    hs = org.demo.hubspot
    record = next(r for r in hs.records(KEY_RESULTS) if r.properties.get("okr_name"))
    hs.update(KEY_RESULTS, record.id, {"okr_name": "[b]x[/b]"})
    capsys.readouterr()

    assert org.run("plan") == 4
    out = capsys.readouterr().out
    assert "[b]x[/b]" in out
    assert rep["Id"] not in out  # only the drifted record is listed


def same(actual: Any, expected: Any) -> bool:
    """Equal as numbers when both read as numbers; otherwise equal as text (None is empty)."""
    try:
        return math.isclose(float(actual), float(expected), abs_tol=1e-9)
    except (TypeError, ValueError):
        return ("" if actual is None else str(actual)) == ("" if expected is None else str(expected))
