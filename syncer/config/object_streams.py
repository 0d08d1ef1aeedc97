"""Declared streams: any CRM object pulled as a stream (README "Any object as a stream").

A source lists them under `object_streams:`, beside the built-in `streams:`:

    object_streams:
      leads:
        object: Lead
        owner: OwnerId
        dates: {created: CreatedDate, converted: ConvertedDate}
        fields: {is_converted: IsConverted, status: Status}

A metric names the stream (`stream: leads`) and one of its dates (`date: converted`; the first
one by default); `where:` filters read the mapped fields as attributes. The store keeps every
declared stream in one table, the dates in `date_1`..`date_3` by their order in `dates:`: the
layout below, which the rollup reads (`syncer.rollup.stream_tables`) and the connectors write by.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from pydantic import Field, field_validator

from syncer.config.strict import Strict
from syncer.config.violations import Path, Violation
from syncer.object_records import DATE_COLUMNS
from syncer.records import STREAMS

if TYPE_CHECKING:
    from syncer.config.models import Settings

# A stream's name is a cursor's and a status row's key (String(16) in the store).
STREAM_NAME = re.compile(r"^[a-z][a-z0-9_]{0,15}\Z")
# A Salesforce API name (Lead, Meeting__c) or a HubSpot object type name or id (meetings,
# p_projects, 2-1234567): nothing that could end or extend a query or a URL path.
OBJECT_NAME = r"^([A-Za-z][A-Za-z0-9_]*|[0-9]+-[0-9]+)$"
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
FIELD_PATH = r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*){0,4}$"
CrmField = Annotated[str, Field(pattern=FIELD_PATH, max_length=200)]

OBJECT_DESCRIPTION = "the CRM object: Lead, Event, Case, My_Object__c; meetings, tickets, 2-1234567"
OWNER_DESCRIPTION = "the field holding the record's owner: OwnerId (Salesforce), hubspot_owner_id (HubSpot)"
DATES_DESCRIPTION = (
    "up to 3 named dates a metric may place records by: name → CRM date or datetime field, "
    "e.g. {created: CreatedDate, converted: ConvertedDate}; the first is the default"
)
FIELDS_DESCRIPTION = "fields kept as attributes, for where: filters and group_by: name → CRM field"


class ObjectStream(Strict):
    """One declared stream: a CRM object, its owner field, named dates and mapped fields."""

    object: Annotated[str, Field(max_length=80, description=OBJECT_DESCRIPTION)]
    owner: CrmField | None = Field(None, description=OWNER_DESCRIPTION)
    dates: dict[Name, CrmField] = Field(default_factory=dict, description=DATES_DESCRIPTION)
    fields: dict[Name, CrmField] = Field(default_factory=dict, description=FIELDS_DESCRIPTION)

    @field_validator("object")
    @classmethod
    def _object_name(cls, value: str) -> str:
        # The name goes into a SOQL FROM or a HubSpot URL path: nothing may end or extend either.
        if not re.match(OBJECT_NAME, value):
            raise ValueError(
                f"`{value}` is not an object name: write a Salesforce API name (Lead, Event, Case, "
                "My_Object__c) or a HubSpot object type (meetings, tickets, p_projects, 2-1234567), "
                "letters, digits and _ only"
            )
        return value


@dataclass(frozen=True, slots=True)
class StreamLayout:
    """Where a declared stream's dates are stored: date name → generic column, in order."""

    name: str
    columns: tuple[tuple[str, str], ...]  # (date name, date_N)
    attributes: frozenset[str]

    @property
    def dates(self) -> tuple[str, ...]:
        return tuple(name for name, _column in self.columns)

    @property
    def default_date(self) -> str:
        return self.columns[0][0]

    def column(self, date_name: str) -> str | None:
        return next((column for name, column in self.columns if name == date_name), None)


def layouts(sources: Mapping[str, object]) -> dict[str, StreamLayout]:
    """Every declared stream's layout: its dates in the order its sources list them (every source
    declaring a stream lists the same dates in the same order: `check_object_streams`)."""
    dates: dict[str, list[str]] = {}
    attributes: dict[str, set[str]] = {}
    for source in sources.values():
        for name, stream in _declared(source).items():
            if name in STREAMS:  # refused by `check_object_streams`: the built-in stream stays
                continue
            known = dates.setdefault(name, [])
            known += [date for date in stream.dates if date not in known]
            attributes.setdefault(name, set()).update(stream.fields)
    return {
        name: StreamLayout(name, tuple(zip(names, DATE_COLUMNS, strict=False)), frozenset(attributes[name]))
        for name, names in dates.items()
        if names
    }


# The layouts of the settings loaded last, for the rollup, which sees a metric and not the settings.
# A process that loads several configurations (a fleet worker) gets one layout per stream name as
# long as they declare a stream's dates alike (README "Any object as a stream").
_REGISTERED: dict[str, StreamLayout] = {}


def register(sources: Mapping[str, object]) -> None:
    _REGISTERED.update(layouts(sources))


def registered(stream: str) -> StreamLayout | None:
    return _REGISTERED.get(stream)


def declared_names(source: object) -> list[str]:
    return list(_declared(source))


def pulls(source: object, stream: str) -> bool:
    """Does `source` pull `stream`, built-in or declared?"""
    return stream in getattr(source, "streams", {}) or stream in _declared(source)


def _declared(source: object) -> Mapping[str, ObjectStream]:
    found: Mapping[str, ObjectStream] = getattr(source, "object_streams", {})
    return found


# ---------------------------------------------------------------- validation


def check_object_streams(settings: Settings) -> Iterator[Violation]:
    """Each declared stream: a name of its own, an owner field, one to three dates, alike across sources."""
    first_dates: dict[str, tuple[str, list[str]]] = {}
    for source_name, source in settings.sources.items():
        hubspot = getattr(source, "kind", "") == "hubspot"
        for name, stream in _declared(source).items():
            path: Path = ("sources", source_name, "object_streams", name)
            if name in STREAMS:
                yield Violation(
                    path,
                    f"`{name}` is a built-in stream: configure it under `streams:`, or give this "
                    f"stream of {stream.object} another name, like `{stream.object.lower()}s`",
                )
                continue
            if not STREAM_NAME.match(name):
                yield Violation(
                    path,
                    f"`{name}` cannot name a stream: use up to 16 lower-case letters, digits and _, "
                    "starting with a letter, like `leads` or `meetings`",
                )
            if stream.owner is None:
                example = "hubspot_owner_id" if hubspot else "OwnerId"
                yield Violation(
                    (*path, "object"),
                    f"the stream `{name}` names no owner field: add `owner: {example}` (the field "
                    "holding the rep who owns each record)",
                )
            if not stream.dates:
                yield Violation(
                    (*path, "object"),
                    f"the stream `{name}` has no dates: add `dates: {{created: "
                    f"{'hs_createdate' if hubspot else 'CreatedDate'}}}` (a name → the CRM date field)",
                )
            elif len(stream.dates) > len(DATE_COLUMNS):
                yield Violation(
                    (*path, "dates"),
                    f"a stream keeps up to {len(DATE_COLUMNS)} dates, `{name}` lists "
                    f"{len(stream.dates)}: keep those the metrics place records by",
                )
            clash = set(stream.dates) & set(stream.fields)
            if clash:
                both = sorted(clash)[0]
                yield Violation(
                    (*path, "fields", both),
                    f"`{both}` is both a date and a field of `{name}`: rename one",
                )
            dates = list(stream.dates)
            if name in first_dates and stream.dates:
                first_source, known = first_dates[name]
                if dates != known:
                    yield Violation(
                        (*path, "dates"),
                        f"`{name}` of source `{first_source}` has the dates {', '.join(known)}; "
                        f"declare the same dates in the same order here (not {', '.join(dates)}), "
                        "so that a metric means the same date in every CRM",
                    )
            elif stream.dates:
                first_dates[name] = (source_name, dates)
