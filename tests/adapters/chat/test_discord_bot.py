"""Discord app commands through the real discord.py client against a fake Discord gateway."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import discord
import pytest

from adapters.chat.discord_bot import INVITE_PERMISSIONS, DiscordBot, invite_url
from adapters.chat.discord_chat import REQUIRED_PERMISSIONS
from bot.commands.reply import Reply
from bot.domain import Edition
from bot.ports import CredentialRefusedError
from storage.store import Store
from tests.builders import an_edition
from tests.fakes.clock import FakeClock
from tests.fakes.discord_server import (
    ADMIN_ID,
    APP_ID,
    BOT_TOKEN,
    CREATE_PUBLIC_THREADS,
    MEMBER_ID,
    TEXT_CHANNEL,
    VIEW_CHANNEL,
    FakeDiscord,
)

CLOCK = FakeClock(datetime(2026, 4, 13, 7, tzinfo=UTC))
EPHEMERAL = 64


@pytest.fixture
async def edition(store: Store) -> Edition:
    return await an_edition(store)


class Fetcher:
    """An on-demand paper fetch that takes a while, as arXiv does."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def __call__(self, arxiv_id: str) -> Reply:
        self.asked.append(arxiv_id)
        await asyncio.sleep(0.2)
        return Reply(text=f"Fetched arXiv:{arxiv_id}")


class Publisher:
    """Records the channels an admin asked to publish to."""

    def __init__(self) -> None:
        self.channels: list[str] = []

    async def __call__(self, channel: str) -> Reply:
        self.channels.append(channel)
        return Reply(text="Posted the edition: 5 messages sent.")


@pytest.fixture
async def bot(fake: FakeDiscord, store: Store, edition: Edition) -> AsyncIterator[DiscordBot]:
    started = DiscordBot(
        BOT_TOKEN,
        store,
        CLOCK,
        fetch_paper=Fetcher(),
        publish_to=Publisher(),
        guild_ready_timeout=0.05,
    )
    await started.start()
    try:
        yield started
    finally:
        await started.aclose()


async def answered(fake: FakeDiscord, name: str, options: list[dict[str, Any]], **kw: Any) -> Any:
    interaction = await fake.interact(name, options, **kw)
    await asyncio.wait_for(interaction.done.wait(), timeout=5)
    return interaction


def opt(name: str, value: str) -> dict[str, Any]:
    return {"name": name, "type": 3, "value": value}


async def test_digest_lists_the_level_asked_for_privately(
    fake: FakeDiscord, bot: DiscordBot, edition: Edition
) -> None:
    interaction = await answered(fake, "digest", [opt("difficulty", "accessible")])

    assert interaction.answer["type"] == 4
    data = interaction.answer["data"]
    assert data["flags"] & EPHEMERAL
    assert data["content"].startswith("Accessible items in the edition of April 13, 2026")
    wanted = [e for e in edition.entries if e.summary.difficulty.value == "accessible"]
    listing = data["embeds"][0]["description"] if wanted else ""
    for entry in wanted:
        assert entry.item.content.url in listing
    assert data["allowed_mentions"] == {"parse": []}
    assert interaction.callback_latency < 3.0


async def test_paper_by_id_shows_its_card(
    fake: FakeDiscord, bot: DiscordBot, edition: Edition
) -> None:
    entry = next(e for e in edition.entries if e.item.content.arxiv_id)
    interaction = await answered(fake, "paper", [opt("query", entry.item.content.arxiv_id or "")])

    (embed, *_) = interaction.answer["data"]["embeds"]
    assert embed["url"] == entry.item.content.url
    assert embed["fields"][0]["name"] == "Takeaways"


async def test_an_unknown_paper_is_deferred_then_followed_up(
    fake: FakeDiscord, bot: DiscordBot
) -> None:
    interaction = await fake.interact("paper", [opt("query", "2604.99999")])
    await asyncio.wait_for(interaction.done.wait(), timeout=5)

    assert interaction.answer["type"] == 5
    assert interaction.answer["data"]["flags"] & EPHEMERAL
    assert interaction.callback_latency < 3.0
    (followup,) = interaction.followups
    assert followup["content"] == "Fetched arXiv:2604.99999"


async def test_a_bad_option_gets_one_private_line_saying_what_is_right(
    fake: FakeDiscord, bot: DiscordBot
) -> None:
    interaction = await answered(fake, "digest", [opt("edition", "last week")])

    data = interaction.answer["data"]
    assert data["flags"] & EPHEMERAL
    assert "\n" not in data["content"]
    assert "edition must be latest or a date like 2026-04-13" in data["content"]


async def test_edition_dates_and_titles_are_suggested(
    fake: FakeDiscord, bot: DiscordBot, edition: Edition
) -> None:
    dates = await fake.interact(
        "digest", [dict(opt("edition", "2026"), focused=True)], autocomplete=True
    )
    await asyncio.wait_for(dates.done.wait(), timeout=5)
    assert dates.answer["type"] == 8
    assert dates.answer["data"]["choices"] == [{"name": "2026-04-13", "value": "2026-04-13"}]

    word = edition.entries[0].item.content.title.split()[0]
    titles = await fake.interact(
        "paper", [dict(opt("query", word), focused=True)], autocomplete=True
    )
    await asyncio.wait_for(titles.done.wait(), timeout=5)
    choices = titles.answer["data"]["choices"]
    assert 1 <= len(choices) <= 25
    assert all(word.lower() in c["name"].lower() for c in choices)
    first = edition.entries[0].item.content
    wanted = f"arXiv:{first.arxiv_id}" if first.arxiv_id else first.url
    assert any(c["value"] == wanted for c in choices)


def sub(name: str, *options: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"name": name, "type": 1, "options": list(options)}]


async def test_admin_commands_need_manage_server(
    fake: FakeDiscord, bot: DiscordBot, store: Store
) -> None:
    refused = await answered(fake, "digest-admin", sub("subscribe"), user_id=MEMBER_ID)
    assert "needs the Manage Server permission" in refused.answer["data"]["content"]
    assert await store.subscriptions() == []

    done = await answered(
        fake,
        "digest-admin",
        sub("subscribe", opt("day", "tue"), opt("time", "08:30"), opt("tz", "Europe/Paris")),
        user_id=ADMIN_ID,
    )
    assert done.answer["data"]["content"].startswith("Subscribed")
    (subscription,) = await store.subscriptions()
    assert subscription.platform == "discord"
    assert subscription.channel == TEXT_CHANNEL
    assert (subscription.weekday, subscription.at_time) == (1, "08:30")
    assert subscription.timezone == "Europe/Paris"


async def test_a_paused_channel_is_resumed_by_an_admin(
    fake: FakeDiscord, bot: DiscordBot, store: Store
) -> None:
    await answered(fake, "digest-admin", sub("subscribe"), user_id=ADMIN_ID)
    await store.pause_subscription("discord", TEXT_CHANNEL, "the bot was removed", CLOCK.now())
    status = await answered(fake, "digest-admin", sub("status"), user_id=ADMIN_ID)
    assert "the bot was removed" in status.answer["data"]["content"]

    resumed = await answered(fake, "digest-admin", sub("resume"), user_id=ADMIN_ID)
    assert "Resumed" in resumed.answer["data"]["content"]
    (subscription,) = await store.subscriptions()
    assert (subscription.active, subscription.paused_reason) == (True, "")


async def test_admin_publish_posts_here_after_deferring(fake: FakeDiscord, bot: DiscordBot) -> None:
    interaction = await answered(fake, "digest-admin", sub("publish"), user_id=ADMIN_ID)

    assert interaction.answer["type"] == 5
    assert interaction.followups[0]["content"] == "Posted the edition: 5 messages sent."


async def test_commands_are_synced_only_when_they_change(
    fake: FakeDiscord, store: Store, edition: Edition
) -> None:
    for _ in range(2):
        bot = DiscordBot(BOT_TOKEN, store, CLOCK, guild_ready_timeout=0.05)
        await bot.start()
        await bot.aclose()
    assert fake.command_puts == 1
    names = {c["name"] for c in fake.commands["global"]}
    assert names == {"digest", "paper", "digest-admin"}
    (admin,) = [c for c in fake.commands["global"] if c["name"] == "digest-admin"]
    assert int(admin["default_member_permissions"]) == 1 << 5  # Manage Server

    guild_bot = DiscordBot(
        BOT_TOKEN, store, CLOCK, guild_ready_timeout=0.05, sync_guild_id=1200000000000000001
    )
    await guild_bot.start()
    await guild_bot.aclose()
    assert fake.command_puts == 2
    assert "1200000000000000001" in fake.commands


async def test_a_sharded_bot_answers_too(fake: FakeDiscord, store: Store, edition: Edition) -> None:
    bot = DiscordBot(BOT_TOKEN, store, CLOCK, sharded=True, guild_ready_timeout=0.05)
    await bot.start()
    try:
        interaction = await answered(fake, "digest", [])
        assert interaction.answer["data"]["content"].startswith("Items in the edition")
    finally:
        await bot.aclose()


async def test_a_wrong_token_fails_start_with_a_clear_error(
    fake: FakeDiscord, store: Store
) -> None:
    bot = DiscordBot("wrong", store, CLOCK, guild_ready_timeout=0.05)
    with pytest.raises(CredentialRefusedError, match="DISCORD_BOT_TOKEN"):
        await bot.start()
    await bot.aclose()


async def test_starting_prints_no_voice_warning_and_says_how_to_invite(
    fake: FakeDiscord,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # As on a machine without PyNaCl and davey, where discord.py warns at every start.
    monkeypatch.setattr(discord.VoiceClient, "warn_nacl", True)
    monkeypatch.setattr(discord.VoiceClient, "warn_dave", True)
    caplog.set_level(logging.INFO)
    started = DiscordBot(BOT_TOKEN, store, CLOCK, guild_ready_timeout=0.05)
    await started.start()
    await started.aclose()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "PyNaCl" not in logged
    assert "davey" not in logged
    (invite,) = [r.getMessage() for r in caplog.records if "oauth2/authorize" in r.getMessage()]
    assert f"client_id={APP_ID}&scope=bot+applications.commands" in invite
    assert "integration_type=0" in invite
    assert "choose Guild Install" in invite


async def test_digest_help_and_subscribe_time_suggestions(
    fake: FakeDiscord, bot: DiscordBot
) -> None:
    usage = await answered(fake, "digest", [opt("edition", "help")])
    assert (
        "the key may be left out: /digest accessible 2026-04-13" in usage.answer["data"]["content"]
    )
    offered = await fake.interact(
        "digest", [dict(opt("edition", "he"), focused=True)], autocomplete=True
    )
    await asyncio.wait_for(offered.done.wait(), timeout=5)
    assert offered.answer["data"]["choices"][-1]["value"] == "help"

    times = await fake.interact(
        "digest-admin", sub("subscribe", dict(opt("time", "9"), focused=True)), autocomplete=True
    )
    await asyncio.wait_for(times.done.wait(), timeout=5)
    assert [c["value"] for c in times.answer["data"]["choices"]] == ["09:00", "09:30"]
    bad = await answered(
        fake, "digest-admin", sub("subscribe", opt("time", "9h")), user_id=ADMIN_ID
    )
    assert "time must look like 09:00 (24-hour)" in bad.answer["data"]["content"]


async def test_subscribe_with_topics_and_only_where_the_bot_can_post(
    fake: FakeDiscord, bot: DiscordBot, store: Store
) -> None:
    topics = await fake.interact(
        "digest-admin",
        sub("subscribe", dict(opt("topics", "agents,sec"), focused=True)),
        autocomplete=True,
    )
    await asyncio.wait_for(topics.done.wait(), timeout=5)
    assert topics.answer["data"]["choices"] == [
        {"name": "agents,security", "value": "agents,security"}
    ]
    hidden = "1400000000000000077"
    fake.add_channel(hidden, "no-threads", deny_bot=CREATE_PUBLIC_THREADS)
    refused = await answered(
        fake, "digest-admin", sub("subscribe"), user_id=ADMIN_ID, channel_id=hidden
    )
    content = refused.answer["data"]["content"]
    assert "the bot lacks the Create Public Threads permission" in content
    assert content.endswith("(then subscribe again)")
    secret = "1400000000000000078"
    fake.add_channel(secret, "secret", deny_bot=VIEW_CHANNEL)
    unseen = await answered(
        fake, "digest-admin", sub("subscribe"), user_id=ADMIN_ID, channel_id=secret
    )
    assert "View Channel" in unseen.answer["data"]["content"]
    assert await store.subscriptions() == []

    done = await answered(
        fake,
        "digest-admin",
        sub("subscribe", opt("topics", "agents, tool use"), opt("exclude", "vision")),
        user_id=ADMIN_ID,
    )
    assert "topics: agents, tool use, not: vision" in done.answer["data"]["content"]
    (subscription,) = await store.subscriptions()
    assert (subscription.topics, subscription.exclude) == (("agents", "tool use"), ("vision",))


def test_the_invite_asks_for_exactly_the_permissions_a_delivery_checks() -> None:
    wanted = discord.Permissions(**{flag: True for flag, _ in REQUIRED_PERMISSIONS})
    assert wanted.value == INVITE_PERMISSIONS
    assert f"permissions={wanted.value}" in invite_url(int(APP_ID))
