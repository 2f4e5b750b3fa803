"""A store on each database: a temporary SQLite file, and a fresh PostgreSQL database.

PostgreSQL runs when DIGEST_TEST_POSTGRES_URL names a server and a role that may create
databases; without it those tests are skipped, except in CI, where that is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from storage.db import create_engine_for, normalise_url
from storage.store import Store

POSTGRES_ENV = "DIGEST_TEST_POSTGRES_URL"
DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def postgres_server_url() -> str:
    url = os.environ.get(POSTGRES_ENV, "").strip()
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must test PostgreSQL: {POSTGRES_ENV} is not set")
        pytest.skip(f"set {POSTGRES_ENV} to run the PostgreSQL tests")
    return normalise_url(url)


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database of the requested kind, dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    server = make_url(postgres_server_url())
    name = f"digest_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    created = create_engine_for(database_url)
    yield created
    created.dispose()


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    opened = await Store.open(database_url)
    try:
        yield opened
    finally:
        await opened.aclose()
