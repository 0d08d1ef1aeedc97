"""Per-owner partial aggregates folded into owner, team and region groups.

The same rules as `metrics.group_statement` applies in SQL (see the `metrics` docstring):
- an owner key (the rep's e-mail, else `source:id`) gets a value when one of its owner rows
  is active in a source that pulls the stream; the records of all its rows count;
- a team (the `teams:` map by e-mail, else the owner's team field) or a region gets a value
  when an active owner of a pulling source has it, or when records in scope carry it;
- records whose owner is unknown count in the total only.
The owners table is read once per rollup: one row per CRM user, not per record.
Write-back to reps' own records (`match: owner`) finds each rep's team and region here too
(`value_group`), so the team value on a rep's record is the team the rollup put them in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncer.records import owner_group_key
from syncer.rollup.passes import OwnerRef, Partial
from syncer.store.tables import OwnerRow
from syncer.values import TOTAL


@dataclass(frozen=True, slots=True)
class Owner:
    source: str
    active: bool
    key: str  # owner_group_key
    team: str | None
    region: str | None

    def group(self, group_by: str) -> str | None:
        return self.key if group_by == "owner" else self.team if group_by == "team" else self.region


def load_owners(session: Session, teams: Mapping[str, Sequence[str]]) -> dict[OwnerRef, Owner]:
    """Every owner row by (source, id), with its group keys resolved."""
    member_of: dict[str, str] = {}
    for name, members in teams.items():
        for member in members:
            member_of.setdefault(member.strip().lower(), name)  # the first team listed wins
    owners: dict[OwnerRef, Owner] = {}
    for row in session.execute(select(OwnerRow.source, OwnerRow.id, OwnerRow.email, OwnerRow.active,
                                      OwnerRow.team, OwnerRow.region)):  # fmt: skip
        email = (row.email or "").strip().lower()
        team = member_of.get(email) or row.team or None
        key = owner_group_key(row.email, row.source, row.id)
        owners[(row.source, row.id)] = Owner(row.source, row.active, key, team, row.region or None)
    return owners


def value_group(owner: Owner, group_by: str | None) -> tuple[str, str] | None:
    """(group_kind, group_key) of the value a rep sees for a key result grouped by `group_by`:
    their own, their team's or region's, or the total when ungrouped; None when they have none
    (a rep in no team, or a grouping by an attribute)."""
    if group_by is None:
        return TOTAL, ""
    if group_by not in ("owner", "team", "region"):
        return None
    key = owner.group(group_by)
    return None if key is None else (group_by, key)


def fold(
    partials: Iterable[tuple[OwnerRef, Partial]],
    owners: Mapping[OwnerRef, Owner],
    group_by: str,
    sources: Sequence[str],
) -> dict[str, Partial]:
    """Each group's partial: the sum of its owners'. An owner group without records gets an empty one."""
    shown = {
        group
        for owner in owners.values()
        if owner.active and owner.source in sources and (group := owner.group(group_by)) is not None
    }
    groups: dict[str, Partial] = {}
    for ref, partial in partials:
        owner = owners.get(ref)
        group = None if owner is None else owner.group(group_by)
        if group is not None:
            groups.setdefault(group, Partial()).add(partial)
    if group_by != "owner":  # a team or region of departed reps still shows its records
        shown |= {group for group, partial in groups.items() if partial.hits}
    return {group: groups.get(group, Partial()) for group in shown}
