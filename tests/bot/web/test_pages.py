"""What the archive's pages show, read from a real store: paging, an item's history, search."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.commands.digest import answer
from bot.commands.reply import Command
from bot.edition.profile import load_profile
from bot.web.links import Links, item_slug, public_links, safe_href
from bot.web.pages import (
    BadRequestError,
    edition_view,
    editions_view,
    home_view,
    inert,
    item_view,
    parse_page,
    search_view,
)
from storage.store import Store
from tests.builders import MONDAY, PAPER_ID, an_edition, seed_editions


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite:///{tmp_path / 'pages.db'}")
    try:
        yield opened
    finally:
        await opened.aclose()


async def test_editions_are_paged_newest_first(store: Store) -> None:
    await seed_editions(store, 12, per_edition=2)
    first = await editions_view(store, 1, 5)
    last = await editions_view(store, 3, 5)
    assert first is not None
    assert last is not None
    assert (first.total, first.pages) == (12, 3)
    assert [h.date for h in first.headings] == [MONDAY - timedelta(weeks=n) for n in range(5)]
    assert [h.count for h in first.headings] == [2] * 5
    assert [h.date for h in last.headings] == [MONDAY - timedelta(weeks=n) for n in (10, 11)]
    assert await editions_view(store, 4, 5) is None


def test_a_page_number_must_be_a_whole_number_from_one() -> None:
    assert parse_page(None) == parse_page("") == 1
    assert parse_page("3") == 3
    for bad in ("0", "-1", "two", "1e9", "9" * 20):
        with pytest.raises(BadRequestError, match="page must be a whole number"):
            parse_page(bad)


async def test_an_edition_page_knows_its_neighbours(store: Store) -> None:
    await seed_editions(store, 3, per_edition=1)
    middle = await edition_view(store, MONDAY - timedelta(weeks=1))
    assert middle is not None
    assert (middle.newer, middle.older) == (MONDAY, MONDAY - timedelta(weeks=2))
    assert await edition_view(store, date(2020, 1, 6)) is None


async def test_home_shows_the_latest_edition_and_the_earlier_ones(store: Store) -> None:
    assert (await home_view(store)).latest is None
    await seed_editions(store, 8, per_edition=1)
    home = await home_view(store, recent=5)
    assert home.latest is not None
    assert home.latest.digest.date == MONDAY
    assert [h.date for h in home.recent] == [MONDAY - timedelta(weeks=n) for n in range(1, 6)]


async def test_an_item_page_lists_every_edition_it_was_in(store: Store) -> None:
    edition = await an_edition(store)
    view = await item_view(store, PAPER_ID)
    assert view is not None
    assert view.card.title.startswith("Ledgerline")
    assert [(a.date, a.title) for a in view.appearances] == [(MONDAY, edition.title)]
    assert await item_view(store, "arxiv:0000.00000") is None


async def test_search_finds_what_paper_finds(store: Store) -> None:
    await an_edition(store)
    view = await search_view(store, load_profile(), "ledgerline agents", "", "")
    reply = await answer(Command("paper", "ledgerline agents"), store)
    assert [h.card.title for h in view.hits] == [item.title for item in reply.items]
    assert view.hits
    assert view.hits[0].date == MONDAY


async def test_search_filters_by_difficulty_and_topic(store: Store) -> None:
    await seed_editions(store, 3, per_edition=4)
    profile = load_profile()
    advanced = await search_view(store, profile, "", "advanced", "")
    assert len(advanced.hits) == 3
    assert all(h.card.difficulty.value == "advanced" for h in advanced.hits)
    inference = await search_view(store, profile, "", "", "inference")
    assert len(inference.hits) == 3
    assert all("inference latency" in h.card.title for h in inference.hits)
    both = await search_view(store, profile, "benchmark", "", "inference")
    assert both.hits == ()
    nothing = await search_view(store, profile, "", "", "")
    assert not nothing.asked
    assert nothing.hits == ()


async def test_unknown_filters_are_one_line_each(store: Store) -> None:
    profile = load_profile()
    with pytest.raises(BadRequestError, match=r"unknown difficulty .*use one of: accessible"):
        await search_view(store, profile, "x", "expert", "")
    with pytest.raises(BadRequestError, match=r"unknown topic .*use one of: agents"):
        await search_view(store, profile, "x", "", "astrology")
    view = await search_view(store, profile, "% _ !", "", "")
    assert view.problem.startswith("give some words")


def test_only_http_links_become_link_targets() -> None:
    assert safe_href("https://arxiv.org/abs/2604.31415") == "https://arxiv.org/abs/2604.31415"
    assert safe_href('https://x.example/a"b<c>') == "https://x.example/a%22b%3Cc%3E"
    for bad in (
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "//evil.example/",
        "/relative",
        "https://",
        "",
    ):
        assert safe_href(bad) is None, bad


def test_inert_removes_controls_and_bidi_overrides() -> None:
    assert inert("safe\u202etxt.exe\u2066x\u2069\x00\x1b[31m") == "safetxt.exex[31m"
    assert inert("tabs\tand\nnewlines stay") == "tabs\tand\nnewlines stay"


def test_item_addresses_are_stable_and_safe() -> None:
    assert Links().item("arxiv:2604.31415") == "/items/arxiv:2604.31415"
    assert Links().item("https://a.example/p?q=1") == "/items/https:%2F%2Fa.example%2Fp%3Fq%3D1"
    assert item_slug("arxiv:2604.31415") == "arxiv-2604.31415"
    slug = item_slug("https://a.example/<script>/../p")
    assert slug == item_slug("https://a.example/<script>/../p")
    assert set(slug) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_")
    assert public_links("https://digest.example/sub/").edition(MONDAY) == (
        "https://digest.example/sub/editions/2026-04-13"
    )
