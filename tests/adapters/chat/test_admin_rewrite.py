"""``/digest-admin rewrite`` on Slack and Discord: admins only, unknown items refused at once.

The rewrite itself is the real one (offline writer, the store, the edit worker), so an
admin's command edits the delivered reply in place on each fake.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.chat.discord_bot import DiscordBot
from adapters.chat.slack_bot import SlackSocketBot, build_slack_app
from adapters.chat.slack_chat import SlackChat, web_client
from bot.commands.reply import Reply
from bot.config import ScheduleSettings
from bot.delivery.deliver import Destination, deliver
from bot.delivery.edits import EditWorker
from bot.delivery.ports import ChatAdapter
from bot.domain import Platform
from bot.edition.profile import load_profile
from bot.edition.rewrite import rewrite_item
from bot.edition.summarize import OfflineSummarizer
from storage.store import Store
from tests.builders import PAPER_ID, an_edition
from tests.fakes.clock import FakeClock
from tests.fakes.discord_server import ADMIN_ID, MEMBER_ID, TEXT_CHANNEL, FakeDiscord
from tests.fakes.discord_server import BOT_TOKEN as DISCORD_TOKEN
from tests.fakes.slack_server import APP_TOKEN, FakeSlack
from tests.fakes.slack_server import BOT_TOKEN as SLACK_TOKEN

CLOCK = FakeClock(datetime(2026, 4, 20, 9, tzinfo=UTC))
EPHEMERAL = 64


def rewriter(
    store: Store, platform: str, chat: ChatAdapter
) -> Callable[[str, str, str], Awaitable[Reply]]:
    async def run(item: str, note: str, by: str) -> Reply:
        offline = OfflineSummarizer(load_profile())
        outcome = await rewrite_item(item, note, by, store, offline, CLOCK)
        worker = EditWorker(store, CLOCK, ScheduleSettings(), {platform: chat})
        edits = await worker.run(until_idle=True)
        return Reply(text=f"Rewrote v{outcome.version} for {by}: {edits.edited} edited")

    return run


@pytest.fixture
async def slack_admin(tmp_path: Path) -> AsyncIterator[tuple[FakeSlack, Store]]:
    store = await Store.open(f"sqlite:///{tmp_path / 'admin.db'}")
    edition = await an_edition(store)
    async with FakeSlack() as slack:
        client = web_client(SLACK_TOKEN, slack.api_url)
        chat = SlackChat(client, CLOCK, min_interval_s=0)
        await deliver(edition, Destination(Platform.SLACK, "C0DIGEST"), chat, store, CLOCK)
        app = build_slack_app(client, store, CLOCK, rewrite=rewriter(store, "slack", chat))
        bot = SlackSocketBot(app, APP_TOKEN)
        await bot.start()
        try:
            yield slack, store
        finally:
            await bot.aclose()
            await store.aclose()


def texts(ack: dict[str, object]) -> str:
    return json.dumps(ack.get("payload"), ensure_ascii=False)


async def test_slack_admin_rewrites_an_item_and_its_reply_is_edited(
    slack_admin: tuple[FakeSlack, Store],
) -> None:
    slack, store = slack_admin
    posted = len(slack.messages["C0DIGEST"])
    refused, _ = await slack.slash_command("/digest-admin", "rewrite 2604.31415", user="U0ALICE")
    assert "Sorry, /digest-admin is for workspace admins and owners" in texts(refused)
    unknown, _ = await slack.slash_command("/digest-admin", "rewrite 2603.09999", user="U0ADMIN")
    assert "arxiv:2603.09999 is in no edition" in texts(unknown)
    assert "ephemeral" in texts(unknown)
    empty, _ = await slack.slash_command("/digest-admin", "rewrite", user="U0ADMIN")
    assert "use /digest-admin rewrite &lt;arXiv id or link&gt;" in texts(empty)
    edition = await store.edition()
    assert edition is not None
    assert await store.summary_history(edition.id, 1) == []

    ack, seconds = await slack.slash_command(
        "/digest-admin", "rewrite 2604.31415 lead with the <!channel> safety results",
        user="U0ADMIN",
    )  # fmt: skip
    assert "Rewriting “Ledgerline" in texts(ack)
    assert seconds < 3.0
    await asyncio.wait_for(slack.responded.wait(), timeout=20)
    assert "Rewrote v1 for slack:U0ADMIN: 1 edited" in json.dumps(slack.responses[-1])
    assert len(slack.messages["C0DIGEST"]) == posted
    entry = next(e for e in edition.entries if e.item.content.canonical_id == PAPER_ID)
    (revision,) = await store.summary_history(edition.id, entry.position)
    assert revision.note == "lead with the <!channel> safety results"
    assert any("✎ Updated" in json.dumps(m["blocks"], ensure_ascii=False)
               for m in slack.messages["C0DIGEST"])  # fmt: skip


@pytest.fixture
async def discord_admin(fake: FakeDiscord, store: Store) -> AsyncIterator[DiscordBot]:
    edition = await an_edition(store)
    chats: dict[str, ChatAdapter] = {}  # the bot's own poster, known once it is built

    async def run(item: str, note: str, by: str) -> Reply:
        return await rewriter(store, "discord", chats["discord"])(item, note, by)

    bot = DiscordBot(DISCORD_TOKEN, store, CLOCK, guild_ready_timeout=0.05, rewrite=run)
    chats["discord"] = bot.chat()
    await bot.start()
    try:
        await deliver(
            edition, Destination(Platform.DISCORD, TEXT_CHANNEL), chats["discord"], store, CLOCK
        )
        yield bot
    finally:
        await bot.aclose()


async def answered(fake: FakeDiscord, options: list[dict[str, Any]], user: str) -> Any:
    interaction = await fake.interact("digest-admin", options, user_id=user)
    await asyncio.wait_for(interaction.done.wait(), timeout=5)
    return interaction


def rewrite(item: str, note: str = "") -> list[dict[str, Any]]:
    options = [{"name": "item", "type": 3, "value": item}]
    if note:
        options.append({"name": "note", "type": 3, "value": note})
    return [{"name": "rewrite", "type": 1, "options": options}]


async def test_discord_admin_rewrites_an_item_and_its_reply_is_edited(
    fake: FakeDiscord, discord_admin: DiscordBot, store: Store
) -> None:
    (admin,) = [c for c in fake.commands["global"] if c["name"] == "digest-admin"]
    (sub,) = [o for o in admin["options"] if o["name"] == "rewrite"]
    assert [o["name"] for o in sub["options"]] == ["item", "note"]

    refused = await answered(fake, rewrite("2604.31415"), MEMBER_ID)
    assert "Manage Server" in refused.callback["data"]["content"]
    unknown = await answered(fake, rewrite("2603.09999"), ADMIN_ID)
    assert "arxiv:2603.09999 is in no edition" in unknown.callback["data"]["content"]
    assert unknown.callback["data"]["flags"] & EPHEMERAL

    (thread,) = fake.threads_of(TEXT_CHANNEL)
    before = [m["id"] for m in fake.posts(thread["id"])]
    done = await answered(fake, rewrite("2604.31415", "more on the audit logs"), ADMIN_ID)
    assert done.callback["type"] == 5  # deferred: writing a summary may take a while
    assert done.followups[0]["content"] == f"Rewrote v1 for discord:{ADMIN_ID}: 1 edited"
    after = fake.posts(thread["id"])
    assert [m["id"] for m in after] == before
    (edited,) = [m for m in after if m["edited_timestamp"] is not None]
    assert "✎ Updated April 20, 2026" in edited["embeds"][0]["description"]
