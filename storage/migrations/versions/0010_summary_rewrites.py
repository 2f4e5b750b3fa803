"""Summary rewrites: editors' regenerated summaries, their history, and edits in place.

``summary_rewrites`` keeps each replaced summary (who, when, the editor's note, the old
text); ``edit_jobs`` is the outbox of edits to already-delivered item replies, claimed like
delivery jobs; ``deliveries.edit_version`` records which rewrite a message shows, so an edit
resumed after a crash is not applied twice; ``edition_entries.rewritten_at`` is shown to
readers as the item's "updated" mark.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "summary_rewrites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("rewritten_by", sa.String(200), nullable=False),
        sa.Column("rewritten_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("old_why", sa.Text(), nullable=False),
        sa.Column("old_difficulty", sa.String(16), nullable=False),
        sa.Column("old_takeaways", sa.JSON(), nullable=False),
        sa.Column("old_model", sa.String(200), nullable=False),
        sa.Column("old_prompt_version", sa.String(64), nullable=False),
        sa.Column("old_offline", sa.Boolean(), nullable=False),
        sa.Column("old_note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["editions.id"],
            name="fk_summary_rewrites_edition_id_editions",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name="fk_summary_rewrites_item_id_items", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_summary_rewrites"),
        sa.UniqueConstraint(
            "edition_id", "position", "version", name="uq_summary_rewrites_entry_version"
        ),
    )
    op.create_table(
        "edit_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("destination", sa.String(200), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
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
            name="fk_edit_jobs_edition_id_editions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_edit_jobs"),
        sa.UniqueConstraint(
            "destination", "edition_id", "part", "version", name="uq_edit_jobs_destination"
        ),
    )
    op.create_index("ix_edit_jobs_state_due", "edit_jobs", ["state", "due_at"])
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(
            sa.Column("edit_version", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
    with op.batch_alter_table("edition_entries") as batch:
        batch.add_column(sa.Column("rewritten_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("edition_entries") as batch:
        batch.drop_column("rewritten_at")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("edit_version")
    op.drop_index("ix_edit_jobs_state_due", table_name="edit_jobs")
    op.drop_table("edit_jobs")
    op.drop_table("summary_rewrites")
