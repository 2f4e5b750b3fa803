"""Opening a database as it is (the read-only commands): never created, never migrated."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, inspect

from storage.db import DatabaseError, current_revision, head_revision, upgrade
from storage.store import Store
from tests.storage.conftest import DATABASES

pytestmark = pytest.mark.parametrize("database_url", DATABASES, indirect=True)


async def test_an_empty_database_is_left_empty(database_url: str, engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        with pytest.raises(DatabaseError, match=r"there is no database at .*store\.db yet"):
            await Store.open_existing(database_url)
        engine.connect().close()  # now the file exists, without a schema
    with pytest.raises(DatabaseError, match="no schema yet; create it with: digestbot db upgrade"):
        await Store.open_existing(database_url)
    assert inspect(engine).get_table_names() == []


async def test_an_older_schema_is_named_and_kept(database_url: str, engine: Engine) -> None:
    upgrade(engine, "0010")
    with pytest.raises(DatabaseError, match=r"older than this digestbot's \(0010, latest 00"):
        await Store.open_existing(database_url)
    assert current_revision(engine) == "0010"
    upgrade(engine)
    store = await Store.open_existing(database_url)
    try:
        assert await store.subscription_records() == []
    finally:
        await store.aclose()
    assert current_revision(engine) == head_revision()
