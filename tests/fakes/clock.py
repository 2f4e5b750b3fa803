"""A clock that tests move by hand; sleeping advances it at once and is recorded."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta


class FakeClock:
    """Starts at a fixed instant; ``sleep`` advances time instead of waiting."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 4, 13, 6, 0, tzinfo=UTC)
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        """Return the fake current time."""
        return self.current

    async def sleep(self, seconds: float) -> None:
        """Record the sleep, advance the clock and yield to the loop once."""
        self.sleeps.append(seconds)
        self.current += timedelta(seconds=seconds)
        await asyncio.sleep(0)

    def advance(self, **delta: float) -> None:
        """Move the clock forward, e.g. ``advance(hours=6)``."""
        self.current += timedelta(**delta)
