"""``digestbot run`` surviving what a year brings: kill -9 mid-delivery, 429s, two instances.

Every test runs the real command as subprocesses against the fake Slack and Discord and then
reads back what each channel holds: exactly the edition's messages, each once, in order, in
one thread; and every delivery job done.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.domain import Edition
from storage.store import Store
from tests.builders import subscribed_and_composed
from tests.cli_process import both_platforms_env, clean_env, start_digestbot, stop_digestbot
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.slack_server import FakeSlack
from tests.storage.conftest import database_url

__all__ = ["database_url"]  # the fixture, for the two-instance test

SLACK_CHANNELS = ("C0PARIS", "C0NEWYORK", "C0TOKYO", "C0LAGOS")
DISCORD_CHANNELS = tuple(f"14000000000000002{n:02d}" for n in range(4))
TIMEZONES = ("Europe/Paris", "America/New_York", "Asia/Tokyo", "Africa/Lagos")
KILL_TRIALS = int(os.environ.get("DIGEST_TEST_KILL_TRIALS", "20"))


async def prepared(url: str, tmp_path: Path) -> Edition:
    """An edition, and eight subscriptions (four per platform) whose slot passed just now."""
    return await subscribed_and_composed(url, tmp_path, SLACK_CHANNELS, DISCORD_CHANNELS, TIMEZONES)


def bot_env(
    url: str, tmp_path: Path, slack: FakeSlack, discord: FakeDiscord, **extra: str
) -> dict[str, str]:
    """The environment of a scheduled ``run`` on both fakes, quick to plan and to retry."""
    return (
        clean_env(
            DIGEST_DATABASE_URL=url,
            DIGEST_CONFIG=str(tmp_path / "digestbot.toml"),
            DIGEST_SCHEDULE__ENABLED="true",
            DIGEST_SCHEDULE__POLL_S="0.1",
            DIGEST_SCHEDULE__PLAN_EVERY_S="0.5",
            DIGEST_SCHEDULE__LEASE_S="1",  # a killed instance's claims expire quickly
            DIGEST_SCHEDULE__RETRY_BASE_S="0.2",
            DIGEST_SCHEDULE__MAX_ATTEMPTS="50",
            DIGEST_SLACK__MIN_INTERVAL_S="0.02",
            **both_platforms_env(slack, discord),
        )
        | extra
    )


def posted(slack: FakeSlack, discord: FakeDiscord) -> int:
    """How many edition messages the channels hold (Discord: parents and thread replies)."""
    count = sum(len(slack.messages.get(c, [])) for c in SLACK_CHANNELS)
    for channel in DISCORD_CHANNELS:
        count += len(discord.posts(channel))
        count += sum(len(discord.posts(t["id"])) for t in discord.threads_of(channel))
    return count


async def until(done: Callable[[], bool], limit_s: float, what: str) -> None:
    deadline = time.monotonic() + limit_s
    while not done():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


def assert_each_channel_holds_the_edition_once(
    edition: Edition, slack: FakeSlack, discord: FakeDiscord
) -> None:
    parts = 1 + len(edition.entries)
    for channel in SLACK_CHANNELS:
        messages = slack.messages.get(channel, [])
        keys = [m["metadata"]["event_payload"]["key"] for m in messages]
        assert keys == [f"llm-news-digest:{edition.id}:{n}" for n in range(parts)], channel
        assert all(m.get("thread_ts") == messages[0]["ts"] for m in messages[1:]), channel
    for channel in DISCORD_CHANNELS:
        parents = [m["embeds"][-1]["footer"]["text"] for m in discord.posts(channel)]
        assert parents == [f"LLM News Digest · edition {edition.id}"], channel
        (thread,) = discord.threads_of(channel)
        assert thread["id"] == discord.posts(channel)[0]["id"]  # started from the parent
        footers = [m["embeds"][-1]["footer"]["text"] for m in discord.posts(thread["id"])]
        assert footers == [
            f"LLM News Digest · edition {edition.id} · item {n}" for n in range(1, parts)
        ], channel


async def assert_every_job_done(url: str) -> None:
    store = await Store.open(url)
    try:
        jobs = await store.delivery_jobs()
    finally:
        await store.aclose()
    states = sorted(job.state for job in jobs)
    assert states == ["done"] * 8, [(j.destination, j.reason) for j in jobs]


async def run_to_completion(
    env: dict[str, str], tmp_path: Path, finished: Callable[[], bool]
) -> str:
    """Start ``run``, wait until ``finished``, give strays a moment, stop it; return its log."""
    process = await start_digestbot("run", env=env, cwd=tmp_path)
    try:
        await until(finished, 90, "every channel to get the edition")
        await asyncio.sleep(1.0)  # anything extra would show up now
    finally:
        code, _, log, seconds = await stop_digestbot(process)
    assert code == 0, log
    assert seconds < 10
    return log


async def test_kill_9_at_random_points_loses_and_repeats_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'digest.db'}"
    edition = await prepared(url, tmp_path)
    seed = int(os.environ.get("DIGEST_TEST_SEED", str(time.time_ns() % 100_000)))
    rng = random.Random(seed)
    total = 8 * (1 + len(edition.entries))
    async with FakeSlack(channels=set(SLACK_CHANNELS)) as slack, FakeDiscord() as discord:
        for channel in DISCORD_CHANNELS:
            discord.add_channel(channel, f"digest-{channel[-2:]}")
        env = bot_env(url, tmp_path, slack, discord)
        trials: list[str] = []
        while len(trials) < KILL_TRIALS and posted(slack, discord) < total:
            process = await start_digestbot("run", env=env, cwd=tmp_path)
            target = posted(slack, discord) + rng.randint(1, 2)
            # Half the kills land inside the platform's handler: the message is posted and
            # its answer never reaches the bot (the window a record can be lost in). The
            # others land a few milliseconds after the answer went back.
            inside = rng.random() < 0.5
            delay = 0.0 if inside else rng.uniform(0.0, 0.005)

            def kill_at_target(
                _: str, pid: int = process.pid, target: int = target, delay: float = delay
            ) -> None:
                if posted(slack, discord) < target:
                    return
                slack.on_post = discord.on_post = None
                if delay:
                    asyncio.get_running_loop().call_later(delay, os.kill, pid, signal.SIGKILL)
                else:
                    os.kill(pid, signal.SIGKILL)

            slack.on_post = discord.on_post = kill_at_target
            try:
                await asyncio.wait_for(process.wait(), timeout=60)
            finally:
                slack.on_post = discord.on_post = None
                if process.returncode is None:
                    process.kill()
                    await process.wait()
            assert process.returncode == -signal.SIGKILL
            trials.append(f"{'inside' if inside else 'after'}@{target}")
        assert len(trials) >= min(KILL_TRIALS, 20), f"seed {seed}: only {trials}"
        log = await run_to_completion(env, tmp_path, lambda: posted(slack, discord) >= total)
        try:
            assert_each_channel_holds_the_edition_once(edition, slack, discord)
        except AssertionError as exc:
            raise AssertionError(f"seed {seed}, kills {trials}: {exc}") from None
    await assert_every_job_done(url)
    assert "Traceback" not in log


async def test_a_third_of_sends_answered_429_still_delivers_everything_once(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'digest.db'}"
    edition = await prepared(url, tmp_path)
    total = 8 * (1 + len(edition.entries))
    async with (
        FakeSlack(channels=set(SLACK_CHANNELS), rate_limit_share=0.3, seed=11) as slack,
        FakeDiscord(rate_limit_share=0.3) as discord,
    ):
        for channel in DISCORD_CHANNELS:
            discord.add_channel(channel, f"digest-{channel[-2:]}")
        env = bot_env(url, tmp_path, slack, discord)
        await run_to_completion(env, tmp_path, lambda: posted(slack, discord) >= total)
        assert slack.rate_limited >= 5  # 429s were really served, and waited out
        assert_each_channel_holds_the_edition_once(edition, slack, discord)
    await assert_every_job_done(url)


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_two_instances_on_one_postgresql_deliver_exactly_once(
    database_url: str, tmp_path: Path
) -> None:
    edition = await prepared(database_url, tmp_path)
    total = 8 * (1 + len(edition.entries))
    async with FakeSlack(channels=set(SLACK_CHANNELS)) as slack, FakeDiscord() as discord:
        for channel in DISCORD_CHANNELS:
            discord.add_channel(channel, f"digest-{channel[-2:]}")
        # Two workers each and a slower pace, so that neither can take everything alone;
        # Discord's shards are split between them as a large deployment would.
        common = {"DIGEST_SCHEDULE__WORKERS": "2", "DIGEST_SLACK__MIN_INTERVAL_S": "0.3"}
        shards = {"DIGEST_DISCORD__SHARD_COUNT": "2"}
        envs = [
            bot_env(
                database_url,
                tmp_path,
                slack,
                discord,
                **common,
                **shards,
                DIGEST_DISCORD__SHARD_IDS=str(n),
            )
            for n in range(2)
        ]
        processes = await asyncio.gather(
            *(start_digestbot("run", env=env, cwd=tmp_path) for env in envs)
        )
        try:
            await until(lambda: posted(slack, discord) >= total, 90, "every delivery")
            await asyncio.sleep(1.5)  # a second delivery by the other instance would show
        finally:
            stopped = await asyncio.gather(*(stop_digestbot(p) for p in processes))
        for code, _, log, _ in stopped:
            assert code == 0, log
        assert_each_channel_holds_the_edition_once(edition, slack, discord)
    store = await Store.open(database_url)
    try:
        jobs = await store.delivery_jobs()
    finally:
        await store.aclose()
    assert sorted(job.state for job in jobs) == ["done"] * 8
    pids = {p.pid for p in processes}
    workers = {int(job.claimed_by.rsplit(":", 1)[1]) for job in jobs}
    assert workers == pids  # both instances delivered a share
