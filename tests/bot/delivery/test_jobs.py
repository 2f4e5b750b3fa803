"""Each job run is one log line and one observation: outcome, duration, level."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.delivery.jobs import JobOutcome, JobRun, timed
from tests.fakes.clock import FakeClock


async def test_a_run_is_timed_on_the_clock_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    seen: list[JobRun] = []
    caplog.set_level(logging.DEBUG, logger="bot.delivery.jobs")
    with timed("compose", clock, seen.append) as run:
        await clock.sleep(42)
        run.detail = "edition of 2026-04-13"

    async def failing() -> None:
        with timed("ingest", clock, seen.append):
            await clock.sleep(3)
            raise ValueError("bad\nthing")

    with pytest.raises(ValueError, match="bad"):
        await failing()
    with timed("plan", clock, seen.append) as run:
        run.verbose = False  # routine: DEBUG
    assert [(r.task, r.outcome, r.duration_s) for r in seen] == [
        ("compose", JobOutcome.OK, 42.0),
        ("ingest", JobOutcome.FAILED, 3.0),
        ("plan", JobOutcome.OK, 0.0),
    ]
    lines = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert lines == [
        ("INFO", "compose ok in 42.00 s: edition of 2026-04-13"),
        ("WARNING", "ingest failed in 3.00 s: ValueError: bad thing"),
        ("DEBUG", "plan ok in 0.00 s"),
    ]
    assert [getattr(r, "duration_s") for r in caplog.records] == [42.0, 3.0, 0.0]  # noqa: B009


async def test_a_cancelled_run_is_interrupted_and_a_broken_observer_stops_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    caplog.set_level(logging.INFO, logger="bot.delivery.jobs")

    def broken(_: JobRun) -> None:
        raise RuntimeError("metrics down")

    async def job() -> None:
        with timed("delivery", clock, broken, subject="slack:C1"):
            await asyncio.Event().wait()

    task = asyncio.create_task(job())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    messages = [r.getMessage() for r in caplog.records]
    assert messages[0] == "delivery slack:C1 interrupted in 0.00 s"
    assert messages[1] == "recording the delivery run failed"
