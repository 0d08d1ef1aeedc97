"""targets from the CRM: each rep's quota (or goal) per key result, re-read every cycle

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05

- crm_targets: per (source, objective, key result, CRM owner) the target the CRM holds for the
  key result's period (README "Targets from the CRM"): Salesforce ForecastingQuota or HubSpot
  goal_targets, summed over the quotas of the period. Replaced whole for a key result and source
  each cycle that reads them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crm_targets",
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("objective", sa.String(64), primary_key=True),
        sa.Column("key_result", sa.String(64), primary_key=True),
        sa.Column("owner_id", sa.String(64), primary_key=True),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("amount", sa.Numeric(28, 8), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("crm_targets")
