"""closed periods: frozen final values of ended periods, and late data after the freeze

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05

- closed_periods: one row per objective and ended period (README "Closing a period"): when it
  closes (its end + close_after), when it was frozen (NULL while it is recomputed), the pull
  cursors its final values were computed up to, and how many of its records changed since.
- closed_values: each key result's value of such a period, per group: provisional while the
  period is closing, final once frozen. `previous_period` baselines read the frozen ones.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "closed_periods",
        sa.Column("objective", sa.String(64), primary_key=True),
        sa.Column("period_start", sa.Date, primary_key=True),
        sa.Column("period_end", sa.Date, primary_key=True),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("frozen_at", sa.DateTime(timezone=True)),
        sa.Column("through", sa.JSON, nullable=False),
        sa.Column("late_records", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "closed_values",
        sa.Column("objective", sa.String(64), primary_key=True),
        sa.Column("period_start", sa.Date, primary_key=True),
        sa.Column("period_end", sa.Date, primary_key=True),
        sa.Column("key_result", sa.String(64), primary_key=True),
        sa.Column("group_kind", sa.String(64), primary_key=True),
        sa.Column("group_key", sa.String(254), primary_key=True),
        sa.Column("value", sa.Numeric(28, 8)),
        sa.Column("baseline", sa.Numeric(28, 8)),
        sa.Column("target", sa.Numeric(28, 8)),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("progress", sa.Double()),
        sa.Column("score", sa.Double()),
        sa.Column("status", sa.String(16)),
        sa.Column("currency", sa.String(8)),
    )


def downgrade() -> None:
    op.drop_table("closed_values")
    op.drop_table("closed_periods")
