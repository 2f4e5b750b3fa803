"""Stopping the schedule while a job runs: the job ends or is cancelled quietly."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.config import ScheduleSettings
from bot.delivery.schedule import Scheduler
from bot.domain import Subscription
from storage.store import Store
from tests.fakes.clock import FakeClock


class StuckStore(Store):
    """A store whose subscription listing never answers, as a hung database would."""

    entered: asyncio.Event

    async def subscriptions_since(self) -> list[tuple[Subscription, datetime]]:
        self.entered.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


@pytest.fixture
async def stuck(tmp_path: Path) -> AsyncIterator[StuckStore]:
    opened = await StuckStore.open(f"sqlite:///{tmp_path / 'stuck.db'}")
    assert isinstance(opened, StuckStore)
    opened.entered = asyncio.Event()
    try:
        yield opened
    finally:
        await opened.aclose()


async def test_stopping_during_a_planned_job_logs_no_error(
    stuck: StuckStore, caplog: pytest.LogCaptureFixture
) -> None:
    async def ingest() -> None:
        return None

    async def compose(day: date) -> None:
        return None

    clock = FakeClock(datetime(2026, 4, 15, 12, tzinfo=UTC))
    scheduler = Scheduler(
        stuck, clock, ScheduleSettings(), {}, ingest=ingest, compose=compose, worker="test"
    )
    caplog.set_level(logging.INFO)
    await scheduler.start()
    await asyncio.wait_for(stuck.entered.wait(), timeout=10)  # the plan job is running
    await asyncio.wait_for(scheduler.aclose(), timeout=10)
    await asyncio.sleep(0.1)  # APScheduler's done-callbacks run on the next turns
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
