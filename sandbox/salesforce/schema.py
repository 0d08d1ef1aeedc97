"""The sandbox org's metadata: objects and fields with Salesforce types and access flags.

Mutable per sandbox: tests add fields, remove them, or flip `updateable` to play an org where the
integration user cannot write a field. Names are case-insensitive, as in SOQL and the REST API.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

FieldType = Literal[
    "id", "string", "textarea", "email", "picklist", "reference",
    "currency", "double", "percent", "int", "boolean", "date", "datetime",
]  # fmt: skip
TEXT_TYPES = frozenset({"string", "textarea", "email", "picklist"})
NUMBER_TYPES = frozenset({"currency", "double", "percent", "int"})
LONG_TEXT_LENGTH = 255  # textarea fields longer than this are "long text": not filterable, not sortable


@dataclass(frozen=True, slots=True)
class FieldDef:
    """One field as `describe` reports it; `custom` follows the `__c` suffix."""

    name: str
    type: FieldType
    label: str
    updateable: bool = True
    createable: bool = True
    nillable: bool = True
    external_id: bool = False
    unique: bool = False
    length: int = 0
    precision: int = 0
    scale: int = 0
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    picklist_values: tuple[str, ...] = ()
    restricted_picklist: bool = False
    default: Any = None

    @property
    def custom(self) -> bool:
        return self.name.endswith("__c")

    @property
    def is_long_text(self) -> bool:
        return self.type == "textarea" and self.length > LONG_TEXT_LENGTH

    @property
    def filterable(self) -> bool:
        return not self.is_long_text


@dataclass(slots=True)
class ObjectDef:
    """One sObject type and its fields, in describe order."""

    name: str
    label: str
    label_plural: str
    key_prefix: str
    fields: dict[str, FieldDef] = field(default_factory=dict)
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    _by_lower: dict[str, FieldDef] = field(default_factory=dict, repr=False)
    _relationships: dict[str, FieldDef] = field(default_factory=dict, repr=False)

    @property
    def custom(self) -> bool:
        return self.name.endswith("__c")

    def field(self, name: str) -> FieldDef | None:
        """The field called `name` (any case), or None."""
        return self._by_lower.get(name.lower())

    def relationship(self, name: str) -> FieldDef | None:
        """The reference field whose relationship is `name` (e.g. "Owner" → OwnerId), or None."""
        return self._relationships.get(name.lower())

    def has_field(self, name: str) -> bool:
        return name.lower() in self._by_lower

    def put_field(self, definition: FieldDef) -> None:
        """Add `definition`, or replace the field of that name."""
        existing = self.field(definition.name)
        if existing is not None and existing.name != definition.name:
            self.remove_field(existing.name)
        elif existing is not None and existing.relationship_name:
            self._relationships.pop(existing.relationship_name.lower(), None)
        self.fields[definition.name] = definition  # a replaced field keeps its place
        self._by_lower[definition.name.lower()] = definition
        if definition.relationship_name:
            self._relationships[definition.relationship_name.lower()] = definition

    def remove_field(self, name: str) -> FieldDef:
        definition = self.field(name)
        if definition is None:
            raise KeyError(f"no field {name!r} on {self.name}")
        del self.fields[definition.name]
        del self._by_lower[definition.name.lower()]
        if definition.relationship_name:
            self._relationships.pop(definition.relationship_name.lower(), None)
        return definition


class Schema:
    """Every object of the org, by name (any case) and by id key prefix."""

    def __init__(self, objects: list[ObjectDef]) -> None:
        self._objects: dict[str, ObjectDef] = {}
        # Called with an object's name after add_field / remove_field / update_field change it
        # (the sandbox dates metadata changes with it: metadata_dates.py).
        self.on_change: list[Callable[[str], None]] = []
        for definition in objects:
            self.add_object(definition)

    def __iter__(self) -> Iterator[ObjectDef]:
        return iter(list(self._objects.values()))

    def add_object(self, definition: ObjectDef) -> None:
        self._objects[definition.name.lower()] = definition

    def object(self, name: str) -> ObjectDef | None:
        """The object called `name` (any case), or None."""
        return self._objects.get(name.lower())

    def require(self, name: str) -> ObjectDef:
        definition = self.object(name)
        if definition is None:
            raise KeyError(f"no object {name!r} in the sandbox schema")
        return definition

    def object_for_id(self, record_id: str) -> ObjectDef | None:
        """The object whose key prefix starts `record_id`, or None."""
        prefix = record_id[:3]
        return next((o for o in self._objects.values() if o.key_prefix == prefix), None)

    def add_field(self, object_name: str, name: str, type_: FieldType, **attributes: Any) -> FieldDef:
        """Add (or replace) a field, e.g. `add_field("User", "Q_Deals__c", "double", precision=18)`."""
        attributes.setdefault("label", name.removesuffix("__c").replace("_", " "))
        definition = FieldDef(name=name, type=type_, **attributes)
        self.require(object_name).put_field(definition)
        self._changed(object_name)
        return definition

    def remove_field(self, object_name: str, name: str) -> FieldDef:
        """Remove a field: queries naming it fail with INVALID_FIELD, its stored values stay hidden."""
        removed = self.require(object_name).remove_field(name)
        self._changed(object_name)
        return removed

    def update_field(self, object_name: str, name: str, **changes: Any) -> FieldDef:
        """Change a field's attributes, e.g. `update_field("User", "Q_Revenue__c", updateable=False)`."""
        definition = self.require(object_name)
        current = definition.field(name)
        if current is None:
            raise KeyError(f"no field {name!r} on {object_name}")
        changed = dataclasses.replace(current, **changes)
        definition.put_field(changed)
        self._changed(object_name)
        return changed

    def _changed(self, object_name: str) -> None:
        for listener in self.on_change:
            listener(self.require(object_name).name)
