"""The web archive's reads on SQLite and PostgreSQL: headings by page, an item's history, search."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage.store import Store
from tests.builders import MONDAY, PAPER_ID, an_edition, seed_editions
from tests.storage.conftest import DATABASES

pytestmark = pytest.mark.parametrize("database_url", DATABASES, indirect=True)


async def test_headings_come_newest_first_with_their_counts_and_total(store: Store) -> None:
    await seed_editions(store, 6, per_edition=3)
    headings, total = await store.edition_headings(2, 3)
    assert total == 6
    assert [h.date for h in headings] == [MONDAY - timedelta(weeks=n) for n in (2, 3, 4)]
    assert [h.count for h in headings] == [3, 3, 3]
    assert await store.edition_headings(10, 3) == ([], 6)
    newest = await store.newest_editions(2)
    assert [(e.date, len(e.entries)) for e in newest] == [(MONDAY, 3), (MONDAY - timedelta(7), 3)]


async def test_an_items_entries_name_each_edition(store: Store) -> None:
    edition = await an_edition(store)
    ((day, title, entry),) = await store.item_entries(PAPER_ID)
    assert (day, title) == (MONDAY, edition.title)
    assert entry.item.content.canonical_id == PAPER_ID
    assert await store.item_entries("arxiv:0000.00000") == []


async def test_search_ignores_case_and_filters_by_level_and_phrases(store: Store) -> None:
    await seed_editions(store, 2, per_edition=4)
    upper = await store.search_featured(["SPECULATIVE"], 10)
    lower = await store.search_featured(["speculative"], 10)
    assert [e.item.id for _, e in upper] == [e.item.id for _, e in lower]
    assert len(lower) == 2
    advanced = await store.search_featured([], 10, difficulty="advanced")
    assert {e.summary.difficulty.value for _, e in advanced} == {"advanced"}
    assert len(advanced) == 2
    either = await store.search_featured([], 10, any_of=("Jailbreak", "kv cache", "reranking"))
    assert (
        sorted(e.item.content.title.split(" (")[0] for _, e in either)
        == ["Jailbreak defences under red teaming"] * 2
    )
    assert await store.search_featured(["100%_"], 10) == []  # wildcards are text


async def test_search_reaches_past_the_newest_editions_in_date_order(store: Store) -> None:
    await seed_editions(store, 60, per_edition=1)  # more than one batch of editions
    oldest = MONDAY - timedelta(weeks=59)
    (match,) = await store.search_featured([oldest.isoformat()], 10)
    assert match[0] == oldest
    found = await store.search_featured(["benchmark"], 55)
    assert [day for day, _ in found] == [MONDAY - timedelta(weeks=n) for n in range(55)]
