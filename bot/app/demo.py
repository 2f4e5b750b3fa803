"""``digestbot demo``: the week of the seeds' edition of 2026-04-13, replayed offline.

The real adapters fetch recorded responses through an in-process transport
(adapters.sources.sample): HF's lists of that week's days, asked as a backfill asks them
(``?date=``), the recorded arXiv query and feeds. The edition dated 2026-04-13 is composed
from that week's items, as `digestbot backfill` would compose it.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, time

from adapters.chat.console_chat import render_reply
from adapters.sources.sample import SAMPLE_FEEDS, sample_transport
from bot.app.console import LineProgress, err, fail, out, print_compose, print_report
from bot.app.wiring import App, compose, ingest, open_app
from bot.clock import SystemClock
from bot.commands.digest import answer
from bot.commands.reply import Command
from bot.config import FeedSettings, Settings
from bot.domain import Edition, Item
from bot.edition.profile import load_profile
from bot.edition.render import render_text, to_digest
from bot.edition.weeks import edition_week

DEMO_MONDAY = date(2026, 4, 13)
"""The seeds' edition: the bundled HF days are the week ending on it."""
PICK_TOPIC = "agents"
"""The demo's editor picks the week's most upvoted paper whose title names this topic."""
PICK_SUBMITTED = datetime.combine(DEMO_MONDAY, time(5, 0), UTC)
"""When the replayed editor submits the pick: that Monday, before the 06:00 compose."""


def demo_settings(settings: Settings, database_url: str) -> Settings:
    """Return ``settings`` pointed at the bundled sample data and the demo database."""
    feeds = tuple(FeedSettings(name=name, url=url) for name, url in SAMPLE_FEEDS.items())
    # Recorded responses served in-process need no politeness pause (the real arXiv does).
    arxiv = settings.sources.arxiv.model_copy(update={"min_interval_s": 0.0})
    sources = settings.sources.model_copy(update={"feeds": feeds, "arxiv": arxiv})
    return settings.model_copy(update={"database_url": database_url, "sources": sources})


def _upvotes(item: Item) -> int:
    value = item.content.data.get("upvotes")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def weeks_pick(items: list[Item]) -> Item | None:
    """Return the most upvoted paper among ``items`` whose title names the pick topic."""
    topic = next(t for t in load_profile().topics if t.name == PICK_TOPIC)
    fitting = [
        item
        for item in items
        if item.content.arxiv_id and topic.pattern.search(item.content.title.lower())
    ]
    return max(fitting, key=lambda item: (_upvotes(item), item.content.canonical_id), default=None)


async def run_demo(settings: Settings) -> None:
    """Ingest the bundled week, pick, compose the edition of 2026-04-13, answer commands."""
    window = edition_week(
        DEMO_MONDAY, settings.edition.window_days, settings.edition.freshness_days
    )
    days = (window.first_day, window.last_day)
    async with open_app(settings, SystemClock(), transport=sample_transport()) as app:
        out.print(
            f"Fetching Hugging Face's recorded lists of {days[0]} to {days[1]} (?date=)…",
            markup=False,
        )
        await ingest(app, ["hf"], LineProgress(err), days=days)
        pick = weeks_pick(await app.store.week_candidates(window))
        if pick is not None:
            await app.store.add_submission(
                pick.content.url,
                f"The week's most upvoted paper on {PICK_TOPIC}.",
                "demo",
                PICK_SUBMITTED,
            )
            out.print(f"An editor picks {pick.content.url}: {pick.content.title}", markup=False)
        out.print("Ingesting the bundled sample data (recorded HF, arXiv, feed responses)…")
        print_report(await ingest(app, (), LineProgress(err), days=days))
        out.print("Ingesting again: unchanged data must change nothing…")
        print_report(await ingest(app, (), None, days=days))
        result = await compose(app, DEMO_MONDAY)
        print_compose(result)
        if result.edition is None:
            fail(result.message)
        out.rule()
        sys.stdout.write(render_text(to_digest(result.edition)))
        sys.stdout.flush()
        out.rule()
        await _sample_commands(app, result.edition)


async def _sample_commands(app: App, edition: Edition) -> None:
    # Prefer a paper the sources found over an editor's pick: it shows the richer card.
    papers = [
        e.item.content.arxiv_id
        for e in sorted(edition.entries, key=lambda e: "manual" in e.item.sources)
        if e.item.content.arxiv_id
    ]
    samples = [Command("digest", "difficulty:accessible")]
    if papers:
        samples.append(Command("paper", papers[0]))
    for command in samples:
        out.print(f"> /{command.name} {command.text}", markup=False)
        out.print(render_reply(await answer(command, app.store)), markup=False)
        out.print()
