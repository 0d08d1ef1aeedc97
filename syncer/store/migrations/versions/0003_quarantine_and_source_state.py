"""quarantine, source identities, stream status, write-back checks; unbounded free text

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 18:00:00

- rejected_records: records that could not be mapped, stored or believed, with the reason;
  kept out of every number until a newer version is admitted.
- source_identities: the org id / portal id (and home currency) behind each source name, so
  a second org pointed at the same store is refused instead of mixing cursors.
- stream_status: a stream's last completed pull and last failure; a key result over a stream
  that never completed, or failed this cycle, is unknown rather than zero.
- writeback_checks: when each write-back object's fields were last read back (drift repair).
- source_identities.rates_version: the exchange rates stored amounts were converted with.
- kr_snapshots.currency: the home currency of a money key result's values.
- source_zones: the time zone each source's stored local dates were read in; a changed
  `timezone` makes the next cycle pull that source in full.
- Free-text columns (stage, pipeline, call outcome and direction, owner name, team, region)
  become TEXT: the CRMs allow 255 characters and more, and a value that fits the CRM must fit
  the store on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

WIDENED = (
    ("deals", "stage", 120),
    ("deals", "pipeline", 120),
    ("calls", "outcome", 120),
    ("calls", "direction", 16),
    ("owners", "name", 200),
    ("owners", "team", 120),
    ("owners", "region", 120),
)


def upgrade() -> None:
    op.create_table(
        "rejected_records",
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("stream", sa.String(16), primary_key=True),
        sa.Column("record_id", sa.String(254), primary_key=True),
        sa.Column("field", sa.String(80)),
        sa.Column("value", sa.Text),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True)),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "source_identities",
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("home_currency", sa.String(8)),
        sa.Column("rates_version", sa.String(64)),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "stream_status",
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("stream", sa.String(16), primary_key=True),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
        sa.Column("failed_at", sa.DateTime(timezone=True)),
        sa.Column("error", sa.Text),
    )
    op.create_table(
        "writeback_checks",
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("object", sa.String(80), primary_key=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "source_zones",
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("zone", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    for table, column, length in WIDENED:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, type_=sa.Text, existing_type=sa.String(length))
    with op.batch_alter_table("kr_snapshots") as batch:
        batch.add_column(sa.Column("currency", sa.String(8)))


def downgrade() -> None:
    with op.batch_alter_table("kr_snapshots") as batch:
        batch.drop_column("currency")
    for table, column, length in WIDENED:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, type_=sa.String(length), existing_type=sa.Text)
    op.drop_table("source_zones")
    for table in ("writeback_checks", "stream_status", "source_identities", "rejected_records"):
        op.drop_table(table)
