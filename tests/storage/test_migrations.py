"""The migrations are the schema: they agree with the models on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from storage.db import current_revision, downgrade, head_revision, upgrade
from storage.models import Base
from tests.storage.conftest import DATABASES

pytestmark = pytest.mark.parametrize("database_url", DATABASES, indirect=True)


def test_models_and_migrations_agree(engine: Engine) -> None:
    upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_upgrade_is_idempotent_and_downgrade_empties_the_schema(engine: Engine) -> None:
    upgrade(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert {"items", "sightings", "source_runs", "source_state", "submissions"} <= set(
        inspect(engine).get_table_names()
    )
    downgrade(engine, "base")
    assert current_revision(engine) is None
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
