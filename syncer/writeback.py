"""Write-back: turn key-result values into CRM field writes, send only what changed, file results.

`plan_writes` diffs the wanted values against the ledger (what the CRM last confirmed), so a
cycle with no change sends nothing; `push` writes through the connector and records every
per-record result, so a rejected write is retried next cycle. What the ledger cannot see (a field
changed in the CRM since it was written) is found by reading the CRM back: see syncer.drift.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import chain
from typing import Any

from sqlalchemy.orm import Session

from syncer import objective_writeback
from syncer.config.history import as_keyed, field_names
from syncer.config.models import HistoryTarget, KeyedTarget, OwnerTarget, Settings, WritebackTarget
from syncer.contract import Connector, FieldValue, WriteItem, WriteResult
from syncer.history import snapshot_rows
from syncer.progress import NO_PROGRESS, Progress
from syncer.rollup import owner_groups
from syncer.store import ledger
from syncer.store.owners import owners_of
from syncer.store.transaction import transaction
from syncer.values import KeyResultValue

log = logging.getLogger(__name__)

WRITE_BATCH = 1_000  # items handed to a connector at once; it splits them per its API's limit
# Rounding of written numbers: a value that did not really move must not be rewritten.
DECIMALS = {"progress": 3, "score": 3, "expected": 3, "progress_pct": 1, "final_score": 3}
# updated_at says when okrsync last changed a record's values: sent only along with another change.
WITH_OTHERS_ONLY = "updated_at"


@dataclass(frozen=True, slots=True)
class PushResult:
    source: str
    written_fields: int
    written_records: int
    failed_records: int
    errors: list[str]
    repaired_fields: int = 0  # fields the CRM had lost since they were written (drift repair)


def to_field_value(attribute: str, value: Any) -> FieldValue:
    """A key-result attribute as a CRM field value (JSON-safe, rounded to what is meaningful)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(round(value, 6))
    if isinstance(value, float):
        return round(value, DECIMALS.get(attribute, 6))
    if isinstance(value, int):
        return value
    return str(value)


def _index(values: Sequence[KeyResultValue]) -> dict[tuple[str, str, str, str], KeyResultValue]:
    return {(v.objective, v.key_result, v.group_kind, v.group_key): v for v in values}


def _owner_items(
    session: Session, settings: Settings, target: OwnerTarget, values: Sequence[KeyResultValue]
) -> Iterator[tuple[WriteItem, set[str]]]:
    """One item per active owner of the source, on their own record (README "me / my team / company"):
    a per-owner key result writes their value, a team- or region-grouped one their team's or
    region's (none for a rep in no team), an ungrouped one the total."""
    by_key = _index(values)
    groups = owner_groups.load_owners(session, settings.teams)  # teams as the rollup resolved them
    scores = objective_writeback.owner_fields(
        target.fields, objective_writeback.writable_scores(settings, values)
    )
    for owner in owners_of(session, target.source):
        rep = groups[(owner.source, owner.id)]
        fields: dict[str, FieldValue] = {f: to_field_value("score", s) for f, s in scores.items()}
        for crm_field, expression in target.fields.items():
            if objective_writeback.is_objective_expression(expression):
                continue  # an objective's score: the same on every rep's record (above)
            objective, key_result, attribute = expression.split(".")
            kr = settings.key_result(objective, key_result)
            group = owner_groups.value_group(rep, kr.group_by) if kr is not None else None
            value = by_key.get((objective, key_result, *group)) if group is not None else None
            if value is not None:
                fields[crm_field] = to_field_value(attribute, value.attribute(attribute))
        if fields:
            yield (
                WriteItem(object=target.object, record_id=owner.record_id, fields=fields),
                _lazy_fields(target),
            )


def _keyed_items(
    target: KeyedTarget, values: Sequence[KeyResultValue]
) -> Iterator[tuple[WriteItem, set[str]]]:
    """One record per key-result value (total and groups), found or created by its key."""
    for value in values:
        fields: dict[str, FieldValue] = {}
        for crm_field, expression in target.fields.items():
            parts = expression.split(".")
            if objective_writeback.is_objective_expression(expression):
                continue  # an objective's score goes on the objective's own record
            if parts[0] == "*" or (parts[0], parts[1]) == (value.objective, value.key_result):
                fields[crm_field] = to_field_value(parts[-1], value.attribute(parts[-1]))
        if fields:
            key = str(value.attribute("key"))
            item = WriteItem(
                object=target.object,
                record_id=None,
                fields=fields,
                upsert_key=target.upsert_on,
                upsert_value=key,
            )
            yield item, _lazy_fields(target)


def _objective_items(
    settings: Settings, target: KeyedTarget, values: Sequence[KeyResultValue]
) -> Iterator[tuple[WriteItem, set[str]]]:
    """One record per objective whose score the target writes (syncer.objective_writeback)."""
    scores = objective_writeback.writable_scores(settings, values)
    for key, fields in objective_writeback.keyed_records(settings, target.fields, scores):
        written = {f: to_field_value("score", v) for f, v in fields.items()}
        yield WriteItem(target.object, None, written, target.upsert_on, key), set()


def _vanished_items(
    session: Session, settings: Settings, target: KeyedTarget, values: Sequence[KeyResultValue]
) -> Iterator[tuple[WriteItem, set[str]]]:
    """Blank the keyed records of team, region and attribute groups the rollup no longer yields.

    A team whose reps have all left drops out once its last record in the period goes (deleted,
    moved, a new quarter): its record must not keep showing the old number. Only key results
    computed this cycle count, so a stale key result keeps its last good values; departed reps'
    own records keep theirs, as on their user records (docs/decisions.md, "unknown is not zero").
    """
    present = {v.key for v in values}
    computed = {(v.objective, v.key_result) for v in values if v.is_total}
    for ledger_target, _field in ledger.confirmed(session, target.source, target.object):
        key = ledger_target.partition("=")[2]
        if key in present:
            continue
        for objective, key_result in computed:
            kr = settings.key_result(objective, key_result)
            prefix = f"{objective}.{key_result}."
            if kr is None or kr.group_by in (None, "owner") or not key.startswith(prefix):
                continue
            group = key.removeprefix(prefix)
            named = {"key": key, "group": group, "title": kr.title or kr.key}  # a record's identity
            fields: dict[str, FieldValue] = {
                crm_field: named.get(expression.rsplit(".", 1)[-1])
                for crm_field, expression in target.fields.items()
                if (expression.split(".")[0] == "*" or expression.startswith(prefix))
                and not expression.endswith((".period_start", ".period_end"))
            }
            if fields:
                present.add(key)  # one item per record, whatever number of ledger rows it has
                item = WriteItem(target.object, None, fields, target.upsert_on, key)
                yield item, set()


def _history_items(
    settings: Settings, target: HistoryTarget, values: Sequence[KeyResultValue]
) -> Iterator[tuple[WriteItem, set[str]]]:
    """This week's record per key result and group (syncer.history); past weeks are never wanted."""
    source = settings.sources[target.source]
    names, obj = field_names(target, source), target_object(settings, target)
    for row in snapshot_rows(target, values, settings.zone):
        fields = {
            names[a]: to_field_value(HISTORY_ROUNDING.get(a, a), v)
            for a, v in row.items()
            if a != "key" and a in names
        }
        yield WriteItem(obj, None, fields, names["key"], str(row["key"])), set()


HISTORY_ROUNDING = {"progress": "progress_pct"}  # a history record's progress is a percentage


def target_object(settings: Settings, target: WritebackTarget) -> str:
    """The CRM object a target writes (a history target's default depends on its CRM)."""
    if isinstance(target, HistoryTarget):
        return as_keyed(target, settings.sources[target.source]).object
    return target.object


def _lazy_fields(target: OwnerTarget | KeyedTarget) -> set[str]:
    return {f for f, expression in target.fields.items() if expression.endswith("." + WITH_OTHERS_ONLY)}


def iter_wanted(
    session: Session, settings: Settings, target: WritebackTarget, values: Sequence[KeyResultValue]
) -> Iterator[tuple[WriteItem, set[str]]]:
    """Every record `target` wants, with all its fields, and the fields sent only with others."""
    if isinstance(target, OwnerTarget):
        return _owner_items(session, settings, target, values)
    if isinstance(target, HistoryTarget):
        return _history_items(settings, target, values)
    return chain(
        _keyed_items(target, values),
        _objective_items(settings, target, values),
        _vanished_items(session, settings, target, values),
    )


def plan_writes(
    session: Session, settings: Settings, source: str, values: Sequence[KeyResultValue]
) -> list[WriteItem]:
    """The field writes one source needs: only fields whose value differs from the ledger."""
    planned: list[WriteItem] = []
    for target in settings.writeback:
        if target.source != source:
            continue
        known = ledger.confirmed(session, source, target_object(settings, target))
        for item, lazy in iter_wanted(session, settings, target, values):
            changed = {
                f: v
                for f, v in item.fields.items()
                if known.get((item.target, f), _NEVER) != ledger.to_json(v)
            }
            if set(changed) - lazy:
                planned.append(_with_fields(item, changed | {f: item.fields[f] for f in lazy}))
    return planned


_NEVER = object()  # no ledger row: the field was never confirmed


def _with_fields(item: WriteItem, fields: dict[str, FieldValue]) -> WriteItem:
    return WriteItem(
        object=item.object,
        record_id=item.record_id,
        fields=fields,
        upsert_key=item.upsert_key,
        upsert_value=item.upsert_value,
    )


def push(
    session_factory: Any,
    connector: Connector,
    items: Sequence[WriteItem],
    *,
    now: datetime,
    checkpoint: Callable[[], None] | None = None,
    progress: Progress = NO_PROGRESS,
) -> PushResult:
    """Write `items` in batches and file every result in the ledger as it comes back.

    `checkpoint` is called before each batch; it raises to stop between two filed batches.
    `progress` hears of each filed batch.
    """
    written_fields = written_records = failed = 0
    errors: list[str] = []
    for start in range(0, len(items), WRITE_BATCH):
        if checkpoint is not None:
            checkpoint()
        batch = items[start : start + WRITE_BATCH]
        results: list[WriteResult] = connector.write(batch)
        _file_results(session_factory, connector.source, list(zip(batch, results, strict=True)), now=now)
        progress.wrote(connector.source, len(batch), total=len(items))
        for item, result in zip(batch, results, strict=True):
            if result.ok:
                written_records += 1
                written_fields += len(item.fields)
            else:
                failed += 1
                errors.append(f"{item.object} {item.target}: {result.error_code}: {result.message}")
                log.warning(
                    "write rejected",
                    extra={
                        "source": connector.source,
                        "object": item.object,
                        "target": item.target,
                        "code": result.error_code,
                    },
                )
    return PushResult(connector.source, written_fields, written_records, failed, errors)


def _file_results(
    session_factory: Any, source: str, filed: list[tuple[WriteItem, WriteResult]], *, now: datetime
) -> None:
    """File one batch's results in the ledger; rows are keyed, so filing twice (a retried
    transaction) leaves the same ledger."""

    def work(session: Session) -> None:
        ledger.record_results(session, source, filed, now=now)

    transaction(session_factory, work)
