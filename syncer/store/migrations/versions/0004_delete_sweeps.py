"""delete sweeps: when each stream's deleted records were last listed

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05

HubSpot lists deleted (archived) records with a call of their own, which reads every deleted
record of the object. okrsync runs that sweep every `deletes_every` (README) instead of every
cycle, from where the previous sweep ended: `delete_sweeps.swept_at` per source and stream.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delete_sweeps",
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("stream", sa.String(16), primary_key=True),
        sa.Column("swept_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("delete_sweeps")
