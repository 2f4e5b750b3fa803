"""Discord reactions as feedback: the real discord.py bot, the fake gateway, the real store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import discord
import pytest

from adapters.chat.discord_bot import DiscordBot
from adapters.chat.discord_reactions import vote_of
from bot.delivery.deliver import Destination, deliver
from bot.domain import Edition, Platform, Vote
from tests.adapters.chat.reacting import EPOCH, WatchedStore, until, votes_become
from tests.builders import an_edition
from tests.fakes.clock import FakeClock
from tests.fakes.discord_server import (
    ADMIN_ID,
    BOT_ID,
    BOT_TOKEN,
    FORUM_CHANNEL,
    GUILD_MESSAGE_REACTIONS,
    GUILDS_INTENT,
    MEMBER_ID,
    TEXT_CHANNEL,
    FakeDiscord,
)

CLOCK = FakeClock(datetime(2026, 4, 13, 7, tzinfo=UTC))


@dataclass
class Posted:
    fake: FakeDiscord
    store: WatchedStore
    bot: DiscordBot
    edition: Edition
    channel: str  # where the parent is
    thread: str  # where the replies are
    parent: str
    replies: list[str]

    def item(self, n: int) -> str:
        """The canonical id of the edition's ``n``-th item (1-based)."""
        return self.edition.entries[n - 1].item.content.canonical_id


async def posted_to(
    channel: str, fake: FakeDiscord, store: WatchedStore, *, long_first: bool = False
) -> Posted:
    edition = await an_edition(store)
    if long_first:  # a first item too long for one Discord message (6,000 characters)
        first = edition.entries[0]
        why = " ".join(f"Sentence {n} of a long reason to read it." for n in range(400))
        longer = replace(first, summary=replace(first.summary, why=why))
        edition = replace(edition, entries=(longer, *edition.entries[1:]))
    bot = DiscordBot(BOT_TOKEN, store, CLOCK, guild_ready_timeout=0.05)
    await bot.start()
    report = await deliver(
        edition, Destination(Platform.DISCORD, channel), bot.chat(), store, CLOCK
    )
    assert report.complete
    (thread,) = fake.threads_of(channel)
    posts = [m["id"] for m in fake.posts(thread["id"])]
    if fake.channels[channel]["type"] == 15:  # a forum post: its first message is the parent
        parent, replies = posts[0], posts[1:]
    else:
        parent, replies = fake.posts(channel)[0]["id"], posts
    return Posted(fake, store, bot, edition, channel, thread["id"], parent, replies)


@pytest.fixture
async def watched(tmp_path: Path) -> AsyncIterator[WatchedStore]:
    store = await WatchedStore.open(f"sqlite:///{tmp_path / 'votes.db'}")
    try:
        yield store
    finally:
        await store.aclose()


@pytest.fixture
async def posted(fake: FakeDiscord, watched: WatchedStore) -> AsyncIterator[Posted]:
    result = await posted_to(TEXT_CHANNEL, fake, watched)
    try:
        yield result
    finally:
        await result.bot.aclose()


async def test_the_bot_asks_for_the_reactions_intent_and_nothing_privileged(
    posted: Posted,
) -> None:
    (intents,) = posted.fake.identify_intents
    assert intents == GUILDS_INTENT | GUILD_MESSAGE_REACTIONS


async def test_a_thumbs_up_on_an_item_reply_is_stored_once_per_user(posted: Posted) -> None:
    fake, reply = posted.fake, posted.replies[0]
    assert await fake.react(posted.thread, reply, "👍", user_id=MEMBER_ID) == 1
    await votes_become(posted.store, {posted.item(1): (1, 0)})
    await fake.react(posted.thread, reply, "👍🏽", user_id=MEMBER_ID)  # a skin tone: same vote
    await until(lambda: posted.store.looked_up == 2)
    await votes_become(posted.store, {posted.item(1): (1, 0)})
    await fake.react(posted.thread, reply, "👍", user_id=ADMIN_ID)
    await votes_become(posted.store, {posted.item(1): (2, 0)})


async def test_removing_removes_and_a_thumbs_down_replaces_a_thumbs_up(posted: Posted) -> None:
    fake, reply = posted.fake, posted.replies[1]
    await fake.react(posted.thread, reply, "👍")
    await votes_become(posted.store, {posted.item(2): (1, 0)})
    await fake.react(posted.thread, reply, "👎")
    await votes_become(posted.store, {posted.item(2): (0, 1)})
    await fake.react(posted.thread, reply, "👍", added=False)  # no longer the vote: kept
    await until(lambda: posted.store.looked_up == 3)
    await fake.react(posted.thread, reply, "👎", added=False)
    await votes_become(posted.store, {})


async def test_reactions_off_our_item_replies_change_nothing(posted: Posted) -> None:
    fake, store = posted.fake, posted.store
    foreign = fake.add_user_message(posted.thread, "nice pick")
    await fake.react(posted.channel, posted.parent, "👍")  # the parent
    await fake.react(posted.thread, foreign, "👍")  # a member's message in the thread
    await fake.react(posted.thread, posted.replies[0], "🎉")  # not a vote
    await fake.react(posted.thread, posted.replies[0], {"id": "77", "name": "thumbsup"})
    await fake.react(posted.thread, posted.replies[0], "👍", user_id=BOT_ID)  # the bot itself
    await until(lambda: store.looked_up >= 2)
    await asyncio.sleep(0.2)  # time for a wrongly accepted reaction to arrive too
    assert store.looked_up == 2
    assert await store.item_votes(EPOCH) == {}


async def test_a_vote_in_a_forum_post_counts_and_its_first_message_does_not(
    fake: FakeDiscord, watched: WatchedStore
) -> None:
    posted = await posted_to(FORUM_CHANNEL, fake, watched)
    try:
        await fake.react(posted.thread, posted.parent, "👍")
        await fake.react(posted.thread, posted.replies[2], "👎")
        await votes_become(watched, {posted.item(3): (0, 1)})
        assert watched.looked_up == 2
    finally:
        await posted.bot.aclose()


async def test_without_the_intent_discord_sends_no_reaction(
    fake: FakeDiscord, posted: Posted
) -> None:
    # Another client on the same bot, identified without the reactions intent.
    deaf = discord.Client(intents=discord.Intents(guilds=True))
    seen: list[discord.RawReactionActionEvent] = []

    async def on_raw_reaction_add(payload: discord.RawReactionActionEvent) -> None:
        seen.append(payload)

    deaf.event(on_raw_reaction_add)
    await deaf.login(BOT_TOKEN)
    task = asyncio.create_task(deaf.connect(reconnect=False))
    try:
        await until(lambda: len(fake.identify_intents) == 2)
        assert fake.identify_intents[1] == GUILDS_INTENT
        told = await fake.react(posted.thread, posted.replies[0], "👍")
        assert told == 1  # our bot only
        assert fake.undelivered == [
            ("MESSAGE_REACTION_ADD", "the session lacks GUILD_MESSAGE_REACTIONS")
        ]
        await votes_become(posted.store, {posted.item(1): (1, 0)})
        assert seen == []
    finally:
        await deaf.close()
        await asyncio.wait_for(task, timeout=5)


async def test_a_vote_on_any_message_of_an_item_split_over_several_counts_for_it(
    fake: FakeDiscord, watched: WatchedStore
) -> None:
    posted = await posted_to(TEXT_CHANNEL, fake, watched, long_first=True)
    try:
        items = len(posted.edition.entries)
        messages = posted.replies
        assert len(messages) > items  # the first item took more than one message
        first_item_messages = messages[: len(messages) - items + 1]
        await fake.react(posted.thread, first_item_messages[0], "👍")
        await votes_become(watched, {posted.item(1): (1, 0)})
        await fake.react(posted.thread, first_item_messages[0], "👍", added=False)
        await votes_become(watched, {})
        # The message after the split item is the second item's, as before.
        await fake.react(posted.thread, messages[len(first_item_messages)], "👎")
        await votes_become(watched, {posted.item(2): (0, 1)})
        # A member's message after the edition is nobody's item.
        later = fake.add_user_message(posted.thread, "thanks")
        await fake.react(posted.thread, later, "👍")
        await fake.react(posted.thread, later, "👍", added=False)
        await until(lambda: watched.looked_up == 5)
        assert await watched.item_votes(EPOCH) == {posted.item(2): (0, 1)}
    finally:
        await posted.bot.aclose()


@pytest.mark.parametrize(
    ("name", "emoji_id", "vote"),
    [("👍", None, Vote.UP), ("👍🏿", None, Vote.UP), ("👎", None, Vote.DOWN),
     ("👎️", None, Vote.DOWN), ("❤️", None, None), ("thumbsup", 77, None), ("👍", 78, None)],
)  # fmt: skip
def test_only_thumbs_up_and_down_are_votes(name: str, emoji_id: int | None, vote: Vote) -> None:
    assert vote_of(discord.PartialEmoji(name=name, id=emoji_id)) == vote
