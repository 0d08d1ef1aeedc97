"""object records: the records of streams declared on any CRM object

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05

- object_records: one row per (source, stream, id) of a declared stream (README "Any object as a
  stream"): a Lead, a meeting, a ticket. Owner, up to three named dates in date_1..date_3 (the
  stream's `dates:` in order), the modified stamp, deleted, and the mapped fields as attributes.
  Indexed by owner, and by each date within a stream, for the rollup's per-period reads.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "object_records",
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("stream", sa.String(16), primary_key=True),
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("owner_id", sa.String(64)),
        sa.Column("date_1", sa.DateTime(timezone=True)),
        sa.Column("date_2", sa.DateTime(timezone=True)),
        sa.Column("date_3", sa.DateTime(timezone=True)),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("attributes", sa.JSON, nullable=False),
    )
    op.create_index("ix_object_records_owner", "object_records", ["source", "stream", "owner_id"])
    for column in ("date_1", "date_2", "date_3"):
        op.create_index(f"ix_object_records_stream_{column}", "object_records", ["stream", column])


def downgrade() -> None:
    op.drop_table("object_records")
