"""Benchmark: one edition fanned out to 1,000 Slack and 200 Discord channels by ``run``.

Run from the repository root: ``.venv/bin/python -m bench.fanout`` (about two minutes).
Options: ``--slack N --discord N --workers N`` to change the shape.

The bench process hosts the fakes; ``digestbot run`` is a real subprocess with its schedule
on and a store (SQLite, temporary) holding one edition of 12 items and a subscription per
channel whose slot has just passed. The fakes enforce the platforms' limits:

- Slack: one message per second per channel (a sooner post is answered 429 Retry-After: 1);
- Discord: 50 requests per second in all (the global limit; over it, a global 429). The
  fake runs in a process of its own (`bench.discord_host`: a fake sharing the bench's
  process stamped requests late, in bursts the bot never sent).

The bound is what those limits allow, from the counts of this run: a Slack channel needs
``parts - 1`` seconds (its parts one second apart), and Discord needs every required
request (a parent, the thread started from it, one reply per item) at 50 per second. The
channels are served at once, so the bound is the larger of the two. Wall time runs from
the first post to the last. Also printed: duplicates and losses (read back from the fakes),
429s served, Discord's own first-to-last span and rate, the bot's time on a CPU and waiting
for one, the load average, peak RSS of the bot process, and its idle RSS with both platforms
connected (a separate ``run`` with no subscriptions, measured after it settles).
Goals: wall <= 1.10x the bound, 0 duplicates, 0 lost, peak RSS <= 200 MB, idle <= 120 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.discord_host import DiscordHost
from bench.slack_commands import WORDS, sighting
from bot.domain import Difficulty, EditionEntry, ItemSummary, Subscription
from storage.store import Store
from tests.cli_process import clean_env, start_digestbot
from tests.fakes import discord_server, slack_server
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.slack_server import FakeSlack

ITEMS = 12
DISCORD_GLOBAL_PER_S = 50
SLACK_INTERVAL_S = 1.0
NO_SOURCES = """
[sources.hf]
enabled = false
[sources.arxiv]
enabled = false
[sources.semantic_scholar]
enabled = false
[sources]
feeds = []
"""


def slack_channel(n: int) -> str:
    """Return the id of Slack channel ``n``."""
    return f"C{n:08d}"


def discord_channel(n: int) -> str:
    """Return the id of Discord channel ``n``."""
    return str(1_400_000_000_000_100_000 + n)


async def seed(url: str, slack: int, discord: int) -> int:
    """Store one edition of 12 items and a due subscription per channel; return its id."""
    store = await Store.open(url)
    try:
        start = datetime.now(UTC) - timedelta(days=2)
        await store.upsert_sightings([sighting(n) for n in range(ITEMS * 3 + 1)], start)
        entries = []
        levels = list(Difficulty)
        for position in range(1, ITEMS + 1):
            item = await store.get_item(f"arxiv:2604.{position * 3:05d}")
            assert item is not None
            why = (
                f"Paper {position} on {WORDS[position % len(WORDS)]} changes how teams build "
                "LLM systems. It measures what practitioners guessed, on real workloads, and "
                "says when the usual shortcut stops paying off."
            )
            takeaways = tuple(f"Takeaway {k} of paper {position}, one sentence." for k in (1, 2, 3))
            summary = ItemSummary(why, levels[position % 3], takeaways, "bench", "v1", True)
            entries.append(EditionEntry(position, item, summary))
        monday = date.today() - timedelta(days=date.today().weekday())
        intro = "Four threads this week. Evaluation. Agents. Serving costs."
        edition = await store.save_edition(monday, "Fan-Out, Measured", intro, True, entries, start)
        slot = datetime.now(UTC) - timedelta(minutes=1)
        week_ago = datetime.now(UTC) - timedelta(days=7)
        at = f"{slot:%H:%M}"
        for n in range(slack):
            subscription = Subscription(
                "slack", "T0FAKE", slack_channel(n), slot.weekday(), at, "UTC", None
            )
            await store.subscribe(subscription, "bench", week_ago)
        for n in range(discord):
            subscription = Subscription(
                "discord", discord_server.GUILD_ID, discord_channel(n), slot.weekday(), at,
                "UTC", None,
            )  # fmt: skip
            await store.subscribe(subscription, "bench", week_ago)
        return edition.id
    finally:
        await store.aclose()


def load_average() -> str:
    """Return the machine's load averages over 1, 5 and 15 minutes (its CPUs are shared)."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


class LogTail:
    """The last lines a process wrote, read as it writes them (so its pipes never fill)."""

    def __init__(self, keep: int = 4000) -> None:
        self._tail = bytearray()
        self._keep = keep

    async def drain(self, stream: asyncio.StreamReader | None) -> None:
        """Read ``stream`` to its end, keeping only its last characters."""
        while stream is not None and (chunk := await stream.read(65536)):
            self._tail.extend(chunk)
            del self._tail[: -self._keep]

    def text(self) -> str:
        """Return what was kept."""
        return self._tail.decode(errors="replace")


@dataclass
class CpuWatch:
    """A process's time on a CPU and waiting for one (from /proc; the latest reading).

    On a machine whose CPUs are busy with other work, the time waiting says how much of a
    wall time beyond the bound was spent queued for a CPU rather than paced.
    """

    pid: int
    on_cpu_s: float = 0.0
    waiting_s: float = 0.0

    def read(self) -> None:
        """Sum the process's threads' schedstat (nanoseconds on a CPU, waiting to run)."""
        on_cpu = waiting = 0
        try:
            tasks = list(Path(f"/proc/{self.pid}/task").iterdir())
        except OSError:
            return  # the process has ended: keep the last reading
        for task in tasks:
            try:
                fields = (task / "schedstat").read_text().split()
            except OSError:
                continue
            on_cpu, waiting = on_cpu + int(fields[0]), waiting + int(fields[1])
        if on_cpu:
            self.on_cpu_s, self.waiting_s = on_cpu / 1e9, waiting / 1e9

    def line(self, name: str) -> str:
        """Return the figures as one line of the report."""
        return (
            f"  {name}: {self.on_cpu_s:.1f} s on a CPU, {self.waiting_s:.1f} s waiting for one "
            "(the machine's CPUs are shared)"
        )


def rss_mb(pid: int, field: str) -> float:
    """Return a process's ``VmRSS`` or ``VmHWM`` (peak) from /proc, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise ValueError(f"{field} not in /proc/{pid}/status")


def bot_env(
    folder: Path,
    url: str,
    slack: FakeSlack,
    discord: FakeDiscord | DiscordHost,
    workers: int | None,
) -> dict[str, str]:
    """Return the environment of ``digestbot run`` on both fakes."""
    env = clean_env(
        DIGEST_DATABASE_URL=url,
        DIGEST_CONFIG=str(folder / "digestbot.toml"),
        DIGEST_SCHEDULE__ENABLED="true",
        DIGEST_SCHEDULE__POLL_S="0.5",
        SLACK_BOT_TOKEN=slack_server.BOT_TOKEN,
        SLACK_APP_TOKEN=slack_server.APP_TOKEN,
        SLACK_API_URL=slack.api_url,
        DISCORD_BOT_TOKEN=discord_server.BOT_TOKEN,
        DISCORD_API_URL=discord.api_url,
        DISCORD_GATEWAY_URL=discord.gateway_url,
        DIGEST_DISCORD__GUILD_READY_TIMEOUT_S="0.5",
    )
    if workers is not None:
        env["DIGEST_SCHEDULE__WORKERS"] = str(workers)
    return env


async def idle_rss(folder: Path) -> float:
    """Return the RSS (MB) of ``run`` connected to both platforms with nothing to deliver."""
    url = f"sqlite:///{folder / 'idle.db'}"
    await (await Store.open(url)).aclose()  # an empty, migrated store
    async with FakeSlack() as slack, FakeDiscord() as discord:
        process = await start_digestbot(
            "run", env=bot_env(folder, url, slack, discord, None), cwd=folder
        )
        try:
            await asyncio.wait_for(slack.connected.wait(), 30)
            await asyncio.wait_for(discord.identified.wait(), 30)
            await asyncio.sleep(5.0)  # commands synced, first plan done
            return rss_mb(process.pid, "VmRSS")
        finally:
            process.send_signal(signal.SIGTERM)
            await process.communicate()


@dataclass(frozen=True, slots=True)
class Tally:
    """What the fakes hold after a fan-out: messages, duplicates and losses, per platform."""

    slack_messages: int
    discord_messages: int
    duplicates: int
    lost: int


def tally(
    slack: FakeSlack, discord: dict[str, Any], edition_id: int, slack_count: int, discord_count: int
) -> Tally:
    """Count each part's copies in every channel (``discord``: the host's report)."""
    parts = 1 + ITEMS
    slack_keys = Counter(
        m["metadata"]["event_payload"]["key"]
        for messages in slack.messages.values()
        for m in messages
    )
    discord_keys: dict[str, int] = discord["keys"]
    duplicates = sum(c - slack_count for c in slack_keys.values() if c > slack_count)
    duplicates += sum(c - 1 for c in discord_keys.values() if c > 1)
    wanted_slack = {f"llm-news-digest:{edition_id}:{p}" for p in range(parts)}
    lost = sum(max(0, slack_count - slack_keys.get(k, 0)) for k in wanted_slack)
    lost += discord_count * parts - len(discord_keys)
    return Tally(sum(slack_keys.values()), sum(discord_keys.values()), duplicates, lost)


async def watch_posts(
    slack: FakeSlack, discord: DiscordHost, expected: int, started: float, cpu: CpuWatch
) -> tuple[float, float]:
    """Wait until ``expected`` messages are posted (or 15 minutes); return the first and last.

    Slack's are seen by polling every 50 ms; Discord's host times each of its posts.
    """
    first_slack: float | None = None
    last_slack = 0.0
    seen_slack = 0
    while time.monotonic() - started < 900:
        now_slack = sum(len(m) for m in slack.messages.values())
        if now_slack and first_slack is None:
            first_slack = time.monotonic()
        if now_slack != seen_slack:
            seen_slack, last_slack = now_slack, time.monotonic()
        cpu.read()
        if seen_slack + await discord.messages() >= expected:
            break
        await asyncio.sleep(0.05)
    report = await discord.ask("report")
    firsts = [t for t in (first_slack, report["first_post"]) if t is not None]
    if not firsts:
        raise RuntimeError("nothing was posted")
    return min(firsts), max(last_slack, report["last_post"] or 0.0)


async def fan_out(folder: Path, slack_count: int, discord_count: int, workers: int | None) -> None:
    """Run one edition to every channel and print the figures."""
    url = f"sqlite:///{folder / 'fanout.db'}"
    edition_id = await seed(url, slack_count, discord_count)
    parts = 1 + ITEMS
    slack_channels = {slack_channel(n) for n in range(slack_count)}
    discord_channels = [discord_channel(n) for n in range(discord_count)]
    async with (
        FakeSlack(channels=slack_channels, per_channel_interval_s=SLACK_INTERVAL_S) as slack,
        DiscordHost(DISCORD_GLOBAL_PER_S, discord_channels) as discord,
    ):
        slack.calls.clear()
        started = time.monotonic()
        process = await start_digestbot(
            "run", env=bot_env(folder, url, slack, discord, workers), cwd=folder
        )
        # Read its logs as they come, as journald or docker would: at INFO, a line per
        # delivery fills a pipe nobody reads within a few hundred channels, and the bot
        # then waits on its own log.
        logs = LogTail()
        readers = [asyncio.create_task(logs.drain(s)) for s in (process.stdout, process.stderr)]
        try:
            expected = (slack_count + discord_count) * parts
            try:
                cpu = CpuWatch(process.pid)
                first_post, last_post = await watch_posts(slack, discord, expected, started, cpu)
            except RuntimeError:
                process.send_signal(signal.SIGTERM)
                await process.wait()
                await asyncio.gather(*readers)
                raise RuntimeError(logs.text()) from None
            await asyncio.sleep(3.0)  # a duplicate would show up now
            peak = rss_mb(process.pid, "VmHWM")
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                await process.wait()
            await asyncio.gather(*readers)
        wall = last_post - first_post
        report = await discord.ask("report")
        counted = tally(slack, report, edition_id, slack_count, discord_count)

    slack_bound = (parts - 1) * SLACK_INTERVAL_S
    required = discord_count * (parts + 1)  # parent, thread, one reply per item
    discord_bound = required / DISCORD_GLOBAL_PER_S
    bound = max(slack_bound, discord_bound)
    print(
        f"fan-out: 1 edition ({parts} parts) to {slack_count} Slack + "
        f"{discord_count} Discord channels"
    )
    print(f"  workers per process: {workers or 'default'}")
    print(
        f"  wall (first post to last): {wall:.1f} s; bound {bound:.1f} s "
        f"(Slack {slack_bound:.0f} s, Discord {required} requests / {DISCORD_GLOBAL_PER_S}/s "
        f"= {discord_bound:.1f} s); ratio {wall / bound:.3f} (goal <= 1.10)"
    )
    print(
        f"  messages: {counted.slack_messages} Slack, {counted.discord_messages} Discord; "
        f"duplicates {counted.duplicates}, lost {counted.lost} (goal 0, 0)"
    )
    span = report["last_post"] - report["first_post"]
    print(
        f"  Discord alone, first post to last: {span:.1f} s, {required / span:.1f} required "
        "requests per second (paced at 48)"
    )
    print(
        f"  Discord requests: {report['requests']} ({required} required); "
        f"429s served: Slack {slack.rate_limited}, Discord {report['invalid_requests']}"
    )
    print(f"  peak RSS of digestbot run: {peak:.0f} MB (goal <= 200)")
    print(cpu.line("digestbot run, start to last post"))


async def main() -> None:
    """Parse the options, run the fan-out, then measure idle RSS."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slack", type=int, default=1000)
    parser.add_argument("--discord", type=int, default=200)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="digest-fanout-") as name:
        folder = Path(name)
        (folder / "digestbot.toml").write_text(NO_SOURCES)
        print(f"  load average before: {load_average()}")
        await fan_out(folder, args.slack, args.discord, args.workers)
        print(f"  load average after: {load_average()}")
        print(f"  idle RSS of digestbot run, both platforms connected: "
              f"{await idle_rss(folder):.0f} MB (goal <= 120)")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
