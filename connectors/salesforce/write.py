"""Write-back through sObject Collections: updates by record id, upserts by external id.

Plans the fewest calls the API allows (≤ 200 records a call, docs/crm-apis.md §1.4) and maps the
per-record results back onto the items in order. Sending is the caller's (through OrgClient).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from simple_salesforce.api import Salesforce

from connectors.salesforce.client import REQUEST_TIMEOUT
from connectors.salesforce.mapping import to_save_result
from connectors.salesforce.soql import IDENTIFIER
from syncer.contract import WriteItem, WriteResult
from syncer.errors import CrmError

COLLECTION_LIMIT = 200  # records per sObject Collections call (docs/crm-apis.md §1.4)
TYPE_CHUNK_LIMIT = 10  # a mixed-type update is processed in at most 10 chunks by type (§1.4)
# Per-record codes worth sending again in this run (syncer.retry.write_retrying), then next cycle:
# row locks and rolled-back neighbours (§1.4, §1.7).
RETRYABLE_CODES = frozenset(
    {
        "UNABLE_TO_LOCK_ROW",
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "REQUEST_RUNNING_TOO_LONG",
        "SERVER_UNAVAILABLE",
    }
)
JsonValue = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class Batch:
    """One sObject Collections call and the input positions of its records, in order."""

    path: str  # "composite/sobjects" or "composite/sobjects/{object}/{external id field}"
    positions: tuple[int, ...]
    records: tuple[dict[str, object], ...]

    def request(self) -> Callable[[Salesforce], object]:
        body = {"allOrNone": False, "records": list(self.records)}

        def run(sf: Salesforce) -> object:
            return sf.restful(self.path, method="PATCH", json=body, timeout=REQUEST_TIMEOUT)

        return run


def plan_batches(items: Sequence[WriteItem]) -> tuple[list[Batch], dict[int, WriteResult]]:
    """The calls to make, plus a result for every item refused before any call."""
    refused: dict[int, WriteResult] = {}
    for i, item in enumerate(items):
        refusal = _refusal(item)
        if refusal is not None:
            refused[i] = refusal
    updates = sorted(
        (i for i, item in enumerate(items) if i not in refused and item.record_id),
        key=lambda i: items[i].object,
    )
    upserts: dict[tuple[str, str], list[int]] = {}
    for i, item in enumerate(items):
        if i not in refused and not item.record_id and item.upsert_key:
            upserts.setdefault((item.object, item.upsert_key), []).append(i)
    batches = [_batch("composite/sobjects", items, chunk) for chunk in _update_chunks(updates, items)]
    for (obj, key), positions in upserts.items():
        path = f"composite/sobjects/{obj}/{key}"
        batches += [
            _batch(path, items, positions[s : s + COLLECTION_LIMIT])
            for s in range(0, len(positions), COLLECTION_LIMIT)
        ]
    return batches, refused


def to_results(raw: object, batch: Batch, items: Sequence[WriteItem]) -> list[WriteResult]:
    """One result per record of the batch, from Salesforce's per-record SaveResults (in order)."""
    rows = raw if isinstance(raw, list) else []
    results = []
    for n, position in enumerate(batch.positions):
        ok, record_id, code, message = to_save_result(rows[n] if n < len(rows) else None)
        results.append(
            WriteResult(
                ok=ok,
                record_id=record_id or items[position].record_id,
                error_code=None if ok else code or "UNKNOWN_ERROR",
                message=None if ok else message,
                retryable=not ok and (code in RETRYABLE_CODES or code == "NO_RESULT"),
            )
        )
    return results


def refused_batch(error: CrmError, batch: Batch) -> list[WriteResult]:
    """Every record of a call Salesforce refused as a whole (400: a malformed body)."""
    failed = WriteResult(ok=False, error_code=error.code or "REJECTED", message=str(error))
    return [failed for _ in batch.positions]


def to_json_value(value: object) -> JsonValue:
    """A field value as Salesforce takes it: datetimes as `…T…+0000`, Decimal as a number, None clears."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None  # JSON has no NaN: no value clears the field
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a naive datetime cannot be written")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot write a {type(value).__name__} to Salesforce")


def _refusal(item: WriteItem) -> WriteResult | None:
    names = [item.object, *([item.upsert_key] if item.upsert_key and not item.record_id else [])]
    bad = next((name for name in names if not IDENTIFIER.match(name)), None)
    if bad is not None:  # it would become part of the URL
        return WriteResult(
            ok=False, error_code="INVALID_NAME", message=f"`{bad}` is not a Salesforce API name"
        )
    if not item.record_id and not (item.upsert_key and item.upsert_value):
        return WriteResult(
            ok=False, error_code="NO_TARGET", message="neither a record id nor an upsert key and value"
        )
    return None


def _update_chunks(positions: list[int], items: Sequence[WriteItem]) -> list[list[int]]:
    chunks: list[list[int]] = []
    for i in positions:
        current = chunks[-1] if chunks else None
        if current is None or len(current) == COLLECTION_LIMIT or _starts_chunk_over_limit(current, items, i):
            chunks.append([i])
        else:
            current.append(i)
    return chunks


def _starts_chunk_over_limit(chunk: list[int], items: Sequence[WriteItem], i: int) -> bool:
    types = {items[j].object for j in chunk}
    return items[i].object not in types and len(types) == TYPE_CHUNK_LIMIT


def _batch(path: str, items: Sequence[WriteItem], positions: Sequence[int]) -> Batch:
    return Batch(path, tuple(positions), tuple(_record(items[i]) for i in positions))


def _record(item: WriteItem) -> dict[str, object]:
    record: dict[str, object] = {"attributes": {"type": item.object}}
    if item.record_id:
        record["id"] = item.record_id
    elif item.upsert_key:
        # Upsert records carry the external-id field and no `id` (docs/crm-apis.md §1.4).
        record[item.upsert_key] = item.upsert_value
    record.update({name: to_json_value(value) for name, value in item.fields.items()})
    return record
