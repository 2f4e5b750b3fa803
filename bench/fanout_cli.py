"""Benchmark: ``digestbot publish`` of one edition to 20 Slack and 5 Discord channels.

Run from the repository root: ``.venv/bin/python -m bench.fanout_cli`` (about half a minute).
Options: ``--slack N --discord N --share P`` to change the shape (P: the share of Slack
sends answered 429).

``digestbot publish --to A --to B ...`` is a real subprocess on a store (SQLite, temporary)
holding one edition of 12 items, against the fakes of `bench.fanout`: Slack takes one message
per second per channel and answers a share of posts (30%) 429 ``Retry-After: 0`` at random;
Discord takes 50 requests per second in all, from a process of its own.

The bound is what the limits and the retries impose, from the counts of this run. A Slack
channel needs ``parts - 1`` seconds (its parts one second apart) and, for each 429 it was
served, the time its retry took to come (slack_sdk waits Retry-After plus a uniform 0-1 s of
jitter: timed at the fake, from the 429 to the channel's next attempt); the bound is the
slowest channel's. The limits alone (no jitter) are printed too. Discord needs its required requests
(each channel read and the bot's permissions there, the server and the bot's member once,
a parent, its thread, one reply per item) at 50 per second. Wall time runs from the first
post to the last (the process's own time, start-up and login included, is printed too).
Goals: wall <= 1.10x the bound, 0 Discord 429s, 0 duplicates, 0 lost.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from bench.discord_host import DiscordHost
from bench.fanout import (
    DISCORD_GLOBAL_PER_S,
    ITEMS,
    NO_SOURCES,
    SLACK_INTERVAL_S,
    CpuWatch,
    discord_channel,
    load_average,
    seed,
    slack_channel,
    tally,
    watch_posts,
)
from tests.cli_process import clean_env, start_digestbot
from tests.fakes import discord_server, slack_server
from tests.fakes.slack_server import FakeSlack


@dataclass
class CountingSlack(FakeSlack):
    """The fake Slack, also timing each channel's retries after the 429s it served.

    ``waits``: the Retry-After the 429s said; ``retried``: the seconds from each 429 to the
    channel's next post attempt, the retry as slack_sdk made it (Retry-After, then up to
    1 s of random jitter, then the request's way here).
    """

    waits: Counter[str] = field(default_factory=Counter)
    retried: dict[str, float] = field(default_factory=dict)
    _limited_at: dict[str, float] = field(default_factory=dict)

    def _post_limited(self, channel: str) -> web.Response | None:
        now = time.monotonic()
        if channel in self._limited_at:
            waited = now - self._limited_at.pop(channel)
            self.retried[channel] = self.retried.get(channel, 0.0) + waited
        answer = super()._post_limited(channel)
        if answer is not None:
            self.waits[channel] += int(answer.headers["Retry-After"])
            self._limited_at[channel] = now
        return answer


def slack_bound(slack: CountingSlack, channels: list[str]) -> float:
    """Return the slowest channel's time: its parts 1 s apart, and its retries as made."""
    return max(ITEMS * SLACK_INTERVAL_S + slack.retried.get(c, 0.0) for c in channels)


async def publish(folder: Path, slack_count: int, discord_count: int, share: float) -> None:
    """Publish one edition to every channel and print the figures."""
    url = f"sqlite:///{folder / 'publish.db'}"
    edition_id = await seed(url, 0, 0)
    parts = 1 + ITEMS
    slack_channels = [slack_channel(n) for n in range(slack_count)]
    discord_channels = [discord_channel(n) for n in range(discord_count)]
    async with (
        CountingSlack(
            channels=set(slack_channels),
            per_channel_interval_s=SLACK_INTERVAL_S,
            rate_limit_share=share,
        ) as slack,
        DiscordHost(DISCORD_GLOBAL_PER_S, discord_channels) as discord,
    ):
        env = clean_env(
            DIGEST_DATABASE_URL=url,
            DIGEST_CONFIG=str(folder / "digestbot.toml"),
            SLACK_BOT_TOKEN=slack_server.BOT_TOKEN,
            SLACK_APP_TOKEN=slack_server.APP_TOKEN,  # settings ask for one; publish never connects
            SLACK_API_URL=slack.api_url,
            DISCORD_BOT_TOKEN=discord_server.BOT_TOKEN,
            DISCORD_API_URL=discord.api_url,
        )
        destinations = [f"slack:{c}" for c in slack_channels]
        destinations += [f"discord:{c}" for c in discord_channels]
        args = [arg for d in destinations for arg in ("--to", d)]
        started = time.monotonic()
        process = await start_digestbot(
            "publish", *args, "--edition", str(edition_id), env=env, cwd=folder
        )
        expected = (slack_count + discord_count) * parts
        cpu = CpuWatch(process.pid)
        watching = asyncio.create_task(watch_posts(slack, discord, expected, started, cpu))
        stdout, stderr = await process.communicate()
        process_s = time.monotonic() - started
        if process.returncode != 0:
            watching.cancel()
            stopped = [line for line in stdout.decode().splitlines() if "stopped" in line]
            raise RuntimeError(
                f"publish failed ({process.returncode}): {stderr.decode()[-1000:]}\n"
                + "\n".join(stopped)
            )
        first_post, last_post = await watching
        report = await discord.ask("report")
        counted = tally(slack, report, edition_id, slack_count, discord_count)

    wall = last_post - first_post
    slack_s = slack_bound(slack, slack_channels) if slack_channels else 0.0
    # login; each channel read twice; the server and the bot as its member; the edition
    required = 1 + discord_count * (2 + parts + 1) + 2 if discord_count else 0
    discord_s = required / DISCORD_GLOBAL_PER_S
    bound = max(slack_s, discord_s)
    lines = [line for line in stdout.decode().splitlines() if line.strip()]
    print(
        f"publish: 1 edition ({parts} parts) to {slack_count} Slack + {discord_count} Discord "
        f"channels, {share:.0%} of Slack sends answered 429"
    )
    print(
        f"  wall (first post to last): {wall:.1f} s; bound {bound:.1f} s (Slack's slowest "
        f"channel {slack_s:.1f} s, Discord {required} requests / {DISCORD_GLOBAL_PER_S}/s "
        f"= {discord_s:.1f} s); ratio {wall / bound:.3f} (goal <= 1.10)"
    )
    floor = ITEMS * SLACK_INTERVAL_S + max(slack.waits.values(), default=0)
    print(
        f"  the publish process: {process_s:.1f} s, start-up and login included; the limits "
        f"alone, without the retries' jitter: {floor:.1f} s"
    )
    print(
        f"  messages: {counted.slack_messages} Slack, {counted.discord_messages} Discord; "
        f"duplicates {counted.duplicates}, lost {counted.lost} (goal 0, 0)"
    )
    print(
        f"  Discord requests: {report['requests']} ({required} required); 429s served: "
        f"Slack {slack.rate_limited} (the random share), Discord {report['invalid_requests']} "
        "(goal 0)"
    )
    print(cpu.line("digestbot publish"))
    complete = sum(1 for line in lines if line.endswith("; complete"))
    print(f"  progress lines printed: {len(lines)}, {complete} destinations complete")


async def main() -> None:
    """Parse the options and run the bench."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slack", type=int, default=20)
    parser.add_argument("--discord", type=int, default=5)
    parser.add_argument("--share", type=float, default=0.3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="digest-publish-") as name:
        folder = Path(name)
        (folder / "digestbot.toml").write_text(NO_SOURCES)
        print(f"  load average before: {load_average()}")
        await publish(folder, args.slack, args.discord, args.share)
        print(f"  load average after: {load_average()}")


if __name__ == "__main__":
    asyncio.run(main())
