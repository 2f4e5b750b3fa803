"""Feedback votes: readers' 👍 / 👎 on delivered items, and deliveries found by message id.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
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
        "feedback_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("destination", sa.String(200), nullable=False),
        sa.Column("user_id", sa.String(100), nullable=False),
        sa.Column("vote", sa.String(8), nullable=False),
        sa.Column("voted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name="fk_feedback_votes_item_id_items",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_feedback_votes"),
        sa.UniqueConstraint("item_id", "destination", "user_id", name="uq_feedback_votes_voter"),
    )
    op.create_index("ix_feedback_votes_voted_at", "feedback_votes", ["voted_at"])
    # A reaction names a message; its delivery row is looked up by that id.
    op.create_index("ix_deliveries_message_id", "deliveries", ["message_id"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_message_id", table_name="deliveries")
    op.drop_index("ix_feedback_votes_voted_at", table_name="feedback_votes")
    op.drop_table("feedback_votes")
