"""Benchmark: 500 slash commands over Socket Mode against the fake Slack, 100k items stored.

Run from the repository root: ``.venv/bin/python -m bench.slack_commands``. The store (SQLite,
temporary) holds 100,000 items and 20 composed editions; the real Bolt app answers through the
aiohttp Socket Mode handler. Each command's latency is measured from the envelope sent to the
ack received; the answer travels in the ack, so that is also the final reply.
Goal: reply p99 <= 25 ms for stored items, <= 50 ms for word search.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
from datetime import UTC, date, datetime, timedelta

from adapters.chat.slack_bot import SlackSocketBot, build_slack_app
from adapters.chat.slack_chat import web_client
from bot.domain import Difficulty, EditionEntry, IdentifiedSighting, ItemKind, ItemSummary, Sighting
from storage.store import Store
from tests.fakes.clock import FakeClock
from tests.fakes.slack_server import APP_TOKEN, BOT_TOKEN, FakeSlack

ITEMS = 100_000
EDITIONS = 20
COMMANDS = 500
WORDS = ("agents", "evaluation", "retrieval", "inference", "security", "coding", "memory")


def sighting(n: int) -> IdentifiedSighting:
    """Return a synthetic paper (every third item) or post with a profile word in its title."""
    word = WORDS[n % len(WORDS)]
    if n % 3 == 0:
        arxiv = f"2604.{n:05d}"
        paper = Sighting(
            source="api-hf",
            url=f"https://huggingface.co/papers/{arxiv}",
            arxiv_id=arxiv,
            title=f"Paper {n} on {word} for LLM systems",
            summary=f"We study {word}. " * 20,
            authors=("A. Author", "B. Author"),
        )
        return IdentifiedSighting(f"arxiv:{arxiv}", ItemKind.PAPER, paper)
    url = f"https://blog{n % 97}.example/posts/{n}"
    post = Sighting(
        source="rss-blog", url=url, title=f"Post {n} about {word}", summary=f"On {word}. " * 20
    )
    return IdentifiedSighting(url, ItemKind.POST, post)


async def seed(store: Store) -> list[str]:
    """Store the items and the editions; return the arXiv ids of featured papers."""
    start = datetime(2026, 1, 5, tzinfo=UTC)
    for offset in range(0, ITEMS, 5000):
        batch = [sighting(n) for n in range(offset, min(ITEMS, offset + 5000))]
        await store.upsert_sightings(batch, start + timedelta(minutes=offset))
    featured: list[str] = []
    levels = list(Difficulty)
    for week in range(EDITIONS):
        entries = []
        for position in range(1, 13):
            n = (week * 12 + position) * 3  # papers
            item = await store.get_item(f"arxiv:2604.{n:05d}")
            assert item is not None
            summary = ItemSummary(
                f"Why paper {n} on {WORDS[n % len(WORDS)]} matters. It changes practice.",
                levels[position % 3],
                ("One.", "Two.", "Three."),
                "bench",
                "v1",
                True,
            )
            entries.append(EditionEntry(position, item, summary))
            featured.append(f"2604.{n:05d}")
        monday = date(2026, 1, 5) + timedelta(weeks=week)
        await store.save_edition(monday, "A, B", "Intro. Two. Three.", True, entries, start)
    return featured


def percentile(values: list[float], share: float) -> float:
    """Return the value below which ``share`` of the values fall (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def main() -> None:
    """Print p50/p99 per command kind."""
    rng = random.Random(7)  # a benchmark's fixed mix, not a secret
    with tempfile.TemporaryDirectory() as folder:
        store = await Store.open(f"sqlite:///{folder}/bench.db")
        try:
            featured = await seed(store)
            async with FakeSlack() as slack:
                app = build_slack_app(web_client(BOT_TOKEN, slack.api_url), store, FakeClock())
                bot = SlackSocketBot(app, APP_TOKEN)
                await bot.start()
                timings: dict[str, list[float]] = {
                    "/digest": [],
                    "/paper <id>": [],
                    "/paper <words>": [],
                }
                try:
                    for n in range(COMMANDS):
                        kind = ("/digest", "/paper <id>", "/paper <words>")[n % 3]
                        if kind == "/digest":
                            command, text = (
                                "/digest",
                                rng.choice(["", "difficulty:advanced", "edition:2026-02-02"]),
                            )
                        elif kind == "/paper <id>":
                            command, text = "/paper", rng.choice(featured)
                        else:
                            command, text = "/paper", f"{rng.choice(WORDS)} paper"
                        _, seconds = await slack.slash_command(command, text)
                        timings[kind].append(seconds * 1000)
                finally:
                    await bot.aclose()
            items = await store.count_items()
        finally:
            await store.aclose()
    print(f"store: {items} items, {EDITIONS} editions; {COMMANDS} commands over Socket Mode")
    for kind, values in timings.items():
        goal = "<= 50 ms" if "words" in kind else "<= 25 ms"
        print(
            f"{kind:15}: n={len(values):3}  p50 {statistics.median(values):6.1f} ms  "
            f"p99 {percentile(values, 0.99):6.1f} ms  (goal p99 {goal})"
        )


if __name__ == "__main__":
    asyncio.run(main())
