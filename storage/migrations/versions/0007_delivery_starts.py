"""Delivery starts: whether a delivery of an edition to a destination ever began.

A delivery that never began cannot have left a message behind, so it need not ask the
platform for one before its first send (one request saved per destination and edition).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
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
        "delivery_starts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("destination", sa.String(200), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["editions.id"],
            name="fk_delivery_starts_edition_id_editions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_delivery_starts"),
        sa.UniqueConstraint("destination", "edition_id", name="uq_delivery_starts_destination"),
    )


def downgrade() -> None:
    op.drop_table("delivery_starts")
