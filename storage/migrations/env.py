"""Alembic environment: runs on the engine handed over by storage.db (or a URL for the CLI)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from storage.db import create_engine_for
from storage.models import Base

config = context.config
engine: Engine | None = config.attributes.get("engine")
if engine is None:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("set sqlalchemy.url (or use: digestbot db upgrade)")
    engine = create_engine_for(url)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
