"""Imported editions: past editions read from files, kept as history and never delivered.

``imported`` marks them (existing editions were all composed here: false); ``import_hash`` is
the fingerprint of the file's content, so importing the same file again changes nothing.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN, not a batch: rebuilding ``editions`` on SQLite would cascade-delete
    # its entries (foreign keys are on), as 0009 explains for ``items``.
    op.add_column(
        "editions",
        sa.Column("imported", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("editions", sa.Column("import_hash", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("editions") as batch:
        batch.drop_column("import_hash")
        batch.drop_column("imported")
