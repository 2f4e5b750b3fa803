"""A whole week in one ``digestbot run``: ingest, compose by the model, deliver everywhere.

``digestbot run`` is a real subprocess against a local feed server (a recorded Atom feed),
the fake OpenAI-compatible server, the fake Slack and the fake Discord. The store starts
with last week's news and no edition; the compose slot passed ten minutes ago and three
Slack and three Discord subscriptions, in three timezones, fell due since. The bot must
catch up in order: ingest the feed, compose the missed edition with the model, then post
it to each channel exactly once, in order, in one thread.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.domain import Subscription
from bot.edition.compose import edition_monday, week_window
from storage.store import Store
from tests.builders import DISCORD_CHANNELS, SLACK_CHANNELS, TIMEZONES, seed_week, slot_minutes_ago
from tests.cli_process import both_platforms_env, clean_env, start_digestbot, stop_digestbot
from tests.conftest import data_file
from tests.fakes.discord_server import ADMIN_ID, FakeDiscord
from tests.fakes.http_server import FakeHttpServer, Reply
from tests.fakes.model_answers import demo_answer
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_server import FakeSlack

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TITLE = "Agents Get Audited, Models Get Faster"  # what the fake model names the edition


async def last_weeks_news_and_subscriptions(url: str, compose_slot: datetime) -> None:
    """Store the news of the week the missed edition covers, and six due subscriptions."""
    store = await Store.open(url)
    try:
        start, _ = week_window(edition_monday(compose_slot.date()))
        # Dated in the week: an edition covers what its sources dated that week.
        await seed_week(store, start + timedelta(days=1), published=start + timedelta(days=1))
        week_ago = datetime.now(UTC) - timedelta(days=7)
        for n, tz in enumerate(TIMEZONES):
            weekday, at = slot_minutes_ago(tz, 7 - n)  # after the compose slot, before now
            pairs = (("slack", SLACK_CHANNELS[n], "U0ADMIN"),
                     ("discord", DISCORD_CHANNELS[n], ADMIN_ID))  # fmt: skip
            for platform, channel, admin in pairs:
                subscription = Subscription(platform, "W1", channel, weekday, at, tz, None)
                await store.subscribe(subscription, admin, week_ago)
    finally:
        await store.aclose()


async def test_a_week_is_ingested_composed_by_the_model_and_delivered_once_everywhere(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'digest.db'}"
    compose_slot = (datetime.now(UTC) - timedelta(minutes=10)).replace(second=0, microsecond=0)
    await last_weeks_news_and_subscriptions(url, compose_slot)
    async with (
        FakeHttpServer() as feeds,
        FakeOpenAI(demo_answer) as llm,
        FakeSlack(channels=set(SLACK_CHANNELS)) as slack,
        FakeDiscord() as discord,
    ):
        feeds.route("/willison", Reply(body=data_file("feeds/willison_atom.xml").read_bytes()))
        (tmp_path / "digestbot.toml").write_text(
            "[sources.hf]\nenabled = false\n[sources.arxiv]\nenabled = false\n"
            "[sources.semantic_scholar]\nenabled = false\n"
            f'[[sources.feeds]]\nname = "willison"\nurl = "{feeds.url("/willison")}"\n'
        )
        for channel in DISCORD_CHANNELS:
            discord.add_channel(channel, f"digest-{channel[-3:]}")
        env = clean_env(
            DIGEST_DATABASE_URL=url,
            DIGEST_CONFIG=str(tmp_path / "digestbot.toml"),
            DIGEST_SCHEDULE__ENABLED="true",
            DIGEST_SCHEDULE__POLL_S="0.2",
            DIGEST_SCHEDULE__COMPOSE_DAY=WEEKDAYS[compose_slot.weekday()],
            DIGEST_SCHEDULE__COMPOSE_TIME=f"{compose_slot:%H:%M}",
            DIGEST_SLACK__MIN_INTERVAL_S="0.05",
            DIGEST_HTTP_PORT="0",
            OPENAI_API_KEY="sk-week",
            OPENAI_BASE_URL=llm.base_url,
            **both_platforms_env(slack, discord),
        )
        process = await start_digestbot("run", env=env, cwd=tmp_path)
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                slack_done = all(slack.messages.get(c) for c in SLACK_CHANNELS)
                discord_done = all(discord.threads_of(c) for c in DISCORD_CHANNELS)
                if slack_done and discord_done:
                    break
                await asyncio.sleep(0.2)
            await asyncio.sleep(3.0)  # the rest of each thread, and anything extra, lands
        finally:
            code, _, log, _ = await stop_digestbot(process)
        assert code == 0, log

    store = await Store.open(url)
    try:
        edition = await store.edition()
        runs = {run.source: run for run in await store.last_source_runs()}
    finally:
        await store.aclose()
    # Ingested first (the feed was fetched), then composed by the model: its title, its words.
    assert "willison" in runs, log
    assert [r.path for r in feeds.requests] == ["/willison"]
    assert edition is not None, log
    assert edition.title == TITLE
    assert not edition.offline
    assert len(edition.entries) >= 4  # last week's four, and any of the feed's that fit
    purposes = {r.purpose for r in llm.requests}
    assert {"item_summary", "edition_intro"} <= purposes

    parts = 1 + len(edition.entries)
    for channel in SLACK_CHANNELS:
        messages = slack.messages[channel]
        keys = [m["metadata"]["event_payload"]["key"] for m in messages]
        assert keys == [f"llm-news-digest:{edition.id}:{n}" for n in range(parts)], channel
        assert all(m.get("thread_ts") == messages[0]["ts"] for m in messages[1:])
        assert TITLE in str(messages[0]["blocks"])
    for channel in DISCORD_CHANNELS:
        (parent,) = discord.posts(channel)
        assert TITLE in parent["content"]
        (thread,) = discord.threads_of(channel)
        footers = [m["embeds"][-1]["footer"]["text"] for m in discord.posts(thread["id"])]
        assert footers == [
            f"LLM News Digest · edition {edition.id} · item {n}" for n in range(1, parts)
        ]
