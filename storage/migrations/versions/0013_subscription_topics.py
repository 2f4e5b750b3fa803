"""Per-channel content: ``topics`` and ``exclude`` on subscriptions and on delivery jobs.

Each is a comma-separated list of lower-case keywords or profile topics; empty (every
existing subscription) keeps every item. A delivery job keeps the filter its subscription had
when the job was planned, as it keeps the level, so a resumed delivery picks the same items.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TABLES = ("subscriptions", "delivery_jobs")


def upgrade() -> None:
    # Plain ADD COLUMN with a server default: no table rebuild (see 0011 on SQLite cascades).
    for table in TABLES:
        op.add_column(table, sa.Column("topics", sa.Text(), nullable=False, server_default=""))
        op.add_column(table, sa.Column("exclude", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("exclude")
            batch.drop_column("topics")
