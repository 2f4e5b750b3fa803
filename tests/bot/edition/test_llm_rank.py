"""Ranking by the model against the realistic fake: limits, cut-offs, shortlist, budget share.

The model is gpt-5-mini (a reasoning model to the fake), so reasoning tokens count against
every limit as they do on OpenAI.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.llm import OpenAiModel
from bot.domain import Item, ItemKind, Sighting, SourceLabel
from bot.edition.compose import compose_edition
from bot.edition.llm_rank import LlmRanker
from bot.edition.llm_summarize import LlmEditor, LlmSummarizer
from bot.edition.model import TokenBudget
from bot.edition.profile import load_profile
from bot.edition.summarize import OfflineSummarizer
from bot.ingest.ingester import identify
from storage.store import Store
from tests.builders import IN_WEEK, MONDAY, item, post
from tests.fakes.clock import FakeClock
from tests.fakes.model_answers import REASONS, candidates, demo_answer, relevance_answer
from tests.fakes.openai_server import ChatAnswer, ChatRequest, FakeOpenAI

PROFILE = load_profile()
MODEL = "gpt-5-mini"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite:///{tmp_path / 'rank.db'}")
    try:
        yield opened
    finally:
        await opened.aclose()


def week(n: int) -> list[Item]:
    """Return ``n`` distinct posts from ten feeds, every other one about agents."""
    return [
        item(post(i, f"feed{i % 10}", "Agents at work" if i % 2 else "A quiet week"), i)
        for i in range(1, n + 1)
    ]


async def rank(
    fake: FakeOpenAI, store: Store, items: list[Item], budget: TokenBudget, **options: int
) -> dict[int, tuple[float, str]]:
    async with OpenAiModel(
        api_key="sk-test", model=MODEL, base_url=fake.base_url, max_retries=0
    ) as model:
        ranker = LlmRanker(model, budget, store, FakeClock(), profile=PROFILE, **options)
        return await ranker.fit(items)


def sizes(fake: FakeOpenAI) -> list[int]:
    return [len(candidates(r)) for r in fake.requests if r.purpose == "relevance"]


async def test_forty_candidates_are_ranked_in_one_call_within_its_limit(store: Store) -> None:
    budget = TokenBudget(60_000)
    async with FakeOpenAI(relevance_answer) as fake:
        fits = await rank(fake, store, week(40), budget)
    assert len(fits) == 40
    assert sizes(fake) == [40]
    assert budget.records[0][1].cut_off is False
    assert fits[1] == (0.9, REASONS[0])


async def test_the_listing_carries_kind_date_category_and_the_profiles_preferences(
    store: Store,
) -> None:
    paper = Sighting(
        source=SourceLabel.ARXIV,
        url="https://arxiv.org/abs/2604.00001",
        title="Agents that plan",
        summary="We study planning agents.",
        published_at=IN_WEEK,
        arxiv_id="2604.00001",
        data={"primary_category": "cs.CL"},
    )
    async with FakeOpenAI(relevance_answer) as fake:
        await rank(fake, store, [item(paper, 1), item(post(2, "willison"), 2)], TokenBudget(60_000))
    [request] = fake.requests
    listed = candidates(request)
    assert [(c["kind"], c["date"], c["category"]) for c in listed] == [
        (ItemKind.PAPER.value, "2026-04-08", "cs.CL"),
        (ItemKind.POST.value, "2026-04-08", "willison"),
    ]
    assert "Prefer work with a practical lesson" in request.system
    assert "rank low" in request.system


def verbose(request: ChatRequest) -> ChatAnswer:
    """Answer with reasons of 400 characters (20 words were asked for).

    Forty such scores (about 4,500 tokens) overflow the batch's limit with its reasoning
    headroom; twenty fit.
    """
    reason = " ".join(["A long and careful reason that explains the score in more words."] * 6)
    scores = [{"id": c["id"], "score": 7, "reason": reason} for c in candidates(request)]
    return ChatAnswer.json({"scores": scores})


async def test_a_cut_off_ranking_is_asked_again_as_two_halves_not_repaired(store: Store) -> None:
    budget = TokenBudget(60_000)
    async with FakeOpenAI(verbose) as fake:
        fits = await rank(fake, store, week(40), budget)
    assert sizes(fake) == [40, 20, 20]
    assert [completion.cut_off for _, completion in budget.records] == [True, False, False]
    assert not any("not valid" in r.user for r in fake.requests)
    assert len(fits) == 40


async def test_halves_cut_off_again_keep_the_offline_fit(store: Store) -> None:
    def always_long(request: ChatRequest) -> ChatAnswer:
        scores = [{"id": c["id"], "score": 7, "reason": "x" * 900} for c in candidates(request)]
        return ChatAnswer.json({"scores": scores})

    async with FakeOpenAI(always_long) as fake:
        fits = await rank(fake, store, week(40), TokenBudget(60_000))
    assert sizes(fake) == [40, 20, 20]  # split once, never again
    assert fits == {}


async def test_ranking_never_spends_more_than_its_share_even_unbounded(store: Store) -> None:
    budget = TokenBudget(20_000)
    async with FakeOpenAI(relevance_answer) as fake:
        fits = await rank(fake, store, week(300), budget, shortlist=300)
    assert 0 < budget.spent_on("relevance") <= 0.3 * 20_000
    assert 0 < len(fits) < 300  # what did not fit keeps the offline fit


async def test_a_300_candidate_week_ranks_a_shortlist_and_leaves_the_summaries_their_budget(
    store: Store,
) -> None:
    sightings = [identify(post(i, f"feed{i % 25}", "Agents at work")) for i in range(300)]
    await store.upsert_sightings(sightings, IN_WEEK)
    clock = FakeClock(datetime(2026, 4, 13, 6, tzinfo=UTC))
    budget = TokenBudget(60_000)
    async with (
        FakeOpenAI(demo_answer) as fake,
        OpenAiModel(api_key="sk-test", model=MODEL, base_url=fake.base_url) as model,
    ):
        result = await compose_edition(
            store,
            clock,
            LlmSummarizer(model, OfflineSummarizer(PROFILE), budget),
            PROFILE,
            edition_date=MONDAY,
            editor=LlmEditor(model, budget, store, clock),
            ranker=LlmRanker(model, budget, store, clock, profile=PROFILE),
            budget=budget,
        )
    assert result.candidates == 300
    assert sum(sizes(fake)) == 40  # the offline scorer's shortlist, not the whole week
    assert budget.spent_on("relevance") <= 0.3 * budget.limit
    assert result.offline_fallbacks == 0
    assert result.edition is not None
    assert not result.edition.offline
    assert all(not completion.cut_off for _, completion in budget.records)
