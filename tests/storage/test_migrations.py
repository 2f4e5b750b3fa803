"""The migrations are the schema: they agree with the models on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import sys
from asyncio.subprocess import PIPE
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.orm import Session

from storage.db import create_engine_for, current_revision, downgrade, head_revision, upgrade
from storage.models import Base, DeliveryJobRow, SubscriptionRow
from tests.storage.conftest import DATABASES

pytestmark = pytest.mark.parametrize("database_url", DATABASES, indirect=True)
REPOSITORY = Path(__file__).resolve().parents[2]


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


def test_existing_subscriptions_get_created_at_from_updated_at(engine: Engine) -> None:
    upgrade(engine, "0005")
    updated = datetime(2026, 4, 1, 9, 30, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO subscriptions (platform, workspace, channel, weekday, at_time,"
                " timezone, difficulty, active, paused_reason, created_by, updated_at)"
                " VALUES ('slack', 'T1', 'C1', 0, '09:00', 'UTC', NULL, :active, '', 'U1',"
                " :updated)"
            ),
            {"active": True, "updated": updated},
        )
    upgrade(engine)
    with Session(engine) as session:
        row = session.scalars(select(SubscriptionRow)).one()
        assert (row.created_at, row.updated_at, row.paused_at) == (updated, updated, None)


def test_a_delivery_job_written_by_hand_starts_with_no_attempts(engine: Engine) -> None:
    upgrade(engine)
    at = datetime(2026, 4, 13, 6, 0, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO editions (id, edition_date, title, intro, offline, created_at)"
                " VALUES (1, :day, 'T', 'I.', :offline, :at)"
            ),
            {"day": at.date(), "offline": True, "at": at},
        )
        connection.execute(
            text(
                "INSERT INTO delivery_jobs (destination, edition_id, state, due_at, created_at)"
                " VALUES ('slack:C1', 1, 'pending', :at, :at)"
            ),
            {"at": at},
        )
    with Session(engine) as session:
        job = session.scalars(select(DeliveryJobRow)).one()
        assert (job.attempts, job.claimed_by, job.reason, job.lease_until) == (0, "", "", None)


async def test_instances_starting_at_once_on_a_fresh_database_all_migrate_it(
    database_url: str,
) -> None:
    # Separate processes, as several `digestbot run` would be (alembic's context is
    # process-wide, so threads would not show it). Without a lock, all but one failed
    # creating tables that another had just created.
    script = "import sys; from storage.db import upgrade; upgrade(sys.argv[1])"
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            script,
            database_url,
            cwd=REPOSITORY,
            stdout=PIPE,
            stderr=PIPE,
        )
        for _ in range(4)
    ]
    results = [await process.communicate() for process in processes]
    failures = [err.decode()[-500:] for _, err in results if err]
    assert failures == []
    assert [process.returncode for process in processes] == [0, 0, 0, 0]
    engine = create_engine_for(database_url)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()
