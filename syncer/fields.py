"""Which CRM fields write-back needs, derived from the YAML: the input of `okrsync fields ensure`.

CRM-neutral: each connector maps a `FieldSpec.kind` to its own field types.
"""

from __future__ import annotations

from syncer.config.history import KINDS, as_keyed, field_names
from syncer.config.models import HistoryTarget, KeyedTarget, Settings
from syncer.contract import FieldKind, FieldSpec

KIND_OF_ATTRIBUTE: dict[str, FieldKind] = {
    "value": "number",
    "baseline": "number",
    "target": "number",
    "projected": "number",
    "progress": "number",
    "score": "number",
    "expected": "number",
    "progress_pct": "percent",
    "status": "status",
    "updated_at": "datetime",
    "currency": "text",
    "confidence": "number",
    "final_value": "number",
    "final_score": "number",
    "period_start": "date",
    "period_end": "date",
    "key": "text",
    "title": "text",
    "group": "text",
}


def required_fields(settings: Settings, source: str) -> list[FieldSpec]:
    """Every field the write-back targets of `source` write, plus each upsert key, in YAML order
    (a history target's: every attribute of its weekly record, its key first)."""
    specs: dict[tuple[str, str], FieldSpec] = {}
    for target in settings.writeback:
        if target.source != source:
            continue
        if isinstance(target, HistoryTarget):  # README "History as CRM records"
            obj = as_keyed(target, settings.sources[source]).object
            for attribute, field in field_names(target, settings.sources[source]).items():
                specs.setdefault((obj, field), FieldSpec(obj, field, KINDS[attribute], _label(field)))
            continue
        if isinstance(target, KeyedTarget):
            specs[(target.object, target.upsert_on)] = FieldSpec(
                target.object, target.upsert_on, "key", _label(target.upsert_on)
            )
        for field, expression in target.fields.items():
            kind = KIND_OF_ATTRIBUTE[expression.rsplit(".", 1)[-1]]
            specs.setdefault((target.object, field), FieldSpec(target.object, field, kind, _label(field)))
    return list(specs.values())


def _label(field: str) -> str:
    """Q_Revenue_Progress__c → 'Q Revenue Progress'; okr_value → 'Okr Value'."""
    name = field.removesuffix("__c").replace("_", " ").strip()
    return " ".join(word[:1].upper() + word[1:] for word in name.split())
