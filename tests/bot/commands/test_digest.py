"""/digest and /paper answered from a real store holding a composed edition."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.commands.digest import answer, fetch_paper
from bot.commands.reply import Command
from bot.domain import Sighting
from bot.edition.compose import compose_edition
from bot.edition.profile import load_profile
from bot.edition.summarize import OfflineSummarizer
from storage.store import Store
from tests.builders import IN_WEEK, LEDGERLINE, MONDAY, seed_week
from tests.fakes.clock import FakeClock


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite:///{tmp_path / 'commands.db'}")
    try:
        await seed_week(opened, IN_WEEK)
        profile = load_profile()
        clock = FakeClock(datetime(2026, 4, 13, 6, tzinfo=UTC))
        await compose_edition(
            opened, clock, OfflineSummarizer(profile), profile, edition_date=MONDAY
        )
        yield opened
    finally:
        await opened.aclose()


async def test_digest_lists_the_latest_edition_at_a_level(store: Store) -> None:
    every = await answer(Command("digest", ""), store)
    assert not every.error
    assert len(every.items) == 4
    accessible = await answer(Command("digest", "DIFFICULTY:Accessible edition:latest"), store)
    assert all(i.difficulty.value == "accessible" for i in accessible.items)
    assert accessible.text.startswith("Accessible items in the edition of April 13, 2026")
    by_date = await answer(Command("digest", "edition:2026-04-13 difficulty:intermediate"), store)
    assert [i.arxiv_id for i in by_date.items] == ["2604.31415"]


async def test_bare_values_mean_their_option(store: Store) -> None:
    keyed = await answer(Command("digest", "difficulty:accessible edition:2026-04-13"), store)
    bare = await answer(Command("digest", "2026-04-13 Accessible"), store)
    assert not bare.error
    assert bare == keyed
    assert (await answer(Command("digest", "latest"), store)).items == (
        await answer(Command("digest", ""), store)
    ).items


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("digest", "help", "/digest [difficulty:accessible|intermediate|advanced]"),
        ("digest", "edition:help", "the key may be left out: /digest accessible 2026-04-13"),
        ("paper", "", "/paper <arXiv id, arXiv or HF link, or words>, e.g. /paper 2604.31415"),
        ("paper", "  HELP ", "/paper <arXiv id"),
    ],
)
async def test_help_and_an_empty_paper_answer_with_usage(
    store: Store, name: str, text: str, expected: str
) -> None:
    reply = await answer(Command(name, text), store)
    assert not reply.error
    assert expected in reply.text
    assert not reply.items


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("level:easy", "unknown option “level”; valid options: difficulty, edition"),
        (
            "difficulty:expert",
            "unknown difficulty “expert”; use one of: accessible, intermediate, advanced",
        ),
        ("edition:yesterday", "edition must be latest or a date like 2026-04-13"),
        ("edition:2026-04-06", "no edition for 2026-04-06; editions: 2026-04-13"),
        ("easy", "“easy” is not an option"),
        ("2026-13-45", "edition must be latest or a date like 2026-04-13"),
    ],
)
async def test_digest_errors_say_what_would_be_right(store: Store, text: str, message: str) -> None:
    reply = await answer(Command("digest", text), store)
    assert reply.error
    assert reply.ephemeral
    assert message in reply.text
    assert "\n" not in reply.text


@pytest.mark.parametrize(
    "query",
    [
        "2604.31415",
        "arXiv:2604.31415v2",
        "https://arxiv.org/abs/2604.31415",
        "https://huggingface.co/papers/2604.31415",
    ],
)
async def test_paper_by_id_or_link_gives_the_full_card(store: Store, query: str) -> None:
    reply = await answer(Command("paper", query), store)
    assert reply.full_cards
    (card,) = reply.items
    assert card.title.startswith("Ledgerline")
    assert len(card.takeaways) == 3
    assert reply.text == "From the edition of April 13, 2026"


async def test_paper_by_words_searches_every_edition(store: Store) -> None:
    reply = await answer(Command("paper", "prompt injection"), store)
    assert len(reply.items) == 3
    none = await answer(Command("paper", "sourdough 100%_"), store)
    assert none.error
    assert "no featured item matches" in none.text


async def test_unknown_papers_and_commands_are_explained(store: Store) -> None:
    unknown = await answer(Command("paper", "2604.99999"), store)
    assert not unknown.error
    assert unknown.fetch_arxiv_id == "2604.99999"
    assert unknown.text == "Fetching arXiv:2604.99999 and summarizing it…"
    assert "e.g. /paper 2604.31415" in (await answer(Command("paper", "   "), store)).text
    assert "try /digest or /paper" in (await answer(Command("weather", ""), store)).text


async def test_no_edition_yet_is_a_clear_answer(tmp_path: Path) -> None:
    empty = await Store.open(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        reply = await answer(Command("digest", ""), empty)
    finally:
        await empty.aclose()
    assert reply.error
    assert reply.text == "no edition for latest; editions: none yet"


class TablePapers:
    """Our PaperLookup port answered from a table."""

    def __init__(self, papers: dict[str, Sighting]) -> None:
        self.papers = papers

    async def lookup(self, arxiv_ids: Sequence[str]) -> list[Sighting]:
        return [self.papers[i] for i in arxiv_ids if i in self.papers]


async def test_an_unknown_paper_is_fetched_stored_and_summarized(store: Store) -> None:
    paper = replace(
        LEDGERLINE,
        source="api-arxiv",
        arxiv_id="2604.55555",
        url="https://arxiv.org/abs/2604.55555",
        title="A freshly fetched paper on agents",
    )
    clock = FakeClock()
    summarizer = OfflineSummarizer(load_profile())
    reply = await fetch_paper(
        "2604.55555", TablePapers({"2604.55555": paper}), store, summarizer, clock
    )
    assert reply.full_cards
    (card,) = reply.items
    assert card.title == "A freshly fetched paper on agents"
    assert len(card.takeaways) == 3
    assert await store.get_item("arxiv:2604.55555") is not None
    missing = await fetch_paper("2604.66666", TablePapers({}), store, summarizer, clock)
    assert missing.error
    assert missing.text == "arXiv has no paper 2604.66666; check the id"
