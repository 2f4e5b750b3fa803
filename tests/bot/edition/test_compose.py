"""Editions offline: selection, compose with the real store, rendering.

The offline writer itself is tested in test_summarize.py.

The rendered text is checked line by line against the structure of the real editions in
tests/data/seeds (copied from shared/seeds).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain import (
    ComposeOutcome,
    ItemKind,
    Sighting,
    SourceLabel,
)
from bot.edition.compose import compose_edition, edition_covering, edition_monday, week_window
from bot.edition.profile import load_profile
from bot.edition.render import render_json, render_markdown, render_text, to_digest
from bot.edition.select import Caps, choose, score
from bot.edition.summarize import OfflineSummarizer
from storage.store import Store
from tests.builders import IN_WEEK, LEDGERLINE, MONDAY, item, post, seed_week
from tests.conftest import DATA
from tests.fakes.clock import FakeClock

PROFILE = load_profile()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite:///{tmp_path / 'editions.db'}")
    try:
        yield opened
    finally:
        await opened.aclose()


# -- dates -------------------------------------------------------------------------------


def test_editions_are_dated_on_mondays_and_cover_the_week_before() -> None:
    assert edition_monday(date(2026, 4, 13)) == date(2026, 4, 13)
    assert edition_monday(date(2026, 4, 15)) == date(2026, 4, 20)
    assert edition_covering(datetime(2026, 4, 13, 9, tzinfo=UTC)) == date(2026, 4, 20)
    start, end = week_window(MONDAY)
    assert (start, end) == (datetime(2026, 4, 6, tzinfo=UTC), datetime(2026, 4, 13, tzinfo=UTC))


# -- select ------------------------------------------------------------------------------


def test_fit_to_the_profile_ranks_llm_engineering_above_other_news() -> None:
    agents = score(item(LEDGERLINE), PROFILE, IN_WEEK)
    cooking = score(
        item(
            Sighting(
                source="rss-food",
                url="https://food.example/bread",
                title="Sourdough at home",
                summary="Flour, water and salt make a good loaf with patience.",
            )
        ),
        PROFILE,
        IN_WEEK,
    )
    assert agents.fit > 0.8
    assert cooking.fit == 0
    assert agents.score > cooking.score
    assert "agents" in agents.reason or "evaluation" in agents.reason


def test_editors_picks_are_always_in_and_caps_mix_kinds_and_feeds() -> None:
    pick = item(replace(post(99, "other", "Sourdough at home"), source=SourceLabel.MANUAL), 99)
    posts = [item(post(n), n) for n in range(1, 9)]
    papers = [
        item(
            replace(
                LEDGERLINE,
                arxiv_id=f"2604.0{n:04d}",
                url=f"https://huggingface.co/papers/2604.0{n:04d}",
            ),
            100 + n,
        )
        for n in range(1, 9)
    ]
    chosen = choose(
        [score(i, PROFILE, IN_WEEK) for i in [pick, *posts, *papers]], 6, Caps(3, 3, 2, 2)
    )
    assert chosen[0].item.id == 99  # the editor's pick leads even though it fits nothing
    kinds = [c.item.content.kind for c in chosen]
    assert kinds.count(ItemKind.PAPER) == 3
    assert sum(1 for c in chosen if "rss-willison" in c.item.sources) == 2


def test_a_thin_week_fills_from_what_the_caps_held_back() -> None:
    posts = [item(post(n), n) for n in range(1, 5)]
    chosen = choose([score(i, PROFILE, IN_WEEK) for i in posts], 12, Caps(8, 6, 4, 1))
    assert len(chosen) == 4


# -- compose -----------------------------------------------------------------------------


async def test_compose_saves_an_ordered_edition_and_a_second_compose_is_free(store: Store) -> None:
    clock = FakeClock(datetime(2026, 4, 13, 6, tzinfo=UTC))
    await seed_week(store, IN_WEEK)
    summarizer = OfflineSummarizer(PROFILE)

    first = await compose_edition(store, clock, summarizer, PROFILE, edition_date=MONDAY, size=12)
    assert first.edition is not None
    assert (first.summaries_written, first.summaries_reused) == (4, 0)
    assert [e.position for e in first.edition.entries] == [1, 2, 3, 4]
    assert first.edition.offline
    assert "," in first.edition.title
    assert 2 <= len(re.split(r"(?<=[.!?”])\s+(?=[A-Z“])", first.edition.intro)) <= 4

    again = await compose_edition(store, clock, summarizer, PROFILE, edition_date=MONDAY)
    assert "already exists" in again.message
    rebuilt = await compose_edition(
        store, clock, summarizer, PROFILE, edition_date=MONDAY, force=True
    )
    assert rebuilt.rebuilt
    assert (rebuilt.summaries_written, rebuilt.summaries_reused) == (0, 4)
    assert await store.edition_dates() == [MONDAY]


async def test_items_already_featured_are_not_featured_again(store: Store) -> None:
    clock = FakeClock(datetime(2026, 4, 20, 6, tzinfo=UTC))
    await seed_week(store, IN_WEEK)
    await compose_edition(store, clock, OfflineSummarizer(PROFILE), PROFILE, edition_date=MONDAY)
    # The same items seen again next week are not new: no edition, and the reason is kept.
    await seed_week(store, IN_WEEK + timedelta(days=7))
    result = await compose_edition(
        store, clock, OfflineSummarizer(PROFILE), PROFILE, edition_date=date(2026, 4, 20)
    )
    assert result.edition is None
    assert "no new items" in result.message
    last = await store.last_compose()
    assert last is not None
    assert (last.edition_date, last.outcome) == (date(2026, 4, 20), ComposeOutcome.SKIPPED)


# -- render ------------------------------------------------------------------------------


def item_blocks(text: str) -> list[list[str]]:
    """Split a rendered or seed edition into per-item line lists (an item starts at its title)."""
    lines = text.splitlines()
    starts = [
        n
        for n in range(len(lines) - 3)
        if lines[n] and lines[n] == lines[n + 3] and lines[n + 2] == ""
    ]
    return [lines[a:b] for a, b in zip(starts, [*starts[1:], len(lines)], strict=True)]


def shape(block: list[str]) -> list[str]:
    """The structure of an item block: which kind of line stands where."""
    kinds = []
    for n, line in enumerate(block):
        if n in (0, 3):
            kinds.append("title")
        elif n == 1:
            kinds.append(
                "difficulty" if line in {"Accessible", "Intermediate", "Advanced"} else "?"
            )
        elif line == "Takeaways":
            kinds.append("takeaways")
        elif line.startswith("  • "):
            kinds.append("bullet")
        elif re.fullmatch(r"(\d+ citations · )?via [a-z-]+( · arXiv:\S+)?", line):
            kinds.append("source")
        elif line.startswith("https://"):
            kinds.append("link")
        elif line == "":
            kinds.append("blank")
        else:
            kinds.append("text")
    return kinds


async def test_rendered_text_has_the_seeds_structure_field_by_field(store: Store) -> None:
    clock = FakeClock(datetime(2026, 4, 13, 6, tzinfo=UTC))
    await seed_week(store, IN_WEEK)
    await store.save_citations({"2604.31415": 7}, ["2604.31415"], IN_WEEK)
    result = await compose_edition(
        store, clock, OfflineSummarizer(PROFILE), PROFILE, edition_date=MONDAY
    )
    assert result.edition is not None
    text = render_text(to_digest(result.edition))

    seed = (DATA / "seeds" / "000_92cf9bf6139c7620.txt").read_text(encoding="utf-8")
    ours, theirs = text.splitlines(), seed.splitlines()
    assert ours[0] == theirs[0] == "LLM News Digest"
    assert ours[1] == theirs[1] == ""
    assert re.fullmatch(r"[A-Z][^,]+, [A-Z].+", ours[2])
    assert re.fullmatch(r"[A-Z][a-z]+ \d{1,2}, \d{4} · \d+ papers?", theirs[4])
    assert ours[4] == "April 13, 2026 · 4 papers"

    seed_shapes = {tuple(s for s in shape(b) if s != "link") for b in item_blocks(seed)}
    our_blocks = item_blocks(text)
    assert len(our_blocks) == 4
    for block in our_blocks:
        kinds = shape(block)
        assert kinds[-2:] == ["source", "link"]
        assert kinds.count("bullet") == 3
        assert tuple(k for k in kinds if k != "link") in seed_shapes
    paper_block = next(b for b in our_blocks if b[0].startswith("Ledgerline"))
    assert paper_block[5] == "Ada Moreau, Tomas Okafor"
    assert "7 citations · via api-hf · arXiv:2604.31415" in paper_block


async def test_json_and_markdown_follow_the_contract(store: Store) -> None:
    clock = FakeClock(datetime(2026, 4, 13, 6, tzinfo=UTC))
    await seed_week(store, IN_WEEK)
    result = await compose_edition(
        store, clock, OfflineSummarizer(PROFILE), PROFILE, edition_date=MONDAY
    )
    assert result.edition is not None
    digest = to_digest(result.edition)
    data = json.loads(render_json(digest))
    assert {"id", "date", "title", "intro", "offline", "items"} <= set(data)
    assert data["date"] == "2026-04-13"
    first = data["items"][0]
    assert {
        "position",
        "title",
        "url",
        "difficulty",
        "authors",
        "summary",
        "takeaways",
        "source",
        "arxiv_id",
        "citations",
    } <= set(first)
    assert first["difficulty"] in {"accessible", "intermediate", "advanced"}
    assert len(first["takeaways"]) == 3
    markdown = render_markdown(digest)
    assert markdown.startswith("# LLM News Digest: ")
    assert "](https://huggingface.co/papers/2604.31415)" not in markdown  # papers link to arXiv
    assert "](https://arxiv.org/abs/2604.31415)" in markdown
