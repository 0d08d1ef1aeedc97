"""check-ins: values of manual key results and notes on any key result

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05

- checkins: one row per `okrsync checkin` (README "Check-ins and manual key results"): the key
  result, the group ('' for the total, else the rep's e-mail), the period it was made for, the
  value (none for a note only), the note, who and when. Rows are never updated or deleted: a
  newer check-in supersedes an older one, and every one stays on the record.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "checkins",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("objective", sa.String(64), nullable=False),
        sa.Column("key_result", sa.String(64), nullable=False),
        sa.Column("group_key", sa.String(254), nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("value", sa.Numeric(28, 8)),
        sa.Column("note", sa.Text),
        sa.Column("author", sa.Text, nullable=False),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_checkins_kr_time", "checkins", ["objective", "key_result", "checked_in_at"])


def downgrade() -> None:
    op.drop_index("ix_checkins_kr_time", table_name="checkins")
    op.drop_table("checkins")
