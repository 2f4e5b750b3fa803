"""Weeks by source date: a past week composes from the store; a feed's backlog stays out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain import Sighting, SourceLabel
from bot.edition.compose import compose_edition
from bot.edition.profile import load_profile
from bot.edition.summarize import OfflineSummarizer
from bot.edition.weeks import edition_week
from bot.ingest.ingester import identify
from storage.store import Store
from tests.builders import MONDAY, post
from tests.fakes.clock import FakeClock

PROFILE = load_profile()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite:///{tmp_path / 'weeks.db'}")
    try:
        yield opened
    finally:
        await opened.aclose()


def listed(day: date, n: int) -> Sighting:
    """An HF paper listed on ``day`` (its arXiv date a month earlier, as HF often lists)."""
    arxiv_id = f"2604.{n:05d}"
    return Sighting(
        source=SourceLabel.HF,
        url=f"https://huggingface.co/papers/{arxiv_id}",
        title=f"An invented harness for evaluating tool-calling agents, part {n}",
        summary="We evaluate coding agents on tool calling and report where they fail.",
        published_at=datetime(2026, 3, 11, tzinfo=UTC),
        arxiv_id=arxiv_id,
        data={"upvotes": 40, "hf_published_at": f"{day.isoformat()}T00:00:00+00:00"},
    )


def test_the_week_is_tuesday_to_monday_by_source_date() -> None:
    window = edition_week(MONDAY, 7, 14)
    assert (window.first_day, window.last_day) == (date(2026, 4, 7), MONDAY)
    assert window.seen_from == datetime(2026, 4, 6, tzinfo=UTC)
    assert window.seen_until == datetime(2026, 4, 14, tzinfo=UTC)
    assert window.fresh_since == date(2026, 3, 30)


async def test_a_past_week_composes_from_the_store_by_source_date(store: Store) -> None:
    # Backfilled in December: nothing was first seen in April, yet April's weeks compose.
    december = datetime(2026, 12, 1, 9, tzinfo=UTC)
    days = [date(2026, 4, 6), date(2026, 4, 7), date(2026, 4, 10), MONDAY, date(2026, 4, 14)]
    await store.upsert_sightings(
        [identify(listed(day, n)) for n, day in enumerate(days, 1)], december
    )
    result = await compose_edition(
        store, FakeClock(december), OfflineSummarizer(PROFILE), PROFILE, edition_date=MONDAY
    )
    assert result.edition is not None
    assert result.edition.date == MONDAY
    assert sorted(e.item.content.arxiv_id or "" for e in result.edition.entries) == [
        "2604.00002",
        "2604.00003",
        "2604.00004",
    ]
    # The next week gets the Tuesday after, never one already featured.
    later = await compose_edition(
        store,
        FakeClock(december),
        OfflineSummarizer(PROFILE),
        PROFILE,
        edition_date=MONDAY + timedelta(days=7),
    )
    assert later.edition is not None
    assert [e.item.content.arxiv_id for e in later.edition.entries] == ["2604.00005"]


async def test_the_freshness_bound_keeps_a_feeds_backlog_out(store: Store) -> None:
    # A feed added on Wednesday brings this week's post, one from ten days ago (a late
    # arrival, still news) and its 2012 archive; all are first seen in the week.
    seen = datetime(2026, 4, 8, 12, tzinfo=UTC)
    fresh = replace(post(1), published_at=seen)
    late = replace(post(2), published_at=datetime(2026, 4, 3, 9, tzinfo=UTC))
    backlog = [replace(post(n), published_at=datetime(2012, 5, n, tzinfo=UTC)) for n in range(3, 9)]
    await store.upsert_sightings([identify(s) for s in [fresh, late, *backlog]], seen)
    result = await compose_edition(
        store,
        FakeClock(datetime(2026, 4, 13, 6, tzinfo=UTC)),
        OfflineSummarizer(PROFILE),
        PROFILE,
        edition_date=MONDAY,
    )
    assert result.edition is not None
    assert sorted(e.item.content.url for e in result.edition.entries) == [
        "https://willison.example/posts/1",
        "https://willison.example/posts/2",
    ]
    assert result.candidates == 2
