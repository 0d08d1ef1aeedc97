"""Reading owners back: the reps write-back targets, by source."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncer.records import Owner
from syncer.store.tables import OwnerRow


def owners_of(session: Session, source: str, *, active_only: bool = True) -> list[Owner]:
    statement = select(OwnerRow).where(OwnerRow.source == source).order_by(OwnerRow.email, OwnerRow.id)
    if active_only:
        statement = statement.where(OwnerRow.active.is_(True))
    return [
        Owner(
            source=r.source,
            id=r.id,
            name=r.name,
            email=r.email,
            active=r.active,
            team=r.team,
            region=r.region,
            record_id=r.record_id,
            modified_at=r.modified_at,
        )
        for r in session.scalars(statement)
    ]
