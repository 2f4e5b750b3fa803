"""An unexpected error while delivering is counted, so that ``publish`` exits non-zero."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from adapters.chat.console_chat import ConsoleChat
from bot.config import ScheduleSettings
from bot.delivery.schedule import Scheduler
from bot.domain import DeliveryJob
from storage.store import Store
from tests.fakes.clock import FakeClock


class BrokenClaims(Store):
    """A store whose claims fail as an absurd lease made them fail (a timedelta overflow)."""

    async def claim_delivery(
        self,
        worker: str,
        now: datetime,
        lease: timedelta,
        platforms: Sequence[str] | None = None,
    ) -> DeliveryJob | None:
        raise OverflowError("date value out of range")


async def test_a_failing_claim_counts_as_an_error(tmp_path: Path) -> None:
    store = await BrokenClaims.open(f"sqlite:///{tmp_path / 'broken.db'}")

    async def ingest() -> None:
        return None

    async def compose(day: date) -> None:
        return None

    chat = ConsoleChat(io.StringIO())
    scheduler = Scheduler(
        store,
        FakeClock(datetime(2026, 4, 15, 12, tzinfo=UTC)),
        ScheduleSettings(),
        {"slack": chat},
        ingest=ingest,
        compose=compose,
        worker="test",
    )
    try:
        counters = await scheduler.deliver_due()
    finally:
        await store.aclose()
    assert counters.errors == 1
