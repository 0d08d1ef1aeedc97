"""owner + date indexes for the rollup's per-owner statements

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 11:50:00

A grouped rollup joins owners to a stream on (source, owner_id) with the period on the
stream's date column (`metrics._group_statement`). With only `ix_<stream>_owner_id`, each
owner's lookup visits every record the owner ever had and checks the date row by row; with
the date in the index it visits only the period's records. Issue #5 benchmark (1,000,000
deals and calls, SQLite): see README "Performance".
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# (index, table, date column): the date column each stream's periods are read on by default
# (records.DEFAULT_DATE_FIELD).
INDEXES = (
    ("ix_deals_owner_close_date", "deals", "close_date"),
    ("ix_calls_owner_occurred_at", "calls", "occurred_at"),
    ("ix_renewals_owner_due_date", "renewals", "due_date"),
)


def upgrade() -> None:
    for name, table, column in INDEXES:
        op.create_index(name, table, ["source", "owner_id", column])


def downgrade() -> None:
    for name, table, _column in INDEXES:
        op.drop_index(name, table_name=table)
