"""Delivery jobs (the outbox workers claim) and when subscriptions began or were paused.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
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
        "delivery_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("destination", sa.String(200), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("difficulty", sa.String(16), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("claimed_by", sa.String(100), server_default="", nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["editions.id"],
            name="fk_delivery_jobs_edition_id_editions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_delivery_jobs"),
        sa.UniqueConstraint("destination", "edition_id", name="uq_delivery_jobs_destination"),
    )
    op.create_index("ix_delivery_jobs_state_due", "delivery_jobs", ["state", "due_at"])
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("created_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE subscriptions SET created_at = updated_at")
    with op.batch_alter_table("subscriptions") as batch:
        batch.alter_column("created_at", existing_type=sa.DateTime(timezone=True), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_column("paused_at")
        batch.drop_column("created_at")
    op.drop_index("ix_delivery_jobs_state_due", table_name="delivery_jobs")
    op.drop_table("delivery_jobs")
