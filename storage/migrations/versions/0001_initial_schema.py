"""Initial schema: items, sightings, source runs, source state, submissions.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("canonical_id", sa.String(512), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("authors", sa.JSON(), nullable=False),
        _when("published_at", nullable=True),
        sa.Column("arxiv_id", sa.String(64), nullable=True),
        sa.Column("arxiv_version", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        _when("first_seen"),
        _when("last_seen"),
        sa.Column("citations", sa.Integer(), nullable=True),
        _when("citations_checked_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_items"),
        sa.UniqueConstraint("canonical_id", name="uq_items_canonical_id"),
    )
    op.create_index("ix_items_arxiv_id", "items", ["arxiv_id"])
    op.create_index("ix_items_first_seen", "items", ["first_seen"])

    op.create_table(
        "sightings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("authors", sa.JSON(), nullable=False),
        _when("published_at", nullable=True),
        sa.Column("arxiv_id", sa.String(64), nullable=True),
        sa.Column("arxiv_version", sa.Integer(), nullable=True),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        _when("first_seen"),
        _when("last_seen"),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name="fk_sightings_item_id_items", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_sightings"),
        sa.UniqueConstraint("item_id", "source", name="uq_sightings_item_id"),
    )

    op.create_table(
        "source_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        _when("started_at"),
        _when("finished_at"),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("fetched", sa.Integer(), nullable=False),
        sa.Column("new", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_source_runs"),
    )
    op.create_index("ix_source_runs_source_started_at", "source_runs", ["source", "started_at"])

    op.create_table(
        "source_state",
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        _when("updated_at"),
        sa.PrimaryKeyConstraint("source", name="pk_source_state"),
    )

    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("submitted_by", sa.String(200), nullable=False),
        _when("submitted_at"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("canonical_id", sa.String(512), nullable=True),
        _when("resolved_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_submissions"),
    )
    op.create_index("ix_submissions_status", "submissions", ["status"])


def downgrade() -> None:
    op.drop_table("submissions")
    op.drop_table("source_state")
    op.drop_table("source_runs")
    op.drop_table("sightings")
    op.drop_index("ix_items_first_seen", table_name="items")
    op.drop_index("ix_items_arxiv_id", table_name="items")
    op.drop_table("items")
