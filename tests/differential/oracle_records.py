"""The oracle's reading of each CRM's RAW records (the JSON-like rows the sandbox serves) as facts.

Written for the test from the README's rules and the CRMs' documented fields, sharing no code
with syncer/ or connectors/ (test_oracle_imports checks it). Rules, stated here:

- Money is in the corporate (home) currency. Salesforce: Amount / ConversionRate of the record's
  CurrencyIsoCode, the DatedConversionRate in effect on CloseDate (StartDate ≤ CloseDate <
  NextStartDate) when the org has dated rates, else the CurrencyType rate; the corporate currency
  (IsCorporate) has rate 1. HubSpot: `amount_in_home_currency`, or `amount` when a single-currency
  portal leaves it empty.
- Every instant (Salesforce CreatedDate, CompletedDateTime; HubSpot closedate, createdate,
  hs_timestamp) counts by its local date in the configured time zone; a Salesforce date field
  (CloseDate) is a calendar day as it is.
- Deleted (IsDeleted) and archived records count nowhere; inactive (IsActive false) and archived
  owners are owners all the same, only not active.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

SF_TYPES = {"new business": "new", "existing business": "expansion", "renewal": "renewal"}
HS_TYPES = {"newbusiness": "new", "existingbusiness": "expansion"}
CONDITION = re.compile(r"^\s*(\w+)\s*(=|!=)\s*'([^']*)'\s*$")  # the YAML's one-condition `where`


@dataclass(frozen=True, slots=True)
class Fact:
    """One raw record as a metric sees it: canonical field name → value (dates already local)."""

    stream: str
    id: str
    owner_id: str | None
    deleted: bool
    fields: dict[str, Any]


@dataclass(frozen=True, slots=True)
class OwnerFact:
    id: str
    email: str | None  # trimmed, lower case
    active: bool
    team: str | None  # the CRM's own team field
    record_id: str  # the record a `match: owner` write targets


@dataclass(frozen=True, slots=True)
class Facts:
    owners: tuple[OwnerFact, ...]
    records: tuple[Fact, ...]


def _local_date(value: Any, zone: ZoneInfo) -> date | None:
    if value in (None, ""):
        return None
    text = str(value).replace("Z", "+00:00")
    if text.isdigit():
        instant = datetime.fromtimestamp(int(text) / 1000, UTC)
    else:
        instant = datetime.fromisoformat(text)
    if instant.tzinfo is None:
        raise ValueError(f"an instant without a zone: {value!r}")
    return instant.astimezone(zone).date()


def _day(value: Any) -> date | None:
    return None if value in (None, "") else date.fromisoformat(str(value)[:10])


def _money(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def _email(value: Any) -> str | None:
    text = str(value or "").strip().lower()
    return text or None


def _holds(where: str | None, row: dict[str, Any]) -> bool:
    if not where:
        return True
    match = CONDITION.match(where)
    if match is None:
        raise ValueError(f"the oracle reads only `Field = 'value'` conditions, not {where!r}")
    field, operator, value = match.groups()
    return (str(row.get(field)) == value) == (operator == "=")


# ---------------------------------------------------------------- Salesforce


def _sf_rate(raw: dict[str, list[dict[str, Any]]], code: str | None, day: date | None) -> Decimal:
    types = raw.get("CurrencyType") or []
    corporate = next((t["IsoCode"] for t in types if t.get("IsCorporate")), None)
    if code is None or code == corporate:
        return Decimal(1)
    dated = [r for r in raw.get("DatedConversionRate") or [] if r.get("IsoCode") == code]
    for rate in dated:
        start, end = _day(rate["StartDate"]), _day(rate.get("NextStartDate"))
        if day is not None and start is not None and start <= day and (end is None or day < end):
            return Decimal(str(rate["ConversionRate"]))
    found = next((t for t in types if t.get("IsoCode") == code), None)
    if found is None:
        raise ValueError(f"no CurrencyType row for {code}")
    return Decimal(str(found["ConversionRate"]))


def salesforce_facts(raw: dict[str, list[dict[str, Any]]], config: dict[str, Any]) -> Facts:
    zone = ZoneInfo(config["timezone"])
    source = next(iter(config["sources"].values()))
    team_field = (source.get("owners") or {}).get("team_field")
    owners = tuple(
        OwnerFact(
            u["Id"],
            _email(u.get("Email")),
            bool(u.get("IsActive")),
            (u.get(team_field) or None) if team_field else None,
            u["Id"],
        )
        for u in raw["User"]
    )
    records: list[Fact] = []
    for stream, spec in source["streams"].items():
        for row in raw[spec["object"]]:
            if _holds(spec.get("where"), row):
                records.append(_sf_fact(stream, row, raw, zone))
    return Facts(owners, tuple(records))


def _sf_fact(stream: str, row: dict[str, Any], raw: dict[str, list[dict[str, Any]]], zone: ZoneInfo) -> Fact:
    deleted = bool(row.get("IsDeleted"))
    if stream == "calls":
        occurred = row["CompletedDateTime"] if "CompletedDateTime" in row else row.get("CreatedDate")
        fields: dict[str, Any] = {
            "occurred_at": _local_date(occurred, zone),
            "duration_seconds": row.get("CallDurationInSeconds"),
        }
        return Fact(stream, row["Id"], row.get("OwnerId"), deleted, fields)
    close = _day(row.get("CloseDate"))
    amount = _money(row.get("Amount"))
    if amount is not None:
        amount = amount / _sf_rate(raw, row.get("CurrencyIsoCode"), close)
    closed, won = bool(row.get("IsClosed")), bool(row.get("IsWon"))
    fields = {"amount": amount, "is_closed": closed, "is_won": won}
    if stream == "deals":
        fields |= {
            "type": SF_TYPES.get(str(row.get("Type") or "").lower(), "other"),
            "close_date": close,
            "created_at": _local_date(row.get("CreatedDate"), zone),
        }
    else:
        fields |= {"due_date": close, "status": ("renewed" if won else "churned") if closed else "open"}
    return Fact(stream, row["Id"], row.get("OwnerId"), deleted, fields)


# ---------------------------------------------------------------- HubSpot


def hubspot_facts(raw: dict[str, list[dict[str, Any]]], config: dict[str, Any]) -> Facts:
    zone = ZoneInfo(config["timezone"])
    source = next(iter(config["sources"].values()))
    owners = tuple(
        OwnerFact(str(o["id"]), _email(o.get("email")), not o.get("archived"), _primary_team(o), str(o["id"]))
        for o in raw["owners"]
    )
    stages = {
        (p["id"], s["id"]): (s["metadata"]["isClosed"] == "true", float(s["metadata"]["probability"]) == 1.0)
        for p in raw["pipelines"]
        for s in p["stages"]
    }
    labels = {p["label"].lower(): p["id"] for p in raw["pipelines"]}
    records: list[Fact] = []
    for stream, spec in source["streams"].items():
        if stream == "calls":
            records.extend(_hs_call(row, zone) for row in raw["calls"])
            continue
        pipelines = {labels.get(str(p).lower(), str(p)) for p in spec.get("pipelines") or []}
        for row in raw["deals"]:
            if not pipelines or row["properties"].get("pipeline") in pipelines:
                records.append(_hs_deal(stream, row, stages, zone))
    return Facts(owners, tuple(records))


def _primary_team(owner: dict[str, Any]) -> str | None:
    teams = owner.get("teams") or []
    primary = next((t for t in teams if t.get("primary")), None)
    return (primary or {}).get("name") or None


def _hs_call(row: dict[str, Any], zone: ZoneInfo) -> Fact:
    props = row["properties"]
    duration = _money(props.get("hs_call_duration"))  # milliseconds
    fields = {
        "occurred_at": _local_date(props.get("hs_timestamp"), zone),
        "duration_seconds": None if duration is None else round(duration / 1000),
    }
    return Fact("calls", row["id"], props.get("hubspot_owner_id"), bool(row.get("archived")), fields)


def _hs_deal(
    stream: str, row: dict[str, Any], stages: dict[tuple[str, str], tuple[bool, bool]], zone: ZoneInfo
) -> Fact:
    props = row["properties"]
    closed_stage, won_stage = stages.get((props.get("pipeline"), props.get("dealstage")), (False, False))
    won_flag = props.get("hs_is_closed_won")
    won = won_flag == "true" if won_flag not in (None, "") else won_stage
    home = props.get("amount_in_home_currency")
    amount = _money(home if home not in (None, "") else props.get("amount"))
    fields: dict[str, Any] = {"amount": amount}
    close = _local_date(props.get("closedate"), zone)
    if stream == "deals":
        fields |= {
            "is_won": won, "is_closed": closed_stage or won, "close_date": close,
            "type": HS_TYPES.get(str(props.get("dealtype") or "").lower(), "other"),
            "created_at": _local_date(props.get("createdate"), zone),
        }  # fmt: skip
    else:
        status = ("renewed" if won_stage else "churned") if closed_stage else "open"
        fields |= {"due_date": close, "status": status}
    return Fact(stream, row["id"], props.get("hubspot_owner_id"), bool(row.get("archived")), fields)
