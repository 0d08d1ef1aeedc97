"""Weekly history records (README "History as CRM records"): the names a `history:` write-back
uses on each CRM, and the rules that check them.

A `HistoryTarget` names no object or field unless the YAML overrides them; the defaults depend on
the CRM (Salesforce custom fields end in `__c`, HubSpot properties are lower-case). `as_keyed`
turns one into the keyed target it writes like, so connectors (`check`, `fields ensure`) and
drift repair treat it as any other upserted object.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import get_args

from syncer.config.models import (
    HistoryAttribute,
    HistoryTarget,
    HubSpotSource,
    KeyedTarget,
    OwnerTarget,
    Settings,
    Source,
    WritebackTarget,
)
from syncer.config.violations import Path, Violation, suggest
from syncer.contract import FieldKind

ATTRIBUTES: tuple[HistoryAttribute, ...] = get_args(HistoryAttribute)
SALESFORCE_OBJECT = "OKR_Snapshot__c"
HUBSPOT_OBJECT = "p_okr_snapshots"
SALESFORCE_FIELDS: dict[HistoryAttribute, str] = {
    "key": "OKR_Snapshot_Key__c",
    "name": "Name",  # a custom object's records need a Name: the snapshot key, cut to 80 characters
    "key_result": "Key_Result__c",
    "group": "Group__c",
    "week": "Week__c",
    "week_start": "Week_Start__c",
    "value": "Value__c",
    "target": "Target__c",
    "progress": "Progress__c",
    "score": "Score__c",
    "status": "Status__c",
}
HUBSPOT_FIELDS: dict[HistoryAttribute, str] = {  # no `name`: the key is the display property
    "key": "okr_snapshot_key",
    "key_result": "okr_key_result",
    "group": "okr_group",
    "week": "okr_week",
    "week_start": "okr_week_start",
    "value": "okr_value",
    "target": "okr_target",
    "progress": "okr_progress",
    "score": "okr_score",
    "status": "okr_status",
}
# The CRM field kind of each attribute (syncer.fields maps kinds to CRM types).
KINDS: dict[HistoryAttribute, FieldKind] = {
    "key": "key",
    "name": "text",
    "key_result": "text",
    "group": "text",
    "week": "text",
    "week_start": "date",
    "value": "number",
    "target": "number",
    "progress": "percent",
    "score": "number",
    "status": "status",
}
EXPRESSION_PREFIX = "history."  # as_keyed's field expressions: `history.<attribute>`


def field_names(target: HistoryTarget, source: Source) -> dict[HistoryAttribute, str]:
    """attribute → CRM field the target writes it to: the CRM's defaults, with the YAML's names."""
    defaults = HUBSPOT_FIELDS if isinstance(source, HubSpotSource) else SALESFORCE_FIELDS
    return {**defaults, **target.history.fields}


def object_name(target: HistoryTarget, source: Source) -> str:
    if target.history.object:
        return target.history.object
    return HUBSPOT_OBJECT if isinstance(source, HubSpotSource) else SALESFORCE_OBJECT


def as_keyed(target: HistoryTarget, source: Source) -> KeyedTarget:
    """The keyed target a history target writes like: upserted on its key field."""
    names = field_names(target, source)
    return KeyedTarget(
        source=target.source,
        object=object_name(target, source),
        upsert_on=names["key"],
        fields={
            field: EXPRESSION_PREFIX + attribute for attribute, field in names.items() if attribute != "key"
        },
        verify=target.verify,
    )


def resolved(
    targets: Sequence[WritebackTarget], sources: dict[str, Source]
) -> list[OwnerTarget | KeyedTarget]:
    """`targets` with each history target as its keyed target (those of unknown sources dropped)."""
    plain: list[OwnerTarget | KeyedTarget] = []
    for target in targets:
        if not isinstance(target, HistoryTarget):
            plain.append(target)
        elif target.source in sources:
            plain.append(as_keyed(target, sources[target.source]))
    return plain


def keeps(target: HistoryTarget, objective: str, key_result: str) -> bool:
    """Whether the target writes history for this key result."""
    chosen = target.history.key_results
    return chosen is None or f"{objective}.{key_result}" in chosen


def check_history(settings: Settings) -> Iterator[Violation]:
    """The `history:` write-backs' key results exist, fields are distinct, objects are their own."""
    known = [f"{o.key}.{kr.key}" for o in settings.objectives for kr in o.key_results]
    for i, target in enumerate(settings.writeback):
        if not isinstance(target, HistoryTarget):
            continue
        path: Path = ("writeback", i, "history")
        chosen = target.history.key_results
        if chosen is not None and not chosen:
            yield Violation(
                (*path, "key_results"),
                "`key_results: []` keeps no history: list objective.key_result keys, or drop the key "
                "to keep every key result's",
            )
        for j, name in enumerate(chosen or []):
            if name not in known:
                yield Violation(
                    (*path, "key_results", j),
                    f"`{name}` is not a key result: write objective.key_result, one of: "
                    f"{', '.join(known)}.{suggest(name, known)}",
                )
        source = settings.sources.get(target.source)
        if source is None:
            continue  # rules.py reports the unknown source
        yield from _field_collisions(target, source, path)
        yield from _shared_object(settings, i, target, source, path)


def _field_collisions(target: HistoryTarget, source: Source, path: Path) -> Iterator[Violation]:
    seen: dict[str, HistoryAttribute] = {}
    for attribute, field in field_names(target, source).items():
        if field in seen:
            where: Path = (*path, "fields", attribute if attribute in target.history.fields else seen[field])
            yield Violation(
                where,
                f"`{field}` would hold both {seen[field]} and {attribute}: give each attribute its own field",
            )
        seen[field] = attribute


def _shared_object(
    settings: Settings, index: int, target: HistoryTarget, source: Source, path: Path
) -> Iterator[Violation]:
    """A history object holds one record per week: sharing it with another target mixes records."""
    name = object_name(target, source)
    for j, other in enumerate(settings.writeback):
        if j == index or other.source != target.source:
            continue
        other_name = object_name(other, source) if isinstance(other, HistoryTarget) else other.object
        if other_name == name and (j < index or not isinstance(other, HistoryTarget)):
            yield Violation(
                (*path, "object") if target.history.object else path,
                f"object `{name}` is also written by writeback entry {j + 1}: give the history its own "
                f"object (`history: {{object: ...}}`), so weekly records and current values do not mix",
            )
            return
