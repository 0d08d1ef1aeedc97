"""One generated org end to end: seed the sandbox, write the YAML, run a full cycle on a frozen
clock, read back every write-back field the sandbox holds, and compare it with the oracle.

A mismatch names the seed, the record, the field, expected and got, the oracle's reasoning and
the raw records that decided the value, so `OKRSYNC_DIFFERENTIAL_SEED=<seed>` reproduces it.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from sandbox.hubspot import HubSpotSandbox
from sandbox.salesforce import SalesforceSandbox
from syncer.commands.crm import connector_factory, ensure_fields
from syncer.config import load_settings
from syncer.cycle import run_cycle
from syncer.fields import required_fields
from syncer.store.database import open_store
from tests.differential import seed_hubspot, seed_salesforce
from tests.differential.config_yaml import KEYED_OBJECT, SOURCE, UPSERT_ON, config_text
from tests.differential.oracle import ExpectedRecord, expected_records
from tests.differential.scenario import Scenario

Raw = dict[str, list[dict[str, Any]]]
SF_RAW_OBJECTS = ("User", "Opportunity", "Task", "CurrencyType", "DatedConversionRate")


@dataclass
class Mismatch:
    kind: str  # field / missing record / extra record / cycle
    object: str
    record: str
    field: str
    expected: Any
    got: Any
    detail: str = ""
    in_scope: tuple[str, ...] = ()  # raw record ids the oracle counted (this period and the baseline's)
    considered: tuple[str, ...] = ()  # raw record ids of the stream and group, counted or not


@dataclass
class Outcome:
    scenario: Scenario
    config: str
    mismatches: list[Mismatch] = field(default_factory=list)
    raw: Raw = field(default_factory=dict)  # what the oracle read for the last cycle
    phase: str = ""  # the last cycle: first, or second after the edits
    now: datetime | None = None  # its clock


@dataclass
class Crm:
    """One running sandbox and what it takes to run a scenario against it."""

    name: str
    sandbox: SalesforceSandbox | HubSpotSandbox
    env: dict[str, str]
    template_store: Path
    ensured: set[tuple[str, str]] = field(default_factory=set)


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def salesforce_raw(sf: SalesforceSandbox) -> Raw:
    raw: Raw = {}
    for name in SF_RAW_OBJECTS:
        if sf.org.schema.object(name) is not None:
            rows = sf.org.records(name, include_deleted=True) if name != "User" else sf.org.records(name)
            raw[name] = [{k: jsonable(v) for k, v in row.items()} for row in rows]
    if "CurrencyType" not in raw:  # a sandbox without the object: its own rates, as rows
        raw["CurrencyType"] = [
            {"IsoCode": code, "ConversionRate": rate, "IsCorporate": code == sf.org.corporate_currency}
            for code, rate in sf.org.currency_rates.items()
        ]
    return raw


def hubspot_raw(hs: HubSpotSandbox) -> Raw:
    def rows(name: str) -> list[dict[str, Any]]:
        records = hs.records(name) + hs.records(name, archived=True)
        return [{"id": r.id, "properties": dict(r.properties), "archived": r.archived} for r in records]

    return {"owners": [dict(o) for o in hs.portal.owners], "pipelines": hs.portal.pipelines,
            "deals": rows("deals"), "calls": rows("calls")}  # fmt: skip


EDITED_AFTER = timedelta(hours=1)  # the edits happen an hour after the first cycle,
SECOND_CYCLE_AFTER = timedelta(hours=1, minutes=30)  # the second cycle half an hour later


def run_scenario(crm: Crm, scenario: Scenario, workdir: Path, *, store_url: str | None = None) -> Outcome:
    """Seed, cycle, compare; then apply the scenario's edits, cycle again and compare again.

    The store is a copy of the migrated template SQLite file, or `store_url` (an empty database).
    """
    sandbox = crm.sandbox
    sandbox.clock.advance(scenario.now - sandbox.clock.now())
    if isinstance(sandbox, SalesforceSandbox):
        ids = seed_salesforce.seed(sandbox, scenario)
    else:
        ids = seed_hubspot.seed(sandbox, scenario)
    store_path = workdir / f"{scenario.crm}-{scenario.seed}.db"
    if store_url is None:
        shutil.copyfile(crm.template_store, store_path)
    text = config_text(scenario, store_url or f"sqlite:///{store_path}")
    outcome = Outcome(scenario, text)
    config_file = workdir / f"{scenario.crm}-{scenario.seed}.yaml"
    config_file.write_text(text)
    try:
        settings = load_settings(config_file, crm.env)
    except Exception as exc:  # a refused YAML is a finding, not a crash of the harness
        outcome.mismatches.append(
            Mismatch("config", "-", "-", "-", "accepted", f"{type(exc).__name__}: {exc}")
        )
        return outcome
    _ensure(crm, settings)
    cycle_and_compare(crm, settings, outcome, scenario.now, "first cycle")
    if not outcome.mismatches and scenario.edits:
        sandbox.clock.advance(EDITED_AFTER)
        if isinstance(sandbox, SalesforceSandbox):
            seed_salesforce.apply_edits(sandbox, scenario, ids)
        else:
            seed_hubspot.apply_edits(sandbox, scenario, ids)
        later = scenario.now + SECOND_CYCLE_AFTER
        sandbox.clock.advance(later - sandbox.clock.now())
        cycle_and_compare(crm, settings, outcome, later, "second cycle, after edits")
    store_path.unlink(missing_ok=True)
    config_file.unlink(missing_ok=True)
    return outcome


def cycle_and_compare(crm: Crm, settings: Any, outcome: Outcome, now: datetime, phase: str) -> None:
    """One cycle at `now`, then every write-back field against the oracle over the raw records."""
    sandbox = crm.sandbox
    raw = salesforce_raw(sandbox) if isinstance(sandbox, SalesforceSandbox) else hubspot_raw(sandbox)
    outcome.raw, outcome.phase, outcome.now = raw, phase, now
    store = open_store(settings.store)
    try:
        report = run_cycle(settings, store, connector_factory(settings), clock=lambda: now)
    finally:
        store.close()
    if report.exit_code != 0:
        errors = [*report.errors, *(e for p in report.pushes for e in p.errors)]
        outcome.mismatches.append(
            Mismatch("cycle", "-", "-", "exit code", 0, report.exit_code, "; ".join(errors))
        )
    config = yaml.safe_load(outcome.config)
    expected = expected_records(crm.name, raw, config, now)
    outcome.mismatches.extend(compare(crm, expected, config))


def _ensure(crm: Crm, settings: Any) -> None:
    """Create the write-back fields the sandbox lacks (once per field, as `fields ensure --apply`)."""
    wanted = {(spec.object, spec.field) for spec in required_fields(settings, SOURCE)}
    if wanted <= crm.ensured:
        return
    _, findings = ensure_fields(settings, SOURCE, apply=True)
    assert all(f.level == "ok" for f in findings), findings
    crm.ensured |= wanted


# ---------------------------------------------------------------- reading back and comparing


def held_records(crm: Crm, config: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(object, record key) → every custom field (Salesforce `…__c`) or non-system property
    (HubSpot) the sandbox holds now on the write-back records, written or not."""
    held: dict[tuple[str, str], dict[str, Any]] = {}
    for target in config["writeback"]:
        if isinstance(crm.sandbox, SalesforceSandbox):
            key = "Id" if target.get("match") == "owner" else UPSERT_ON["salesforce"]
            for row in crm.sandbox.org.records(target["object"]):
                custom = {n: v for n, v in row.items() if n.endswith("__c") or n in target["fields"]}
                held[(target["object"], row[key])] = custom
        else:
            for record in crm.sandbox.records(target["object"]):
                props = record.properties
                custom = {n: v for n, v in props.items() if not n.startswith("hs_")}
                held[(target["object"], str(props.get(UPSERT_ON["hubspot"])))] = custom
    return held


def _scale(crm: Crm, object_name: str, field_name: str) -> int | None:
    if not isinstance(crm.sandbox, SalesforceSandbox):
        return None
    definition = crm.sandbox.org.schema.require(object_name).field(field_name)
    return (
        definition.scale
        if definition is not None and definition.type in ("double", "percent", "currency")
        else None
    )


def as_held(crm: Crm, object_name: str, field_name: str, expected: Any) -> Any:
    """The expected value as the CRM stores it: Salesforce rounds a number to its field's scale."""
    scale = _scale(crm, object_name, field_name)
    if isinstance(expected, float) and scale is not None:
        return float(round(Decimal(repr(expected)), scale))
    return expected


def same(expected: Any, got: Any) -> bool:
    if expected is None or got is None:
        return expected is None and got in (None, "")
    if isinstance(expected, float):
        try:
            number = float(got)
        except (TypeError, ValueError):
            return False
        return abs(number - expected) <= 1e-9 * max(1.0, abs(expected))
    return str(expected) == str(got)


def compare(crm: Crm, expected: list[ExpectedRecord], config: dict[str, Any]) -> list[Mismatch]:
    """Every field of every write-back record: the oracle's value, or empty for a field no
    target writes; a keyed record the oracle does not expect is a mismatch too. A group that is
    no longer shown (a departed team whose records left the period) may keep its record only
    with its values emptied or equal to what the group's value now is."""
    held = held_records(crm, config)
    mismatches: list[Mismatch] = []
    keys = set()
    for record in expected:
        keys.add((record.object, record.key))
        got = held.get((record.object, record.key))
        if got is None:
            if not record.optional:
                mismatches.append(_mismatch("missing record", record, "*", record.fields, None))
            continue
        found = _compare_record(crm, record, got)
        if record.optional and found and _emptied(record, got, config):
            continue
        mismatches.extend(_mismatch("stale record" if record.optional else kind, record, name, want, value)
                          for kind, name, want, value in found)  # fmt: skip
    keyed = KEYED_OBJECT[crm.name]
    for (object_name, key), fields in held.items():
        if object_name == keyed and (object_name, key) not in keys:
            mismatches.append(Mismatch("extra record", object_name, key, "*", None, fields))
    return mismatches


def _compare_record(crm: Crm, record: ExpectedRecord, got: dict[str, Any]) -> list[tuple[str, str, Any, Any]]:
    """(kind, field, expected, got) of every field that differs."""
    found = []
    for name, value in record.fields.items():
        want = as_held(crm, record.object, name, value)
        if not same(want, got.get(name)):
            found.append(("field", name, want, got.get(name)))
    untouched = set(got) - set(record.fields) - set(UPSERT_ON.values())
    for name in sorted(n for n in untouched if got[n] not in (None, "")):
        found.append(("field no target writes", name, None, got[name]))
    return found


def _emptied(record: ExpectedRecord, got: dict[str, Any], config: dict[str, Any]) -> bool:
    """Every field of the record is empty but its key (`*.key`) and the upsert key."""
    target = next(t for t in config["writeback"] if t["object"] == record.object)
    keys = {f for f, expression in target["fields"].items() if expression.endswith(".key")}
    return all(
        value in (None, "") for name, value in got.items() if name not in keys | set(UPSERT_ON.values())
    )


def _mismatch(kind: str, record: ExpectedRecord, name: str, expected: Any, got: Any) -> Mismatch:
    scored = record.why.get(name) or next(iter(record.why.values()), None)
    if scored is None:
        return Mismatch(kind, record.object, record.key, name, expected, got)
    return Mismatch(kind, record.object, record.key, name, expected, got, scored.note, scored.records,
                    scored.considered)  # fmt: skip


# ---------------------------------------------------------------- the failure message


def describe(outcome: Outcome, limit: int = 12) -> str:
    """The failure message: seed, phase, each mismatch with the oracle's reasoning, raw records."""
    scenario = outcome.scenario
    lines = [
        f"seed {scenario.seed} ({scenario.crm}): {len(outcome.mismatches)} mismatch(es); reproduce with "
        f"OKRSYNC_DIFFERENTIAL_SEED={scenario.seed} pytest -m differential tests/differential -k {scenario.crm}",
        f"zone {scenario.zone}, fiscal_year_start_month {scenario.fiscal_year_start_month}, "
        f"{outcome.phase} at {outcome.now}; edits between the cycles: {scenario.edits}",
    ]
    in_scope: set[str] = set()
    considered: list[str] = []
    for m in outcome.mismatches[:limit]:
        lines.append(f"- [{m.kind}] {m.object} {m.record} {m.field}: expected {m.expected!r}, got {m.got!r}")
        if m.kind in ("cycle", "config"):
            lines.append(f"    {m.detail}")
        elif m.detail:
            lines.append(f"    oracle: {m.detail}; counted: {', '.join(m.in_scope) or 'none'}")
        in_scope |= set(m.in_scope)
        considered += [i for i in m.considered if i not in considered]
    if len(outcome.mismatches) > limit:
        lines.append(f"- … {len(outcome.mismatches) - limit} more")
    lines.append("raw records of the streams and groups involved (* = counted by the oracle):")
    for row in _rows(outcome.raw, considered)[:RAW_ROWS_SHOWN]:
        mark = "*" if str(row.get("Id") or row.get("id")) in in_scope else " "
        lines.append(f" {mark} {json.dumps(row, default=str, sort_keys=True)}")
    for name in ("CurrencyType", "DatedConversionRate"):
        rows = [{k: r.get(k) for k in RATE_FIELDS if k in r} for r in outcome.raw.get(name, [])]
        if rows:
            lines.append(f"{name}: {json.dumps(rows, default=str)}")
    owners = [
        {k: u.get(k) for k in ("Id", "Email", "IsActive", "Department")} for u in outcome.raw.get("User", [])
    ]
    lines.append("owners: " + json.dumps(owners or outcome.raw.get("owners"), default=str))
    lines.append("config:\n" + outcome.config)
    return "\n".join(lines)


RAW_ROWS_SHOWN = 80
RATE_FIELDS = ("IsoCode", "ConversionRate", "IsCorporate", "StartDate", "NextStartDate")
SHOWN_FIELDS = {
    "Opportunity": ("Id", "OwnerId", "Amount", "CurrencyIsoCode", "CloseDate", "CreatedDate", "StageName",
                    "IsClosed", "IsWon", "Type", "IsDeleted", "SystemModstamp"),
    "Task": ("Id", "OwnerId", "TaskSubtype", "CreatedDate", "CompletedDateTime", "CallDurationInSeconds",
             "IsDeleted", "SystemModstamp"),
}  # fmt: skip
SHOWN_PROPERTIES = {
    "amount", "amount_in_home_currency", "deal_currency_code", "closedate", "createdate", "hubspot_owner_id",
    "pipeline", "dealstage", "hs_is_closed_won", "dealtype", "hs_timestamp", "hs_call_duration",
    "hs_lastmodifieddate",
}  # fmt: skip


def _rows(raw: Raw, ids: list[str]) -> list[dict[str, Any]]:
    """The raw rows with these ids, in that order, trimmed to the fields metrics read."""
    found: dict[str, dict[str, Any]] = {}
    for name, rows in raw.items():
        for row in rows:
            row_id = str(row.get("Id") or row.get("id"))
            if row_id in ids and name not in ("User", "owners"):
                if name in SHOWN_FIELDS:
                    trimmed = {k: row.get(k) for k in SHOWN_FIELDS[name] if k in row}
                else:  # HubSpot: id, archived, the properties metrics read
                    properties = {k: v for k, v in row["properties"].items() if k in SHOWN_PROPERTIES}
                    trimmed = {"id": row_id, "archived": row.get("archived"), "properties": properties}
                found[row_id] = {"object": name, **trimmed}
    return [found[i] for i in ids if i in found]
