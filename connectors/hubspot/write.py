"""Write-back through batch update (by record id) and batch upsert (by a unique property).

Plans the fewest calls the API allows (≤ 100 inputs a call, docs/crm-apis.md §3.3) and maps a 207
Multi-Status answer back onto the items: each error names its inputs in `context.ids`. Sending is
the caller's (through PortalClient).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from syncer.contract import FieldValue, WriteItem, WriteResult
from syncer.errors import CrmError

BATCH_LIMIT = 100  # "Object API batch endpoints are limited to 100 inputs per request" (§3.3)
# Error categories worth sending again next cycle: limits and HubSpot's own failures (§3.3, §3.7).
RETRYABLE_CATEGORIES = frozenset({"RATE_LIMITS", "LOCKED", "INTERNAL_ERROR", "TIMEOUT"})


@dataclass(frozen=True, slots=True)
class Batch:
    """One batch call and the input positions of its items, in order."""

    object: str
    action: str  # "update" or "upsert"
    positions: tuple[int, ...]
    inputs: tuple[dict[str, Any], ...]
    keys: tuple[str, ...]  # what `context.ids` names: record ids, or unique values on upsert

    def body(self) -> dict[str, Any]:
        return {"inputs": list(self.inputs)}


def plan_batches(items: Sequence[WriteItem]) -> tuple[list[Batch], dict[int, WriteResult]]:
    """The calls to make, plus a result for every item refused before any call."""
    refused: dict[int, WriteResult] = {}
    groups: dict[tuple[str, str, str | None], list[int]] = {}
    for i, item in enumerate(items):
        if item.record_id:
            groups.setdefault((item.object, "update", None), []).append(i)
        elif item.upsert_key and item.upsert_value:
            groups.setdefault((item.object, "upsert", item.upsert_key), []).append(i)
        else:
            refused[i] = WriteResult(ok=False, error_code="NO_TARGET", message="no record id or upsert key")
    batches = [
        _batch(items, obj, action, positions[start : start + BATCH_LIMIT])
        for (obj, action, _), positions in groups.items()
        for start in range(0, len(positions), BATCH_LIMIT)
    ]
    return batches, refused


def _batch(items: Sequence[WriteItem], obj: str, action: str, positions: list[int]) -> Batch:
    inputs: list[dict[str, Any]] = []
    keys: list[str] = []
    for i in positions:
        item = items[i]
        properties = {name: to_property_value(value) for name, value in item.fields.items()}
        if action == "update":
            key = str(item.record_id)
            inputs.append({"id": key, "properties": properties})
        else:
            key = str(item.upsert_value)
            inputs.append({"id": key, "idProperty": item.upsert_key, "properties": properties})
        keys.append(key)
    return Batch(obj, action, tuple(positions), tuple(inputs), tuple(keys))


def to_property_value(value: FieldValue) -> str:
    """HubSpot property values are strings; an empty string clears one (docs/crm-apis.md §3.1, §3.6)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def to_results(raw: Any, batch: Batch) -> list[WriteResult]:
    """One result per input of the batch, from a 200 or 207 answer (§3.3)."""
    body = raw if isinstance(raw, Mapping) else {}
    written = _written_ids(body, batch)
    failures = _failures(body)
    general = failures.pop(None, None)
    results: list[WriteResult] = []
    for key in batch.keys:
        failure = failures.get(key)
        if failure is None and key not in written and general is not None:
            failure = general  # an error that names no input: it covers every unconfirmed one
        if failure is not None:
            results.append(failure)
        else:
            results.append(WriteResult(ok=True, record_id=written.get(key)))
    return results


def refused_batch(exc: CrmError, batch: Batch) -> list[WriteResult]:
    """A batch HubSpot refused as a whole (400: an unknown property): every item fails the same way."""
    return [WriteResult(ok=False, error_code=exc.code or str(exc.status), message=str(exc))] * len(batch.keys)


def _written_ids(body: Mapping[str, Any], batch: Batch) -> dict[str, str]:
    """Input key → record id of every confirmed input."""
    written: dict[str, str] = {}
    id_property = batch.inputs[0].get("idProperty") if batch.inputs else None
    for row in body.get("results") or []:
        if not isinstance(row, Mapping) or row.get("id") is None:
            continue
        record_id = str(row["id"])
        if id_property is None:
            written[record_id] = record_id
            continue
        value = (row.get("properties") or {}).get(id_property)
        if value is not None:
            written[str(value)] = record_id
    return written


def _failures(body: Mapping[str, Any]) -> dict[str | None, WriteResult]:
    """Input key → failed result, from the `errors` of a 207; key None for errors naming no input."""
    failures: dict[str | None, WriteResult] = {}
    for error in body.get("errors") or []:
        if not isinstance(error, Mapping):
            continue
        category = str(error.get("category") or error.get("status") or "ERROR")
        result = WriteResult(
            ok=False,
            error_code=category,
            message=str(error.get("message") or "")[:300],
            retryable=category in RETRYABLE_CATEGORIES,
        )
        ids = (error.get("context") or {}).get("ids") or []
        for key in ids if isinstance(ids, list) else []:
            failures[str(key)] = result
        if not ids:
            failures[None] = result
    return failures
