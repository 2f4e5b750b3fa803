"""Fixtures shared by the chat adapter tests: an empty store and a fake Discord."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.store import Store
from tests.builders import discord_at_fake
from tests.fakes.discord_server import FakeDiscord


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite:///{tmp_path / 'chat.db'}")
    try:
        yield opened
    finally:
        await opened.aclose()


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    """A fake Discord that discord.py is pointed at (restored after the test)."""
    async with discord_at_fake(monkeypatch) as server:
        yield server
