"""The migrations are the schema: they agree with the models on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.orm import Session

from storage.db import current_revision, downgrade, head_revision, upgrade
from storage.models import Base, DeliveryJobRow, SubscriptionRow
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
