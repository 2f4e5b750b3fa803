"""The store on SQLite and PostgreSQL: one item per paper, sightings, versions, runs, picks."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import (
    IdentifiedSighting,
    ItemKind,
    LastDelivery,
    ModelSpend,
    RunOutcome,
    Sighting,
    SourceLabel,
    SourceRun,
    UpsertCounts,
)
from bot.ingest.ingester import identify_all
from storage.store import Store
from tests.builders import PAPER_ID, paper
from tests.storage.conftest import DATABASES

pytestmark = pytest.mark.parametrize("database_url", DATABASES, indirect=True)

T0 = datetime(2026, 4, 13, 6, 0, tzinfo=UTC)


def post(n: int) -> IdentifiedSighting:
    url = f"https://blog.example/posts/{n}"
    sighting = Sighting(
        source=SourceLabel.feed("blog"), url=url, title=f"Post {n}", summary="é" * 50
    )
    return IdentifiedSighting(url, ItemKind.POST, sighting)


async def test_one_paper_from_four_sources_is_one_item_with_four_sightings(store: Store) -> None:
    batch = [
        paper(SourceLabel.feed("willison")),
        paper(SourceLabel.MANUAL),
        paper(SourceLabel.HF, data={"upvotes": 42}),
        paper(SourceLabel.ARXIV, data={"primary_category": "cs.AI"}),
    ]
    counts = await store.upsert_sightings(batch, T0)

    assert counts == UpsertCounts(new=1)
    item = await store.get_item(PAPER_ID)
    assert item is not None
    assert item.sources == ("api-arxiv", "api-hf", "manual", "rss-willison")
    assert item.content.title == "Ledgerline as told by api-arxiv"
    assert item.content.url == "https://arxiv.org/abs/2604.31415"
    assert item.content.data["upvotes"] == 42
    assert item.content.data["primary_category"] == "cs.AI"
    assert await store.count_items() == 1


async def test_sources_arriving_one_by_one_give_the_same_item(store: Store) -> None:
    await store.upsert_sightings([paper(SourceLabel.feed("willison"))], T0)
    counts = await store.upsert_sightings([paper(SourceLabel.ARXIV)], T0 + timedelta(hours=1))
    assert counts == UpsertCounts(updated=1)
    item = await store.get_item(PAPER_ID)
    assert item is not None
    assert item.content.title == "Ledgerline as told by api-arxiv"
    assert item.content.authors == ("Ada Moreau", "Tomas Okafor")


async def test_the_same_data_again_changes_nothing_but_last_seen(store: Store) -> None:
    batch = [paper(SourceLabel.HF), post(1), post(2)]
    await store.upsert_sightings(batch, T0)
    before = await store.get_item(PAPER_ID)

    counts = await store.upsert_sightings(batch, T0 + timedelta(hours=6))

    assert counts == UpsertCounts(unchanged=3)
    after = await store.get_item(PAPER_ID)
    assert before is not None
    assert after is not None
    assert after.content == before.content
    assert after.first_seen == T0
    assert after.last_seen == T0 + timedelta(hours=6)


async def test_a_new_version_updates_the_item_and_an_older_one_never_downgrades_it(
    store: Store,
) -> None:
    await store.upsert_sightings([paper(SourceLabel.ARXIV)], T0)
    v2 = paper(SourceLabel.ARXIV, arxiv_version=2, summary="Revised abstract.")
    assert await store.upsert_sightings([v2], T0 + timedelta(days=1)) == UpsertCounts(updated=1)

    item = await store.get_item(PAPER_ID)
    assert item is not None
    assert (item.content.arxiv_version, item.content.summary) == (2, "Revised abstract.")

    stale = paper(SourceLabel.ARXIV, arxiv_version=1, summary="Old abstract.")
    assert await store.upsert_sightings([stale], T0 + timedelta(days=2)) == UpsertCounts(
        unchanged=1
    )
    item = await store.get_item(PAPER_ID)
    assert item is not None
    assert (item.content.arxiv_version, item.content.summary) == (2, "Revised abstract.")
    assert await store.count_items() == 1


async def test_changed_popularity_is_an_update_without_touching_the_content_hash(
    store: Store,
) -> None:
    await store.upsert_sightings([paper(SourceLabel.HF, data={"upvotes": 1})], T0)
    first = await store.get_item(PAPER_ID)
    counts = await store.upsert_sightings([paper(SourceLabel.HF, data={"upvotes": 9})], T0)
    second = await store.get_item(PAPER_ID)
    assert counts == UpsertCounts(updated=1)
    assert first is not None
    assert second is not None
    assert second.content.data["upvotes"] == 9
    assert second.content.content_hash == first.content.content_hash


async def test_large_batches_and_unusual_text_survive(store: Store) -> None:
    batch = [post(n) for n in range(1500)]
    long_title = "Ünïcödé ✓ 中文 " * 500
    batch.append(
        IdentifiedSighting(
            "https://blog.example/long",
            ItemKind.POST,
            Sighting(source="rss-blog", url="https://blog.example/long", title=long_title),
        )
    )
    assert await store.upsert_sightings(batch, T0) == UpsertCounts(new=1501)
    assert await store.upsert_sightings(batch, T0) == UpsertCounts(unchanged=1501)
    item = await store.get_item("https://blog.example/long")
    assert item is not None
    assert item.content.title == long_title
    assert len(await store.recent_items(10)) == 10
    window = await store.items_first_seen_between(T0, T0 + timedelta(seconds=1))
    assert len(window) == 1501


async def test_source_state_round_trip(store: Store) -> None:
    assert await store.source_state("willison") == {}
    await store.save_source_state("willison", {"etag": '"abc"'}, T0)
    await store.save_source_state("willison", {"etag": '"def"', "last_modified": "x"}, T0)
    assert await store.source_state("willison") == {"etag": '"def"', "last_modified": "x"}


async def test_runs_are_recorded_and_the_latest_per_source_is_shown(store: Store) -> None:
    for hour, outcome, reason in [(1, RunOutcome.OK, ""), (2, RunOutcome.FAILED, "HTTP 503")]:
        await store.record_source_run(
            SourceRun(
                source="arxiv",
                started_at=T0 + timedelta(hours=hour),
                finished_at=T0 + timedelta(hours=hour, seconds=3),
                outcome=outcome,
                reason=reason,
                fetched=10,
                counts=UpsertCounts(1, 2, 7),
                warnings=("one",),
            )
        )
    await store.record_source_run(SourceRun("hf", T0, T0, RunOutcome.NOT_MODIFIED, "not modified"))
    runs = await store.last_source_runs()
    assert [(r.source, r.outcome, r.reason) for r in runs] == [
        ("arxiv", RunOutcome.FAILED, "HTTP 503"),
        ("hf", RunOutcome.NOT_MODIFIED, "not modified"),
    ]
    assert runs[0].counts == UpsertCounts(1, 2, 7)
    assert runs[0].finished_at == T0 + timedelta(hours=2, seconds=3)


async def test_citations_are_asked_for_until_checked(store: Store) -> None:
    await store.upsert_sightings([paper(SourceLabel.HF), post(1)], T0)
    assert await store.arxiv_ids_needing_citations(T0, 10) == ["2604.31415"]
    await store.save_citations({"2604.31415": 72}, ["2604.31415"], T0)
    assert await store.arxiv_ids_needing_citations(T0, 10) == []
    assert await store.arxiv_ids_needing_citations(T0 + timedelta(days=2), 10) == ["2604.31415"]
    item = await store.get_item(PAPER_ID)
    assert item is not None
    assert (item.citations, item.citations_checked_at) == (72, T0)


async def test_submissions_are_queued_then_resolved_or_failed(store: Store) -> None:
    first = await store.add_submission("https://arxiv.org/abs/2604.31415", "great", "U1", T0)
    second = await store.add_submission("http://10.0.0.1/", "", "U2", T0)
    assert [s.url for s in await store.pending_submissions()] == [first.url, second.url]
    await store.resolve_submission(first.id, PAPER_ID, "", T0)
    await store.resolve_submission(second.id, None, "refused: private address", T0)
    assert await store.pending_submissions() == []


async def test_editions_round_trip_replace_and_search(store: Store) -> None:
    from bot.domain import Difficulty, EditionEntry, ItemSummary

    await store.upsert_sightings([paper(SourceLabel.HF), post(1)], T0)
    paper_item = await store.get_item(PAPER_ID)
    post_item = await store.get_item("https://blog.example/posts/1")
    assert paper_item is not None
    assert post_item is not None
    summary = ItemSummary(
        "Why 100% of it matters.", Difficulty.ADVANCED, ("a.", "b.", "c."), "m", "v1", False
    )
    entries = [
        EditionEntry(1, paper_item, summary, 0.9, "fit"),
        EditionEntry(2, post_item, summary, 0.5, "fit"),
    ]
    monday = T0.date()
    first = await store.save_edition(monday, "A, B", "Intro.", False, entries, T0)
    again = await store.save_edition(monday, "C, D", "Intro two.", True, entries[:1], T0)

    assert await store.edition_dates() == [monday]
    latest = await store.edition()
    assert latest is not None
    assert (latest.id, latest.title, latest.offline, len(latest.entries)) == (
        again.id,
        "C, D",
        True,
        1,
    )
    assert first.id == again.id  # a rebuild keeps the edition's id
    assert latest.entries[0].summary == summary
    assert await store.featured_item_ids() == {paper_item.id}
    assert await store.featured_item_ids(except_date=monday) == set()

    featured = await store.featured_entry(PAPER_ID)
    assert featured is not None
    assert featured[0] == monday
    assert [e.item.id for _, e in await store.search_featured(["ledgerline"], 5)] == [paper_item.id]
    assert await store.search_featured(["100%"], 5) != []
    assert await store.search_featured(["1_0"], 5) == []  # _ is a letter here, not a wildcard

    await store.save_summary("hash", summary, T0)
    await store.save_summary("hash", summary, T0)
    assert await store.cached_summary("hash", "v1", "m") == summary
    assert await store.cached_summary("hash", "v2", "m") is None


async def test_llm_calls_and_answers_are_kept(store: Store) -> None:
    await store.record_llm_call("item_summary", "small", 1000, 200, 0.00065, T0)
    await store.record_llm_call("relevance", "small", 500, 50, 0.0002, T0 + timedelta(days=1))
    spend = await store.llm_spend_since(T0)
    assert (spend.calls, spend.tokens) == (2, 1750)
    assert spend.cost_usd == pytest.approx(0.00085)
    assert await store.llm_spend_since(T0 + timedelta(days=2)) == ModelSpend(0, 0, 0.0)
    await store.record_llm_call("item_summary", "large", 10, 5, 0.5, T0)
    # Every model's whole history: what /metrics exports as counters.
    small, large = sorted(await store.llm_usage(), key=lambda usage: usage.model, reverse=True)
    assert (small.model, small.input_tokens, small.output_tokens) == ("small", 1500, 250)
    assert small.cost_usd == pytest.approx(0.00085)
    assert (large.model, large.input_tokens, large.output_tokens) == ("large", 10, 5)

    await store.save_llm_answers({"h1": {"score": 7, "reason": "agents"}}, "v1", "small", T0)
    await store.save_llm_answers({"h1": {"score": 1, "reason": "later"}}, "v1", "small", T0)
    assert await store.llm_answers(["h1", "h2"], "v1", "small") == {
        "h1": {"score": 7, "reason": "agents"}
    }
    assert await store.llm_answers(["h1"], "v2", "small") == {}


async def test_deliveries_are_recorded_once_per_part(store: Store) -> None:
    from bot.domain import Difficulty, EditionEntry, ItemSummary

    await store.upsert_sightings([paper(SourceLabel.HF)], T0)
    item = await store.get_item(PAPER_ID)
    assert item is not None
    summary = ItemSummary(
        "Why. It matters.", Difficulty.ACCESSIBLE, ("a.", "b.", "c."), "m", "v", True
    )
    edition = await store.save_edition(
        T0.date(), "A, B", "I.", True, [EditionEntry(1, item, summary)], T0
    )
    await store.record_sent("slack:C1", edition.id, 0, "1.0001", "1.0001", T0)
    await store.record_sent("slack:C1", edition.id, 1, "1.0002", "1.0001", T0)
    await store.record_sent("discord:9", edition.id, 0, "900", "900", T0)
    assert await store.sent_parts("slack:C1", edition.id) == {
        0: ("1.0001", "1.0001"),
        1: ("1.0002", "1.0001"),
    }
    assert await store.last_deliveries() == [
        LastDelivery("discord:9", T0.date(), 1, T0),
        LastDelivery("slack:C1", T0.date(), 2, T0),
    ]
    # A second record of one part (two workers racing) keeps the first and raises nothing.
    await store.record_sent("slack:C1", edition.id, 1, "1.0003", "1.0001", T0)
    assert (await store.sent_parts("slack:C1", edition.id))[1] == ("1.0002", "1.0001")


async def test_entries_with_nul_characters_are_stored_once_cleaned(store: Store) -> None:
    # PostgreSQL refuses NUL in text (raw, or a feed's "&#0;" once parsed): the whole feed
    # failed on every run before.
    dirty = Sighting(
        SourceLabel.feed("blog"), "https://blog.example/nul", "A\x00 title", summary="B\x00"
    )
    identified, _ = identify_all([dirty])
    assert await store.upsert_sightings(identified, T0) == UpsertCounts(new=1)
    item = await store.get_item("https://blog.example/nul")
    assert item is not None
    assert item.content.title == "A title"


async def test_two_composes_of_one_week_keep_the_first_edition(
    store: Store, database_url: str
) -> None:
    # Two instances (or two `digestbot compose`) finish the same week at once: one edition
    # stands, the other compose hears that it lost instead of silently replacing it.
    from bot.domain import Difficulty, EditionEntry, ItemSummary

    await store.upsert_sightings([paper(SourceLabel.HF)], T0)
    item = await store.get_item(PAPER_ID)
    assert item is not None
    takeaways = ("a.", "b.", "c.")
    summary = ItemSummary("Why. It matters.", Difficulty.ACCESSIBLE, takeaways, "m", "v", True)
    entries = [EditionEntry(1, item, summary)]
    other = await Store.open(database_url)
    try:
        saved = await asyncio.gather(
            store.save_new_edition(T0.date(), "First, One", "I.", True, entries, T0),
            other.save_new_edition(T0.date(), "Second, Two", "I.", True, entries, T0),
        )
    finally:
        await other.aclose()
    winners = [edition for edition in saved if edition is not None]
    assert len(winners) == 1
    stored = await store.edition(edition_date=T0.date())
    assert stored is not None
    assert stored.title == winners[0].title
