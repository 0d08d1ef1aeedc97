"""Drift repair: the CRM, not the ledger, is the truth of what the CRM holds.

The ledger remembers what each CRM confirmed, so a cycle sends only what changed. A field edited
by hand, reset by a deploy or restored by a sandbox refresh is invisible to it. When a target's
`verify` interval is due, the written fields are read back (one query or batch read per object,
through `Connector.read_fields`), compared with the values okrsync wants there now, rounded as
they are written, and every field that differs is sent again with the cycle's other writes.
`push --force` (`force=True`) sends every wanted value and reads nothing.

Rules (README "Drift repair"):
- a number matches when it is within half a unit of the last decimal the CRM keeps;
- a date or instant matches the same day or instant in any spelling; an empty value matches none;
- a record the CRM no longer has counts every field as drifted (an upsert re-creates it);
- `updated_at` fields are never compared: they say when okrsync last changed the record, and
  are re-sent along with any repaired field.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.orm import Session

from syncer.config.models import Settings, Verify
from syncer.contract import Connector, FieldValue, RecordRef, StoredValues, WriteItem
from syncer.errors import RejectedRequestError
from syncer.progress import NO_PROGRESS, Progress
from syncer.store import verifications
from syncer.store.transaction import transaction
from syncer.values import KeyResultValue
from syncer.writeback import PushResult, iter_wanted, plan_writes, push, target_object

log = logging.getLogger(__name__)

VERIFY_INTERVALS: dict[Verify, timedelta | None] = {
    "every_cycle": timedelta(0),
    "hourly": timedelta(hours=1),
    "daily": timedelta(days=1),
    "off": None,
}


@dataclass(frozen=True, slots=True)
class Wanted:
    """One record a write-back target wants, with every field, and those sent only with others."""

    item: WriteItem
    lazy: frozenset[str]


@dataclass(frozen=True, slots=True)
class FieldDiff:
    """One field whose CRM value differs from the value okrsync wants there."""

    object: str
    target: str  # the record: its id, or `key_field=value`
    field: str
    current: FieldValue  # what the CRM holds now (None when the record does not exist)
    wanted: FieldValue
    record_exists: bool


@dataclass(frozen=True, slots=True)
class SourcePlan:
    """What one source's write-back sends this cycle, and what drift repair found."""

    items: list[WriteItem]
    repaired: int  # fields the ledger had as written that the CRM had lost
    verified: tuple[str, ...]  # objects read back (recorded once the writes are filed)
    problems: tuple[str, ...] = ()  # objects whose fields could not be read back, and why


def is_due(verify: Verify, last: datetime | None, now: datetime) -> bool:
    """Whether an object last verified at `last` must be read back at `now`."""
    interval = VERIFY_INTERVALS[verify]
    if interval is None:
        return False
    return last is None or now - last >= interval


def wanted_by_object(
    session: Session, settings: Settings, source: str, values: Sequence[KeyResultValue]
) -> dict[str, list[Wanted]]:
    """object → every record the source's write-back targets want written there, all fields."""
    wanted: dict[str, list[Wanted]] = {}
    for target in settings.writeback:
        if target.source == source:
            for item, lazy in iter_wanted(session, settings, target, values):
                wanted.setdefault(item.object, []).append(Wanted(item, frozenset(lazy)))
    return wanted


def read_back(connector: Connector, obj: str, wanted: Sequence[Wanted]) -> StoredValues:
    """The CRM's values of every wanted field on the wanted records of `obj`: one read per field set."""
    refs = {w.item.target: to_ref(w.item) for w in wanted}
    fields = sorted({f for w in wanted for f in w.item.fields})
    return connector.read_fields(obj, list(refs.values()), fields)


def diff_source(
    sessions: Any, settings: Settings, connector: Connector, values: Sequence[KeyResultValue]
) -> list[FieldDiff]:
    """Every written field of one source whose CRM value differs from `values`: reads, never writes."""
    wanted = transaction(
        sessions, lambda session: wanted_by_object(session, settings, connector.source, values)
    )
    diffs: list[FieldDiff] = []
    for obj, records in wanted.items():
        stored = read_back(connector, obj, records)
        diffs += [d for record in records for d in differences(record, stored)]
    return diffs


def to_ref(item: WriteItem) -> RecordRef:
    return RecordRef(item.record_id, item.upsert_key, item.upsert_value)


def differences(wanted: Wanted, stored: StoredValues) -> list[FieldDiff]:
    """The record's fields whose CRM value differs, plus its `updated_at` fields when any does."""
    item = wanted.item
    current = stored.values.get(item.target)
    exists = current is not None
    differing = [
        f
        for f, value in item.fields.items()
        if f not in wanted.lazy
        and (current is None or f in current)  # a field the CRM did not return cannot be compared
        and not same_value(value, None if current is None else current[f], stored.decimals.get(f))
    ]
    if differing:
        differing += [f for f in item.fields if f in wanted.lazy]
    return [
        FieldDiff(
            item.object, item.target, f, None if current is None else current.get(f), item.fields[f], exists
        )
        for f in differing
    ]


def same_value(wanted: FieldValue, stored: FieldValue, decimals: int | None) -> bool:
    """Whether the CRM holds `wanted` (as written by `to_field_value`), in whatever spelling."""
    if _is_empty(wanted) or _is_empty(stored):
        return _is_empty(wanted) and _is_empty(stored)
    if isinstance(wanted, bool):
        return str(stored).lower() == str(wanted).lower()
    if isinstance(wanted, int | float):
        return _same_number(wanted, stored, decimals)
    if str(wanted) == str(stored):
        return True
    wanted_at, stored_at = _instant(str(wanted)), _instant(str(stored))
    return wanted_at is not None and wanted_at == stored_at


def _is_empty(value: FieldValue) -> bool:
    return value is None or value == ""


def _same_number(wanted: int | float, stored: FieldValue, decimals: int | None) -> bool:
    try:
        held = Decimal(str(stored).strip())
    except InvalidOperation:
        return False
    want = Decimal(str(wanted))
    if not (held.is_finite() and want.is_finite()):
        return False  # okrsync never writes NaN or infinity (it clears the field instead)
    if decimals is None:
        return held == want
    # The CRM rounds to its scale, half up or half even: within half a unit of its last decimal.
    return abs(held - want) <= Decimal(1).scaleb(-decimals) / 2


def _instant(text: str) -> datetime | None:
    """An ISO date or instant as an aware datetime (a date: its UTC midnight); else None."""
    stripped = text.strip().replace("Z", "+00:00")
    if len(stripped) < 10 or not stripped[:4].isdigit():
        return None
    try:
        parsed = datetime.fromisoformat(stripped)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def verify_intervals(settings: Settings, source: str) -> dict[str, Verify]:
    """object → the most frequent `verify` among the source's targets writing it."""
    order = list(VERIFY_INTERVALS)  # most frequent first
    chosen: dict[str, Verify] = {}
    for target in settings.writeback:
        if target.source == source:
            obj = target_object(settings, target)
            chosen[obj] = min(chosen.get(obj, "off"), target.verify, key=order.index)
    return chosen


def plan_source(
    sessions: Any,
    settings: Settings,
    connector: Connector,
    values: Sequence[KeyResultValue],
    *,
    now: datetime,
    force: bool = False,
) -> SourcePlan:
    """The writes one source needs: the ledger's changes plus, for objects due, what drifted."""
    source = connector.source
    planned, wanted, last = transaction(  # reads only: a rerun reads the same
        sessions,
        lambda session: (
            plan_writes(session, settings, source, values),
            wanted_by_object(session, settings, source, values),
            verifications.last_verified(session, source),
        ),
    )
    if force:  # re-send everything: after a sandbox refresh or a restore
        return SourcePlan([w.item for records in wanted.values() for w in records], 0, ())
    due = tuple(
        obj
        for obj, verify in verify_intervals(settings, source).items()
        if is_due(verify, last.get(obj), now)
    )
    pending = {(i.object, i.target): set(i.fields) for i in planned}
    repairs: list[WriteItem] = []
    verified, problems = [], []
    for obj in due:
        try:
            repairs += _repairs(connector, wanted.get(obj, []), pending)
        except RejectedRequestError as exc:  # e.g. a field the integration user cannot read
            log.warning("read-back refused", extra={"source": source, "object": obj, "error": str(exc)})
            problems.append(f"{obj}: the written fields could not be read back to repair drift: {exc}")
            continue
        verified.append(obj)
    repaired = sum(len(set(r.fields) - _lazy_of(r, wanted)) for r in repairs)
    if repaired:
        log.info("drift found", extra={"source": source, "fields": repaired, "records": len(repairs)})
    return SourcePlan(_merge(planned, repairs), repaired, tuple(verified), tuple(problems))


def push_source(
    sessions: Any,
    settings: Settings,
    connector: Connector,
    values: Sequence[KeyResultValue],
    *,
    now: datetime,
    force: bool = False,
    checkpoint: Callable[[], None] | None = None,
    progress: Progress = NO_PROGRESS,
) -> PushResult | None:
    """Plan (with drift repair when due), write, file the results; None when nothing was sent.

    The objects read back are recorded as verified only once their writes are filed, so a
    failed push verifies them again next cycle.
    """
    plan = plan_source(sessions, settings, connector, values, now=now, force=force)
    result = (
        push(sessions, connector, plan.items, now=now, checkpoint=checkpoint, progress=progress)
        if plan.items
        else None
    )
    if plan.verified:
        transaction(sessions, lambda session: _record_verified(session, connector.source, plan.verified, now))
    if result is None and not plan.problems:
        return None
    result = result or PushResult(connector.source, 0, 0, 0, [])
    return replace(result, repaired_fields=plan.repaired, errors=[*plan.problems, *result.errors])


def _record_verified(session: Session, source: str, objects: Sequence[str], now: datetime) -> None:
    for obj in objects:  # keyed by source and object: recording twice leaves the same rows
        verifications.record_verified(session, source, obj, now=now)


def _repairs(
    connector: Connector, wanted: Sequence[Wanted], pending: Mapping[tuple[str, str], set[str]]
) -> list[WriteItem]:
    """Items rewriting the drifted fields the ledger's plan does not already send."""
    to_read = [w for w in wanted if set(w.item.fields) - w.lazy - pending.get(_key(w.item), set())]
    if not to_read:  # every field is being written anyway: nothing to read
        return []
    stored = read_back(connector, to_read[0].item.object, to_read)
    repairs: list[WriteItem] = []
    for w in to_read:
        sent = pending.get(_key(w.item), set())
        drifted = [d.field for d in differences(w, stored) if d.field not in sent]
        if set(drifted) - w.lazy:
            repairs.append(replace(w.item, fields={f: w.item.fields[f] for f in drifted}))
    return repairs


def _merge(planned: Iterable[WriteItem], repairs: Iterable[WriteItem]) -> list[WriteItem]:
    """The planned items with the repaired fields added, then the records only repair touches."""
    extra: dict[tuple[str, str], WriteItem] = {}
    for repair in repairs:  # two targets may write fields of one record
        known = extra.get(_key(repair))
        extra[_key(repair)] = (
            repair if known is None else replace(known, fields={**known.fields, **repair.fields})
        )
    merged = []
    for item in planned:
        added = extra.pop(_key(item), None)
        merged.append(item if added is None else replace(item, fields={**added.fields, **item.fields}))
    return merged + list(extra.values())


def _key(item: WriteItem) -> tuple[str, str]:
    return item.object, item.target


def _lazy_of(item: WriteItem, wanted: Mapping[str, Sequence[Wanted]]) -> frozenset[str]:
    return frozenset(f for w in wanted.get(item.object, []) if w.item.target == item.target for f in w.lazy)
