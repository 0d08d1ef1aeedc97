"""Targets the CRM holds (README "Targets from the CRM"): each rep's quota per key result and source.

Replaced whole every cycle that reads them (`syncer.targets_from_crm`), so a quota changed or removed
in the CRM changes here at the next cycle; a read that fails leaves the last ones read. Rows name
the period they were read for: a key result whose period has moved on has none until it is read.

Runs inside the caller's transaction (nothing here commits).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.orm import Session

from syncer.store.tables import CrmTargetRow
from syncer.values import Period

_TARGETS = cast(Table, CrmTargetRow.__table__)
OwnerRef = tuple[str, str]  # (source, CRM owner id), as the owners table keys a rep


def replace(
    session: Session,
    source: str,
    objective: str,
    key_result: str,
    period: Period,
    amounts: Mapping[str, Decimal],
    *,
    read_at: datetime,
) -> None:
    """The targets of a key result from `source` become `amounts` (owner id → target) for `period`."""
    session.execute(
        delete(CrmTargetRow).where(
            CrmTargetRow.source == source,
            CrmTargetRow.objective == objective,
            CrmTargetRow.key_result == key_result,
        )
    )
    rows: list[dict[str, Any]] = [
        {
            "source": source,
            "objective": objective,
            "key_result": key_result,
            "owner_id": owner_id,
            "period_start": period.start,
            "period_end": period.end,
            "amount": amount,
            "read_at": read_at,
        }
        for owner_id, amount in sorted(amounts.items())
    ]
    if rows:
        session.execute(insert(_TARGETS), rows)


def targets_of(session: Session, objective: str, key_result: str, period: Period) -> dict[OwnerRef, Decimal]:
    """The stored targets of a key result for `period`, by (source, owner id)."""
    statement = select(CrmTargetRow.source, CrmTargetRow.owner_id, CrmTargetRow.amount).where(
        CrmTargetRow.objective == objective,
        CrmTargetRow.key_result == key_result,
        CrmTargetRow.period_start == period.start,
        CrmTargetRow.period_end == period.end,
    )
    return {(row.source, row.owner_id): Decimal(row.amount) for row in session.execute(statement)}
