"""Helpers of the reaction tests: a store that counts the reactions reaching it, and waits.

Chat clients run event listeners after the event is acknowledged (Bolt) or received
(discord.py), so the tests wait for the store to show the votes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from bot.domain import ReactedPart
from storage.store import Store

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
"""Votes since then: all of them."""


class WatchedStore(Store):
    """The real store, counting the reactions that reached it."""

    looked_up = 0

    async def reacted_part(
        self, platform: str, channel: str, message_id: str, *, or_earlier: bool = False
    ) -> ReactedPart | None:
        """Count, then look up as the store does."""
        self.looked_up += 1
        return await super().reacted_part(platform, channel, message_id, or_earlier=or_earlier)


async def until(condition: Callable[[], bool], within_s: float = 5.0) -> None:
    """Wait until ``condition()`` holds."""
    async with asyncio.timeout(within_s):
        while not condition():  # noqa: ASYNC110 - the store has no event to wait on
            await asyncio.sleep(0.02)


async def votes_become(store: Store, expected: dict[str, tuple[int, int]]) -> None:
    """Wait until the store's votes are ``expected``; fail with what they are otherwise."""
    found: dict[str, tuple[int, int]] = {}
    for _ in range(250):
        found = await store.item_votes(EPOCH)
        if found == expected:
            return
        await asyncio.sleep(0.02)
    assert found == expected
