"""`okrsync check` for Salesforce: the YAML's objects and fields against the org's describe.

Pure functions from config and descriptions to Findings; describing is the connector's job.
"""

from __future__ import annotations

from connectors.salesforce import soql
from connectors.salesforce.mapping import ObjectDescription
from syncer.config.models import KeyedTarget, OwnerFields, OwnerTarget, SalesforceStream
from syncer.contract import Finding
from syncer.errors import CrmError
from syncer.records import StreamName

READ_FIX = (
    "create the field, grant the integration user read access (field-level security), or fix the mapping"
)
EDIT_FIX = "grant the integration user edit access to the field (field-level security)"
WHERE_FIX = "write one SOQL condition, like \"TaskSubtype = 'Call'\""
CREATE_FIX = "run `okrsync fields ensure --apply`, then grant the integration user edit access"


def stream_findings(
    stream: StreamName, config: SalesforceStream, description: ObjectDescription
) -> list[Finding]:
    """Every mapped field of a stream that is malformed, missing or unreadable; `ok` if none."""
    subject = f"{description.name} (streams.{stream})"
    problem = soql.where_problem(config.where) if config.where is not None else None
    if problem:
        return [Finding("error", subject, f"streams.{stream}.where is refused: {problem}", fix=WHERE_FIX)]
    try:
        wanted = {**soql.stream_paths(stream, config, description), **config.attributes}
    except ValueError as exc:
        return [Finding("error", subject, str(exc), fix="fix the field mapping")]
    findings = [
        Finding(
            "error",
            f"{description.name}.{path}",
            f"streams.{stream} maps `{name}` to a field the integration user cannot read or that does not exist",
            fix=READ_FIX,
        )
        for name, path in wanted.items()
        if soql.unknown_paths({name: path}, description)
    ]
    return findings or [Finding("ok", subject, f"{len(wanted)} mapped fields readable")]


def owner_findings(config: OwnerFields, description: ObjectDescription) -> list[Finding]:
    wanted = {"owners.team_field": config.team_field, "owners.region_field": config.region_field}
    return [
        Finding(
            "error",
            f"{description.name}.{path}",
            f"{name} names a field that is missing or unreadable",
            fix=READ_FIX,
        )
        for name, path in wanted.items()
        if path and soql.unknown_paths({name: path}, description)
    ]


def writeback_findings(target: OwnerTarget | KeyedTarget, description: ObjectDescription) -> list[Finding]:
    """Write-back fields that are missing or not editable; for an upsert, the key field too."""
    findings = []
    for name in target.fields:
        info = description.field(name)
        subject = f"{description.name}.{name}"
        if info is None:
            findings.append(
                Finding("error", subject, "write-back field does not exist or is not visible", fix=CREATE_FIX)
            )
        elif not info.updateable:
            findings.append(Finding("error", subject, "write-back field is not editable", fix=EDIT_FIX))
        elif isinstance(target, KeyedTarget) and not info.createable:
            findings.append(
                Finding("warning", subject, "field cannot be set when upsert creates a record", fix=EDIT_FIX)
            )
    if isinstance(target, KeyedTarget):
        findings += _upsert_key_findings(target, description)
    return findings or [Finding("ok", description.name, f"{len(target.fields)} write-back fields editable")]


def describe_finding(object_name: str, error: CrmError) -> Finding:
    return Finding(
        "error",
        object_name,
        str(error),
        fix="check the object's API name and that the integration user's profile can read it",
    )


def _upsert_key_findings(target: KeyedTarget, description: ObjectDescription) -> list[Finding]:
    key = description.field(target.upsert_on)
    subject = f"{description.name}.{target.upsert_on}"
    if key is None:
        return [Finding("error", subject, "upsert_on field does not exist or is not visible", fix=CREATE_FIX)]
    if not key.external_id:
        return [
            Finding(
                "error",
                subject,
                "upsert_on field is not an External ID, so Salesforce cannot upsert on it",
                fix="mark the field External ID and Unique in Setup",
            )
        ]
    return []
