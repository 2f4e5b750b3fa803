"""Database engines from a URL (no globals) and Alembic migrations run from code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

MIGRATIONS = Path(__file__).parent / "migrations"


class DatabaseError(Exception):
    """The database cannot be used; the message says why in one line."""


def normalise_url(url: str) -> str:
    """Map ``postgres://`` and ``postgresql://`` to the psycopg 3 driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine_for(url: str) -> Engine:
    """Return an engine for ``url`` (SQLite or PostgreSQL), or raise `DatabaseError`."""
    try:
        parsed = make_url(normalise_url(url))
        if parsed.get_backend_name() == "sqlite":
            in_memory = parsed.database in (None, "", ":memory:")
            options: dict[str, Any] = (
                {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
                if in_memory
                else {"connect_args": {"check_same_thread": False}}
            )
            engine = create_engine(parsed, **options)
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        return create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=5)
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        shown = url.split("@")[-1]  # never print a password
        raise DatabaseError(
            f"DIGEST_DATABASE_URL {shown!r} is not a usable database URL "
            f"(e.g. sqlite:///digest.db or postgresql://user:pass@host/db): {exc}"
        ) from None


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(target: str | Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` on a URL or an engine."""
    engine = create_engine_for(target) if isinstance(target, str) else target
    try:
        command.upgrade(_alembic_config(engine), revision)
    except SQLAlchemyError as exc:
        raise DatabaseError(
            f"could not migrate the database: {exc.__class__.__name__}: {exc}"
        ) from None
    finally:
        if isinstance(target, str):
            engine.dispose()


def downgrade(engine: Engine, revision: str) -> None:
    """Revert migrations down to ``revision`` (``base`` empties the schema)."""
    command.downgrade(_alembic_config(engine), revision)


def head_revision() -> str:
    """Return the newest migration's revision id."""
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """Return the revision the database is at (``None`` when never migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
