"""Deliveries: every part of an edition sent to a destination, with its message id.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
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
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("destination", sa.String(200), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(100), nullable=False),
        sa.Column("thread_id", sa.String(100), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["editions.id"],
            name="fk_deliveries_edition_id_editions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
        sa.UniqueConstraint(
            "destination", "edition_id", "part", name="uq_deliveries_destination_edition_part"
        ),
    )
    op.create_index("ix_deliveries_edition_id", "deliveries", ["edition_id"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_edition_id", table_name="deliveries")
    op.drop_table("deliveries")
