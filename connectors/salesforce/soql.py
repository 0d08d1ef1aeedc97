"""SOQL for pulls: the default field mapping, names checked against `describe`, values quoted.

Values reach a statement only through simple-salesforce's `format_soql`; object and field names
only after matching an identifier pattern and the object's describe. The YAML `where` is checked
so it stays one condition. Builds strings; makes no HTTP call.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from simple_salesforce.format import format_soql

from connectors.salesforce.currency import DATED_OBJECTS, MoneyColumns
from connectors.salesforce.mapping import ObjectDescription, RowMap
from syncer.config.models import OwnerFields, SalesforceStream
from syncer.config.models import where_problem as where_problem  # the check `validate` runs too
from syncer.contract import Cursor
from syncer.errors import RejectedRequestError
from syncer.records import StreamName

# `\Z`, not `$`: `$` also matches before a final newline, and "Task\n" is no API name.
IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*\Z")
# A field or a parent relationship path; SOQL allows five levels of parents.
FIELD_PATH = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*){0,4}\Z")


def query_options(page_size: int) -> dict[str, str]:
    """The page-size header: 200..2,000 rows, 2,000 by default (docs/crm-apis.md §1.1)."""
    return {"Sforce-Query-Options": f"batchSize={page_size}"}


DEFAULT_FIELDS: dict[StreamName, dict[str, str]] = {
    "deals": {
        "id": "Id",
        "owner_id": "OwnerId",
        "account_id": "AccountId",
        "amount": "Amount",
        "stage": "StageName",
        "type": "Type",
        "is_closed": "IsClosed",
        "is_won": "IsWon",
        "created_at": "CreatedDate",
        "close_date": "CloseDate",
        "modified_at": "SystemModstamp",
        "deleted": "IsDeleted",
    },
    "calls": {
        "id": "Id",
        "owner_id": "OwnerId",
        "duration_seconds": "CallDurationInSeconds",
        "outcome": "CallDisposition",
        "direction": "CallType",
        "modified_at": "SystemModstamp",
        "deleted": "IsDeleted",
    },
    "renewals": {
        "id": "Id",
        "owner_id": "OwnerId",
        "account_id": "AccountId",
        "amount": "Amount",
        "due_date": "CloseDate",
        "is_closed": "IsClosed",  # with is_won: renewed / churned / open
        "is_won": "IsWon",
        "modified_at": "SystemModstamp",
        "deleted": "IsDeleted",
    },
}
# Mapped only when the org has them, first match wins: (canonical, path, field that must exist).
# CurrencyIsoCode exists in multi-currency orgs only; RecordTypeId once record types are set up.
OPTIONAL_FIELDS: dict[StreamName, tuple[tuple[str, str, str], ...]] = {
    "deals": (
        ("currency", "CurrencyIsoCode", "CurrencyIsoCode"),
        ("pipeline", "RecordType.DeveloperName", "RecordTypeId"),
    ),
    "calls": (
        ("occurred_at", "CompletedDateTime", "CompletedDateTime"),
        ("occurred_at", "CreatedDate", "CreatedDate"),
    ),
    "renewals": (),
}
OWNER_FIELDS = {
    "id": "Id",
    "name": "Name",
    "email": "Email",
    "active": "IsActive",
    "modified_at": "SystemModstamp",
}


@dataclass(frozen=True, slots=True)
class QueryPlan:
    """What a pull selects from one object and how rows map back to canonical fields."""

    object: str
    row_map: RowMap
    select: tuple[str, ...]
    where: str | None
    money: MoneyColumns | None = None  # set when amounts are converted into the corporate currency


def check_identifier(name: str, *, source: str, what: str) -> str:
    """`name` if it is a plain SOQL identifier, else RejectedRequestError naming `what`."""
    if not IDENTIFIER.match(name):
        raise RejectedRequestError(f"{what} `{name}` is not a Salesforce API name", source=source)
    return name


def check_where(where: str, *, source: str, stream: str) -> str:
    """The YAML condition, if it is one condition that cannot end or extend the statement.

    Raises RejectedRequestError (the stream fails, the run goes on) saying what is refused.
    """
    problem = where_problem(where)
    if problem:
        raise RejectedRequestError(
            f"streams.{stream}.where is refused: {problem}; write one SOQL condition, "
            "like \"TaskSubtype = 'Call'\"",
            source=source,
        )
    return where.strip()


def stream_paths(
    stream: StreamName, config: SalesforceStream, description: ObjectDescription
) -> dict[str, str]:
    """canonical → wanted path: defaults, the org's optional fields, then the YAML's `fields:`."""
    paths = dict(DEFAULT_FIELDS[stream])
    for canonical, path, required in OPTIONAL_FIELDS[stream]:
        if canonical not in paths and description.field(required):
            paths[canonical] = path
    known = set(DEFAULT_FIELDS[stream]) | {c for c, _, _ in OPTIONAL_FIELDS[stream]}
    for canonical, path in config.fields.items():
        if canonical not in known:
            raise ValueError(
                f"streams.{stream}.fields: `{canonical}` is not a field okrsync maps; "
                f"use one of {', '.join(sorted(known))}, or list it under attributes:"
            )
        paths[canonical] = path
    return paths


def unknown_paths(paths: Mapping[str, str], description: ObjectDescription) -> list[str]:
    """The paths that are malformed or not on the object (for a readable field: not visible)."""
    return [path for path in paths.values() if not FIELD_PATH.match(path) or not description.resolve(path)]


def plan_stream(
    stream: StreamName,
    config: SalesforceStream,
    description: ObjectDescription,
    *,
    source: str,
    convert_currency: bool,
) -> QueryPlan:
    """The checked plan for one stream; RejectedRequestError names any unknown field and the object."""
    where = check_where(config.where, source=source, stream=stream) if config.where is not None else None
    try:
        wanted = stream_paths(stream, config, description)
    except ValueError as exc:
        raise RejectedRequestError(str(exc), source=source) from None
    missing = unknown_paths({**wanted, **config.attributes}, description)
    if missing:
        raise RejectedRequestError(
            f"streams.{stream}: {', '.join(f'`{m}`' for m in missing)} not found on object "
            f"`{description.name}` (or not readable by the integration user); fix the mapping "
            "or grant field access",
            source=source,
        )
    paths: dict[str, str | None] = {k: description.resolve(v) for k, v in wanted.items()}
    attributes = {k: description.resolve(v) or v for k, v in config.attributes.items()}
    money = money_columns(description, paths) if convert_currency else None
    columns = dict.fromkeys(p for p in [*paths.values(), *attributes.values()] if p)
    if money is not None:  # the currency and CloseDate the conversion needs, even if not mapped
        columns.update(dict.fromkeys(c for c in (money.currency, money.rate_date) if c))
    return QueryPlan(description.name, RowMap(paths, attributes), tuple(columns), where, money)


def money_columns(description: ObjectDescription, paths: Mapping[str, str | None]) -> MoneyColumns | None:
    """Where to find what converting the amount needs; None when there is nothing to convert.

    Only multi-currency orgs have CurrencyIsoCode on their objects, and only
    a `currency` field is in the record's currency. Dated rates go by CloseDate on Opportunity.
    """
    amount = paths.get("amount")
    info = description.field(amount) if amount else None
    currency = description.field("CurrencyIsoCode")
    if amount is None or info is None or info.type != "currency" or currency is None:
        return None
    date_field = DATED_OBJECTS.get(description.name.lower())
    rate_date = description.field(date_field) if date_field else None
    return MoneyColumns(amount, currency.name, rate_date.name if rate_date else None)


def plan_owners(config: OwnerFields, description: ObjectDescription, *, source: str) -> QueryPlan:
    """The User query plan: id, name, email, active, plus the configured team/region fields."""
    wanted = dict(OWNER_FIELDS)
    if config.team_field:
        wanted["team"] = config.team_field
    if config.region_field:
        wanted["region"] = config.region_field
    missing = unknown_paths(wanted, description)
    if missing:
        raise RejectedRequestError(
            f"owners: {', '.join(f'`{m}`' for m in missing)} not found on object `{description.name}`; "
            "fix owners.team_field / owners.region_field",
            source=source,
        )
    if config.where is not None:
        check_where(config.where, source=source, stream="owners")
    paths: dict[str, str | None] = {k: description.resolve(v) for k, v in wanted.items()}
    return QueryPlan(description.name, RowMap(paths, {}), tuple(p for p in paths.values() if p), config.where)


def pull_query(plan: QueryPlan, *, since: Cursor | None, until: datetime) -> str:
    """SELECT … WHERE (where) AND since ≤ modified < until ORDER BY modified, id.

    `format_soql` writes datetimes to the whole second: `until` must be whole seconds
    (`SalesforceConnector.cursor_resolution`), or rows of its last second are skipped.
    """
    modified, record_id = plan.row_map.paths["modified_at"], plan.row_map.paths["id"]
    return f"{bulk_query(plan, since=since, until=until)} ORDER BY {modified}, {record_id}"


def bulk_query(plan: QueryPlan, *, since: Cursor | None, until: datetime) -> str:
    """The pull's SELECT … WHERE without ORDER BY: Bulk API 2.0 refuses ordering (docs/crm-apis.md §1.3)."""
    return f"SELECT {', '.join(plan.select)} FROM {plan.object} WHERE {_window(plan, since, until)}"


def _window(plan: QueryPlan, since: Cursor | None, until: datetime) -> str:
    """(where) AND since ≤ modified < until: the conditions every query of one pull shares."""
    modified, record_id = plan.row_map.paths["modified_at"], plan.row_map.paths["id"]
    conditions = [f"({plan.where})"] if plan.where else []
    if since is not None:
        conditions.append(_since_condition(modified or "", record_id or "", since))
    conditions.append(format_soql("{field:literal} < {until}", field=modified, until=until))
    return " AND ".join(conditions)


def with_lookback(since: Cursor | None, lookback: timedelta) -> Cursor | None:
    """Where an incremental pull starts: `lookback` before the cursor, inclusive.

    A transaction can commit after rows stamped later were read, so its rows carry a
    SystemModstamp behind the cursor; re-reading a few minutes catches them (docs/crm-apis.md §1.2,
    Airbyte uses 600 s). Rows read twice are upserted again, and the store keeps equal copies.
    """
    if since is None or not lookback:
        return since
    return Cursor(modified_at=since.modified_at - lookback)


def owners_query(plan: QueryPlan) -> str:
    where = f" WHERE ({plan.where})" if plan.where else ""
    return f"SELECT {', '.join(plan.select)} FROM {plan.object}{where} ORDER BY {plan.row_map.paths['id']}"


def _since_condition(modified: str, record_id: str, since: Cursor) -> str:
    if since.last_id is None or since.modified_at.microsecond:
        # No tiebreak, or a fraction `format_soql` cannot express: start inclusive at the second;
        # the connector drops the rows at or before the cursor (`mapping.is_unread`).
        return format_soql("{field:literal} >= {since}", field=modified, since=since.modified_at)
    # Rows are ordered by (modified, id), so this resumes exactly after the cursor's row.
    return format_soql(
        "({field:literal} > {since} OR ({field:literal} = {since} AND {id:literal} > {last_id}))",
        field=modified,
        id=record_id,
        since=since.modified_at,
        last_id=since.last_id,
    )
