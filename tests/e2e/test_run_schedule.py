"""``digestbot run`` with its schedule, as a real process, against the fake Slack and Discord.

Subscriptions in six channels (three Slack, three Discord) in different timezones are due a
few minutes ago; the bot must deliver the edition to each exactly once, in order, in one
thread; a deleted channel pauses its subscription, spares the others, and its admin is told
(by DM, and in the admin channel).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bot.domain import Edition
from storage.store import Store
from tests.builders import DISCORD_CHANNELS, SLACK_CHANNELS, TIMEZONES, subscribed_and_composed
from tests.cli_process import both_platforms_env, clean_env, start_digestbot, stop_digestbot
from tests.fakes.discord_server import ADMIN_ID, FakeDiscord
from tests.fakes.slack_server import FakeSlack

DISCORD_OPS = "1400000000000000199"


async def prepared(tmp_path: Path) -> tuple[str, Edition]:
    url = f"sqlite:///{tmp_path / 'digest.db'}"
    edition = await subscribed_and_composed(
        url, tmp_path, SLACK_CHANNELS, DISCORD_CHANNELS, TIMEZONES
    )
    return url, edition


async def test_run_delivers_each_subscription_once_in_its_own_timezone(tmp_path: Path) -> None:
    url, edition = await prepared(tmp_path)
    async with FakeSlack(channels=set(SLACK_CHANNELS)) as slack, FakeDiscord() as discord:
        for channel in DISCORD_CHANNELS:
            discord.add_channel(channel, f"digest-{channel[-3:]}")
        discord.delete_channel(DISCORD_CHANNELS[2])  # removed by a server admin
        discord.add_channel(DISCORD_OPS, "digest-ops")
        env = clean_env(
            DIGEST_DATABASE_URL=url,
            DIGEST_CONFIG=str(tmp_path / "digestbot.toml"),
            DIGEST_SCHEDULE__ENABLED="true",
            DIGEST_SCHEDULE__POLL_S="0.2",
            DIGEST_SLACK__MIN_INTERVAL_S="0.05",
            DIGEST_HTTP_PORT="0",
            DIGEST_DISCORD__ADMIN_CHANNEL=DISCORD_OPS,
            **both_platforms_env(slack, discord),
        )
        process = await start_digestbot("run", env=env, cwd=tmp_path)
        parts = 1 + len(edition.entries)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                slack_done = all(len(slack.messages.get(c, [])) == parts for c in SLACK_CHANNELS)
                discord_done = all(
                    len(discord.posts(c)) == 1
                    and len(discord.posts(discord.threads_of(c)[0]["id"])) == parts - 1
                    for c in DISCORD_CHANNELS[:2]
                    if discord.threads_of(c)
                ) and all(discord.threads_of(c) for c in DISCORD_CHANNELS[:2])
                told = discord.direct_messages(ADMIN_ID) and discord.posts(DISCORD_OPS)
                if slack_done and discord_done and told:
                    break
                await asyncio.sleep(0.2)
            await asyncio.sleep(1.0)  # anything extra would show up now
        finally:
            code, _, log, _ = await stop_digestbot(process)
        assert code == 0, log
        for channel in SLACK_CHANNELS:
            messages = slack.messages[channel]
            assert len(messages) == parts, channel
            parent = messages[0]
            assert all(m.get("thread_ts") == parent["ts"] for m in messages[1:])
            keys = [m["metadata"]["event_payload"]["key"] for m in messages]
            assert keys == [f"llm-news-digest:{edition.id}:{n}" for n in range(parts)]
        # The admin who subscribed the deleted channel is told by DM, and the admin channel.
        (dm,) = discord.direct_messages(ADMIN_ID)
        (notice,) = discord.posts(DISCORD_OPS)
        for message in (dm, notice):
            assert f"discord:{DISCORD_CHANNELS[2]}" in message["content"]
            assert "was not found" in message["content"]
        for channel in DISCORD_CHANNELS[:2]:
            (thread,) = discord.threads_of(channel)
            footers = [m["embeds"][-1]["footer"]["text"] for m in discord.posts(thread["id"])]
            assert footers == [
                f"LLM News Digest · edition {edition.id} · item {n}" for n in range(1, parts)
            ]

    store = await Store.open(url)
    try:
        subscriptions = {s.channel: s for s in await store.subscriptions()}
        gone = subscriptions[DISCORD_CHANNELS[2]]
        assert not gone.active
        assert "was not found" in gone.paused_reason
        assert all(s.active for c, s in subscriptions.items() if c != DISCORD_CHANNELS[2])
        jobs = await store.delivery_jobs()
        assert sorted(j.state for j in jobs) == ["done"] * 5 + ["failed"]
    finally:
        await store.aclose()
    assert "paused" in log
