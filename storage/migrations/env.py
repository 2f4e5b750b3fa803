"""Alembic environment: runs on the engine handed over by storage.db (or a URL for the CLI)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine, text

from storage.db import create_engine_for
from storage.models import Base

MIGRATION_LOCK = 0x6469676573746D67  # "digestmg": apart from the job locks' keys
config = context.config
engine: Engine | None = config.attributes.get("engine")
if engine is None:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("set sqlalchemy.url (or use: digestbot db upgrade)")
    engine = create_engine_for(url)

with engine.connect() as connection:
    # Several instances starting at once on a fresh database would all create the tables
    # and all but one fail. One migrates at a time: on PostgreSQL an advisory lock held
    # until this transaction ends (alembic reads the current revision after taking it); on
    # SQLite the database's write lock, taken before the read.
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
