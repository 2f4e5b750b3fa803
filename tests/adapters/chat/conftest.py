"""Fixtures shared by the chat adapter tests: an empty store and a fake Discord."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import discord
import pytest

from adapters.chat.discord_chat import configure_endpoints
from storage.store import Store
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
    async with FakeDiscord() as server:
        # configure_endpoints sets two process-wide class attributes: restore them after.
        monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
        monkeypatch.setattr(
            discord.gateway.DiscordWebSocket,
            "DEFAULT_GATEWAY",
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
        )
        configure_endpoints(server.api_url, server.gateway_url)
        yield server
