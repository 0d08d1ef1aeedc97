"""crm_metadata: CRM metadata connectors keep between runs

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05

- crm_metadata: a Salesforce object's describe, kept with the org's time at which it was last
  known current. The next run asks the org whether the object changed since then
  (`If-Modified-Since`, docs/crm-apis.md §1.12) and describes it in full only when it did.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crm_metadata",
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("crm_metadata")
