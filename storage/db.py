"""Database engines from a URL (no globals) and Alembic migrations run from code."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

MIGRATIONS = Path(__file__).parent / "migrations"


class DatabaseError(Exception):
    """The database cannot be used; the message says why in one line."""


def _split_userinfo(url: str) -> tuple[str, str, str]:
    """Return ``(scheme://, userinfo, rest)``; userinfo is everything before the last '@'.

    The last '@' (not the first, as URL parsers do) ends the userinfo: a password holding an
    '@' typed as is would otherwise leak its tail into the host name, and into every error
    that names the host. SQLite URLs have no userinfo (a path may hold an '@').
    """
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.startswith("sqlite") or "@" not in rest:
        return url, "", ""
    userinfo, _, host = rest.rpartition("@")
    return scheme + sep, userinfo, host


def normalise_url(url: str) -> str:
    """Map ``postgres://`` and ``postgresql://`` to the psycopg 3 driver we ship.

    A raw '@' in the password is percent-encoded, so that the URL means what was meant.
    """
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix) :]
    scheme, userinfo, host = _split_userinfo(url)
    if "@" in userinfo:
        user, colon, password = userinfo.partition(":")
        userinfo = quote(user, safe="%") + colon + quote(password, safe="%")
        return f"{scheme}{userinfo}@{host}"
    return url


def redact(text: str, url: str) -> str:
    """Return ``text`` without any part of ``url``'s userinfo (user name, password, pieces).

    Drivers quote what they parsed, and a mistyped URL can be parsed anywhere: every piece
    of the userinfo, raw and percent-decoded, is masked wherever it appears.
    """
    _, userinfo, _ = _split_userinfo(url)
    if not userinfo:
        return text
    pieces = {userinfo, unquote(userinfo)}
    for separator in (":", "@"):
        pieces |= {p for whole in list(pieces) for p in whole.split(separator)}
    pieces |= {unquote(p) for p in pieces}
    # Longest first, so that a piece inside a longer one does not leave the rest behind.
    for piece in sorted((p for p in pieces if len(p) >= 3), key=len, reverse=True):
        text = text.replace(piece, "***")
    return text


def describe(exc: BaseException, url: str) -> str:
    """Return ``exc`` as one line without credentials (nor SQLAlchemy's "Background" link)."""
    text = str(exc).split("(Background on this error at:")[0]
    return redact(" ".join(text.split()), url)[:500]


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
    except (ArgumentError, NoSuchModuleError, ValueError, ImportError) as exc:
        scheme, userinfo, host = _split_userinfo(url)
        shown = f"{scheme}***@{host}" if userinfo else url  # never print a password
        missing = "no driver for it is installed: " if isinstance(exc, ImportError) else ""
        raise DatabaseError(
            f"DIGEST_DATABASE_URL {shown!r} is not a usable database URL "
            f"(e.g. sqlite:///digest.db or postgresql://user:pass@host/db): "
            f"{missing}{describe(exc, url)}"
        ) from None


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(target: str | Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` on a URL or an engine."""
    engine = create_engine_for(target) if isinstance(target, str) else target
    url = engine.url.render_as_string(hide_password=False)
    try:
        command.upgrade(_alembic_config(engine), revision)
    except SQLAlchemyError as exc:
        raise DatabaseError(
            f"could not migrate the database: {exc.__class__.__name__}: {describe(exc, url)}"
        ) from None
    except CommandError as exc:
        # Alembic cannot place the database's revision among ours: a newer digestbot
        # migrated it (running on would mean guessing at a schema we do not know).
        raise DatabaseError(
            "the database is newer than this digestbot (its schema revision is unknown "
            f"here: {describe(exc, url)}); upgrade digestbot, or point DIGEST_DATABASE_URL "
            "at another database"
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


CREATE_HINT = "create it with: digestbot db upgrade"


def missing_sqlite_file(engine: Engine) -> Path | None:
    """Return the SQLite file ``engine`` names when it does not exist (connecting creates it)."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    path = Path(url.database or "")
    return None if path.exists() else path


def require_current(engine: Engine) -> None:
    """Check that the database exists and is at the latest schema, changing nothing.

    Raises `DatabaseError` naming what to do: create or upgrade it (``digestbot db upgrade``),
    or upgrade digestbot for a database a newer one migrated.
    """
    url = engine.url.render_as_string(hide_password=False)
    missing = missing_sqlite_file(engine)
    if missing is not None:
        raise DatabaseError(f"there is no database at {missing} yet; {CREATE_HINT}")
    try:
        revision = current_revision(engine)
    except SQLAlchemyError as exc:
        raise DatabaseError(
            f"could not open the database: {exc.__class__.__name__}: {describe(exc, url)}"
        ) from None
    head = head_revision()
    if revision == head:
        return
    if revision is None:
        raise DatabaseError(f"the database has no schema yet; {CREATE_HINT}")
    known = {script.revision for script in ScriptDirectory(str(MIGRATIONS)).walk_revisions()}
    if revision not in known:
        raise DatabaseError(
            f"the database is newer than this digestbot (its schema revision {revision} is "
            "unknown here); upgrade digestbot, or point DIGEST_DATABASE_URL at another database"
        )
    raise DatabaseError(
        f"the database's schema is older than this digestbot's ({revision}, latest {head}); "
        "run: digestbot db upgrade"
    )
