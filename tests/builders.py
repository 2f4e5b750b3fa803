"""Shared builders: the items, editions and subscriptions that many tests start from.

One week of news (an HF paper and three feed posts, dated in the week of ``MONDAY``), the
edition composed from it offline, a paused subscription, and the set-up of the whole-process
schedule tests. Builders write through the real store; nothing here is a mock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import discord
import pytest

from adapters.chat.discord_chat import configure_endpoints
from bot.domain import (
    Difficulty,
    Edition,
    EditionEntry,
    IdentifiedSighting,
    Item,
    ItemKind,
    ItemSummary,
    Sighting,
    SourceLabel,
    Subscription,
    SubscriptionRecord,
)
from bot.edition.compose import compose_edition
from bot.edition.profile import load_profile
from bot.edition.summarize import OfflineSummarizer
from bot.ingest.ingester import identify
from bot.ingest.merge import merge_sightings
from storage.store import Store
from tests.fakes.clock import FakeClock
from tests.fakes.discord_server import ADMIN_ID, FakeDiscord

MONDAY = date(2026, 4, 13)
IN_WEEK = datetime(2026, 4, 8, 12, 0, tzinfo=UTC)
LEDGERLINE = Sighting(
    source=SourceLabel.HF,
    url="https://huggingface.co/papers/2604.31415",
    title="Ledgerline: Toward Auditable Evaluation of Autonomous Agents",
    summary=(
        "Current agent benchmarks only check final outputs and barely evaluate safety. "
        "We introduce Ledgerline, a benchmark of 300 real-world tasks that records every agent "
        "action through execution traces, audit logs and environment snapshots. "
        "Our evaluation shows that frontier agents fail safety checks in many tasks. "
        "Furthermore, we find that robustness varies widely across multiple trials. "
        "We release the benchmark and the evaluation harness as open source."
    ),
    authors=("Ada Moreau", "Tomas Okafor"),
    published_at=IN_WEEK,
    arxiv_id="2604.31415",
    data={"upvotes": 40},
)
COMPOSED_AT = datetime(2026, 4, 13, 6, tzinfo=UTC)
"""When the week's edition is composed: 06:00 UTC on its Monday."""
PAPER_ID = "arxiv:2604.31415"


def item(sighting: Sighting, item_id: int = 1, citations: int | None = None) -> Item:
    identified = identify(sighting)
    content = merge_sightings(identified.canonical_id, identified.kind, [identified.sighting])
    return Item(item_id, content, (sighting.source,), IN_WEEK, IN_WEEK, citations)


def post(
    n: int, feed: str = "willison", title: str = "Prompt injection in coding agents"
) -> Sighting:
    return Sighting(
        source=SourceLabel.feed(feed),
        url=f"https://{feed}.example/posts/{n}",
        title=f"{title} #{n}",
        summary="Coding agents that read untrusted files can be steered by prompt injection. "
        "This post walks through three attacks on a real coding agent and what stopped them. "
        "The fix that worked was to keep tool permissions narrow and log every action.",
        published_at=IN_WEEK,
    )


async def seed_week(store: Store, at: datetime, published: datetime | None = None) -> None:
    """Store the week's four items as seen at ``at``; ``published`` re-dates them."""
    sightings = [LEDGERLINE, *[post(n, feed) for n, feed in enumerate(["a", "b", "c"], 1)]]
    if published is not None:
        sightings = [replace(s, published_at=published) for s in sightings]
    await store.upsert_sightings([identify(s) for s in sightings], at)


async def an_edition(store: Store) -> Edition:
    await seed_week(store, IN_WEEK)
    profile = load_profile()
    result = await compose_edition(
        store, FakeClock(COMPOSED_AT), OfflineSummarizer(profile), profile, edition_date=MONDAY
    )
    assert result.edition is not None
    return result.edition


async def edition_database(folder: Path) -> str:
    """Store the week's edition (`an_edition`) in a SQLite file in ``folder``; return its URL.

    What a whole-process test's ``digestbot`` then reads.
    """
    url = f"sqlite:///{folder / 'digest.db'}"
    store = await Store.open(url)
    try:
        await an_edition(store)
    finally:
        await store.aclose()
    return url


def paused(
    platform: str, channel: str, created_by: str, reason: str = "Slack: is_archived"
) -> SubscriptionRecord:
    """Return a subscription just paused for ``reason``, as the store hands it to notices."""
    subscription = Subscription(
        platform, "W1", channel, 0, "09:00", "Europe/Paris", Difficulty.ACCESSIBLE,
        active=False, paused_reason=reason,
    )  # fmt: skip
    return SubscriptionRecord(subscription, created_by, COMPOSED_AT, COMPOSED_AT, COMPOSED_AT)


def paper(source: str, **changes: object) -> IdentifiedSighting:
    base = Sighting(
        source=source,
        url=f"https://arxiv.org/abs/2604.31415?from={source}",
        title=f"Ledgerline as told by {source}",
        summary=f"Abstract from {source}.",
        authors=("Ada Moreau", "Tomas Okafor") if source != SourceLabel.feed("willison") else (),
        arxiv_id="2604.31415",
        arxiv_version=1,
        data={"seen_by": source},
    )
    return IdentifiedSighting(PAPER_ID, ItemKind.PAPER, replace(base, **changes))  # type: ignore[arg-type]


# -- whole-process schedule tests ----------------------------------------------------------

NO_SOURCES = """
[sources.hf]
enabled = false
[sources.arxiv]
enabled = false
[sources.semantic_scholar]
enabled = false
"""
TIMEZONES = ("Europe/Paris", "America/New_York", "Asia/Tokyo")
DISCORD_CHANNELS = ("1400000000000000101", "1400000000000000102", "1400000000000000103")
SLACK_CHANNELS = ("C0PARIS", "C0NEWYORK", "C0TOKYO")


def slot_minutes_ago(timezone: str, minutes: int) -> tuple[int, str]:
    local = (datetime.now(UTC) - timedelta(minutes=minutes)).astimezone(ZoneInfo(timezone))
    return local.weekday(), f"{local:%H:%M}"


async def subscribed_and_composed(
    url: str,
    tmp_path: Path,
    slack_channels: Sequence[str],
    discord_channels: Sequence[str],
    timezones: Sequence[str],
) -> Edition:
    """Compose an edition; subscribe each channel pair, its slot a few minutes ago in a zone."""
    store = await Store.open(url)
    try:
        edition = await an_edition(store)
        week_ago = datetime.now(UTC) - timedelta(days=7)
        for n, (slack, discord_channel, tz) in enumerate(
            zip(slack_channels, discord_channels, timezones, strict=True)
        ):
            weekday, at = slot_minutes_ago(tz, 3 + n)
            for platform, channel, admin in (("slack", slack, "U0ADMIN"),
                                             ("discord", discord_channel, ADMIN_ID)):  # fmt: skip
                subscription = Subscription(platform, "W1", channel, weekday, at, tz, None)
                await store.subscribe(subscription, admin, week_ago)
    finally:
        await store.aclose()
    (tmp_path / "digestbot.toml").write_text(NO_SOURCES + "[sources]\nfeeds = []\n")
    return edition


# -- the web archive -------------------------------------------------------------------------

TOPIC_TITLES = (
    "Benchmark for tool-calling agents",
    "Speculative decoding cuts inference latency",
    "Jailbreak defences under red teaming",
    "Retrieval-augmented generation at scale",
)


async def seed_editions(
    store: Store, count: int, per_edition: int = 12, last: date = MONDAY
) -> list[Edition]:
    """Store ``count`` weekly editions ending on ``last``, ``per_edition`` posts each."""
    days = [last - timedelta(weeks=n) for n in range(count)]
    at = datetime.combine(last, datetime.min.time(), tzinfo=UTC)
    sightings = {
        day: [
            Sighting(
                source=SourceLabel.feed("archive"),
                url=f"https://archive.example/{day.isoformat()}/{n}",
                title=f"{TOPIC_TITLES[n % len(TOPIC_TITLES)]} ({day.isoformat()} #{n})",
                summary="A post about LLM engineering.",
                published_at=at,
            )
            for n in range(per_edition)
        ]
        for day in days
    }
    await store.upsert_sightings([identify(s) for week in sightings.values() for s in week], at)
    editions = []
    levels = list(Difficulty)
    for day, week in sightings.items():
        entries = []
        for n, sighting in enumerate(week):
            stored = await store.get_item(identify(sighting).canonical_id)
            assert stored is not None
            summary = ItemSummary(
                why=f"Why {sighting.title} matters to engineers shipping models.",
                difficulty=levels[n % len(levels)],
                takeaways=("First point.", "Second point.", "Third point."),
                model="offline",
                prompt_version="test",
                offline=True,
            )
            entries.append(EditionEntry(n + 1, stored, summary))
        editions.append(
            await store.save_edition(
                day, f"Week of {day.isoformat()}", "The week's intro.", True, entries, at
            )
        )
    return editions


@asynccontextmanager
async def discord_at_fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    """Run a fake Discord and point discord.py at it, for one test.

    `configure_endpoints` sets two process-wide class attributes: ``monkeypatch`` restores
    them after the test.
    """
    async with FakeDiscord() as server:
        monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
        monkeypatch.setattr(
            discord.gateway.DiscordWebSocket,
            "DEFAULT_GATEWAY",
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
        )
        configure_endpoints(server.api_url, server.gateway_url)
        yield server
