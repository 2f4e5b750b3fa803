"""LLM summaries through the real openai client against a fake OpenAI-compatible server.

Normal answers, slow answers, 429 and 500, invalid and schema-violating JSON, refusals,
planted fabrications for the faithfulness guard, the token budget, and a whole compose whose
second run costs no call.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from adapters.llm import REASONING_HEADROOM, OpenAiModel
from bot.domain import ItemSummary, SourceLabel
from bot.edition.compose import ComposeResult, compose_edition
from bot.edition.guard import unsupported_claims
from bot.edition.llm_rank import LlmRanker
from bot.edition.llm_summarize import (
    IntroAnswer,
    LlmEditor,
    LlmSummarizer,
    SummaryAnswer,
    sentence_count,
)
from bot.edition.model import TokenBudget
from bot.edition.profile import load_profile
from bot.edition.summarize import OfflineSummarizer
from storage.store import Store
from tests.builders import IN_WEEK, LEDGERLINE, MONDAY, item, seed_week
from tests.fakes.clock import FakeClock
from tests.fakes.model_answers import relevance_answer
from tests.fakes.openai_server import ChatAnswer, ChatRequest, FakeOpenAI

PROFILE = load_profile()
GOOD = {
    "why": "Ledgerline records every agent action through execution traces, audit logs and "
    "environment snapshots. That lets teams judge safety and robustness, not just final outputs.",
    "difficulty": "intermediate",
    "takeaways": [
        "Final-output benchmarks miss how agents reach their answers.",
        "Execution traces and audit logs make agent failures visible.",
        "Safety checks belong in every agent evaluation, across multiple trials.",
    ],
}
FABRICATED = {**GOOD, "why": f"{GOOD['why']} It beats GPT-7 by 93% on SWE-bench."}


@pytest.fixture
def script() -> list[ChatAnswer]:
    return []


@pytest.fixture
async def fake(script: list[ChatAnswer]) -> AsyncIterator[FakeOpenAI]:
    def respond(request: ChatRequest) -> ChatAnswer:
        return script.pop(0) if len(script) > 1 else script[0]

    async with FakeOpenAI(respond) as server:
        yield server


def model_for(fake: FakeOpenAI, **options: float) -> OpenAiModel:
    return OpenAiModel(
        api_key="sk-test",
        model="small-model",
        base_url=fake.base_url,
        timeout_s=options.get("timeout_s", 5.0),
        max_retries=int(options.get("max_retries", 2)),
    )


async def summarize_with(
    fake: FakeOpenAI, budget: int = 60_000, **options: float
) -> tuple[ItemSummary, TokenBudget]:
    tokens = TokenBudget(budget)
    async with model_for(fake, **options) as model:
        summary = await LlmSummarizer(model, OfflineSummarizer(PROFILE), tokens).summarize(
            item(LEDGERLINE)
        )
    return summary, tokens


async def test_a_normal_answer_becomes_the_summary(
    fake: FakeOpenAI, script: list[ChatAnswer]
) -> None:
    script.append(ChatAnswer.json(GOOD, prompt_tokens=700, completion_tokens=120))
    summary, tokens = await summarize_with(fake)
    assert summary.why == GOOD["why"]
    assert summary.takeaways == tuple(GOOD["takeaways"])
    assert (summary.offline, summary.model) == (False, "small-model")
    assert (tokens.calls, tokens.used) == (1, 820)
    request = fake.requests[0]
    assert request.response_format is not None
    assert request.response_format["type"] == "json_schema"
    assert request.response_format["json_schema"]["name"] == "item_summary"
    assert "<source>" in request.user
    assert "Ledgerline" in request.user
    assert request.headers["Authorization"] == "Bearer sk-test"


@pytest.mark.parametrize(
    ("first", "calls"),
    [
        (ChatAnswer(status=429, retry_after="0"), 2),
        (ChatAnswer(status=500), 2),
        (ChatAnswer(content="{not json"), 2),
        (ChatAnswer.json({**GOOD, "takeaways": GOOD["takeaways"][:2]}), 2),
    ],
    ids=["429-retried", "500-retried", "invalid-json-repaired", "schema-violation-repaired"],
)
async def test_transient_errors_and_bad_json_recover(
    fake: FakeOpenAI, script: list[ChatAnswer], first: ChatAnswer, calls: int
) -> None:
    script.extend([first, ChatAnswer.json(GOOD)])
    summary, _ = await summarize_with(fake)
    assert summary.offline is False
    assert len(fake.requests) == calls


@pytest.mark.parametrize(
    ("reply", "note"),
    [
        (ChatAnswer(content="still not json"), "invalid answer after one repair"),
        (ChatAnswer(refusal="I can't help with that."), "the model declined"),
        (ChatAnswer(status=500), "HTTP 500"),
        (ChatAnswer.json(GOOD, delay_s=2.0), "did not answer in time"),
    ],
    ids=["invalid-twice", "refusal", "500-forever", "slow"],
)
async def test_failures_fall_back_to_the_offline_summary_visibly(
    fake: FakeOpenAI, script: list[ChatAnswer], reply: ChatAnswer, note: str
) -> None:
    script.append(reply)
    summary, _ = await summarize_with(fake, timeout_s=0.5, max_retries=0)
    assert summary.offline is True
    assert summary.note.startswith("⚠ Offline summary")
    assert note in summary.note
    assert len(summary.takeaways) == 3


async def test_a_fabrication_is_regenerated_once(
    fake: FakeOpenAI, script: list[ChatAnswer]
) -> None:
    script.extend([ChatAnswer.json(FABRICATED), ChatAnswer.json(GOOD)])
    summary, _ = await summarize_with(fake)
    assert summary.why == GOOD["why"]
    assert "GPT-7" in fake.requests[1].user  # the model is told what it made up


async def test_a_persistent_fabrication_is_never_published(
    fake: FakeOpenAI, script: list[ChatAnswer]
) -> None:
    script.append(ChatAnswer.json(FABRICATED))
    summary, _ = await summarize_with(fake)
    assert summary.offline is True
    assert "unsupported claims" in summary.note
    assert "GPT-7" not in summary.why


def test_the_guard_sees_numbers_percentages_and_names() -> None:
    source = "Ledgerline has 300 tasks. It was built at Peking University with Qwen."
    assert unsupported_claims(["Ledgerline has 300 tasks from Peking University."], source) == []
    found = unsupported_claims(
        ["It scores 93% on SWE-bench, beating GPT-7 by 12 points at OpenAI."], source
    )
    assert {"93%", "SWE-bench", "GPT-7", "12", "OpenAI"} <= set(found)


async def test_a_spent_budget_hands_the_rest_to_the_offline_summarizer(
    fake: FakeOpenAI, script: list[ChatAnswer]
) -> None:
    script.append(ChatAnswer.json(GOOD, prompt_tokens=900, completion_tokens=200))
    tokens = TokenBudget(2_000)
    async with model_for(fake) as model:
        summarizer = LlmSummarizer(model, OfflineSummarizer(PROFILE), tokens)
        first = await summarizer.summarize(item(LEDGERLINE))
        second = await summarizer.summarize(item(LEDGERLINE, 2))
    assert first.offline is False
    assert second.offline is True
    assert "token budget" in second.note
    assert len(fake.requests) == 1


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite:///{tmp_path / 'llm.db'}")
    try:
        yield opened
    finally:
        await opened.aclose()


def edition_answer(request: ChatRequest) -> ChatAnswer:
    purpose = request.purpose
    if purpose == "relevance":
        return relevance_answer(request)
    if purpose == "edition_intro":
        intro = (
            "This week covers agents and their attack surface. The main thread is agent "
            "evaluation. Prompt injection gets attention too. Each item says why it matters."
        )
        return ChatAnswer.json(
            {"title": "Agents Get Audited, Security Gets Serious", "intro": intro}
        )
    return ChatAnswer.json(
        GOOD
        if "Ledgerline" in request.user
        else {
            **GOOD,
            "why": "Coding agents that read untrusted files can be steered by prompt "
            "injection. The fix that worked was to keep tool permissions narrow.",
        }
    )


async def compose_with(
    fake: FakeOpenAI, store: Store, clock: FakeClock
) -> tuple[ComposeResult, TokenBudget]:
    tokens = TokenBudget(60_000, input_usd_per_mtok=0.25, output_usd_per_mtok=2.0)
    async with model_for(fake) as model:
        result = await compose_edition(
            store,
            clock,
            LlmSummarizer(model, OfflineSummarizer(PROFILE), tokens),
            PROFILE,
            edition_date=MONDAY,
            force=True,
            editor=LlmEditor(model, tokens, store, clock),
            ranker=LlmRanker(model, tokens, store, clock, batch_size=2),
            budget=tokens,
        )
    return result, tokens


async def test_compose_with_the_model_then_again_for_free(store: Store) -> None:
    await seed_week(store, IN_WEEK)
    clock = FakeClock(datetime(2026, 4, 13, 6, tzinfo=UTC))
    async with FakeOpenAI(edition_answer) as fake:
        first, tokens = await compose_with(fake, store, clock)
        purposes = [r.purpose for r in fake.requests]
        # 4 candidates in batches of 2: 2 relevance calls; 4 summaries; 1 intro.
        assert sorted(purposes) == ["edition_intro"] + ["item_summary"] * 4 + ["relevance"] * 2
        spend = await store.llm_spend_since(IN_WEEK)
        assert (spend.calls, spend.tokens) == (7, tokens.used)
        assert spend.cost_usd > 0

        rebuilt, again = await compose_with(fake, store, clock)
        assert len(fake.requests) == 7  # the rebuild asked the model nothing
        assert again.calls == 0

    edition = rebuilt.edition
    assert edition is not None
    assert first.edition is not None
    assert edition.title == "Agents Get Audited, Security Gets Serious"
    assert not edition.offline
    assert edition.entries[0].reason.startswith("LLM fit 0.9")
    assert first.edition.id == edition.id


async def test_ranking_failures_keep_the_offline_fit(store: Store) -> None:
    await seed_week(store, IN_WEEK)
    clock = FakeClock(datetime(2026, 4, 13, 6, tzinfo=UTC))

    def broken_ranking(request: ChatRequest) -> ChatAnswer:
        if request.purpose == "relevance":
            return ChatAnswer(content="[]")
        return edition_answer(request)

    async with FakeOpenAI(broken_ranking) as fake:
        result, _ = await compose_with(fake, store, clock)
    edition = result.edition
    assert edition is not None
    assert len(edition.entries) == 4
    assert all(e.reason.startswith("fit ") for e in edition.entries)


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("Use tools, e.g. search, with GPT-3.5 and Llama 3.1 vs. others.", 1),
        ("One. Two! Three?", 3),
        ("A sentence about U.S. policy. And another one.", 2),
    ],
)
def test_sentences_are_counted_past_abbreviations_and_versions(text: str, count: int) -> None:
    assert sentence_count(text) == count


@pytest.mark.parametrize(
    ("thinking", "offline", "limits"),
    [(2_700, False, [700, 1_400]), (3_400, True, [700, 1_400])],
    ids=["more-room-suffices", "cut-off-twice"],
)
async def test_a_cut_off_summary_is_asked_again_with_more_room_not_repaired(
    thinking: int, offline: bool, limits: list[int]
) -> None:
    # A reasoning model that thinks longer than the headroom expects: the answer is cut.
    async with (
        FakeOpenAI(
            lambda request: ChatAnswer.json(GOOD), reasoning_tokens={"low": thinking}
        ) as fake,
        OpenAiModel(api_key="sk-test", model="gpt-5-mini", base_url=fake.base_url) as model,
    ):
        summary = await LlmSummarizer(
            model, OfflineSummarizer(PROFILE), TokenBudget(60_000)
        ).summarize(item(LEDGERLINE))
    headroom = REASONING_HEADROOM["low"]
    assert [r.limit for r in fake.requests] == [limit + headroom for limit in limits]
    assert not any("not valid" in r.user for r in fake.requests)
    assert summary.offline is offline
    if offline:
        assert "cut off" in summary.note


TWO = "Agent evaluation grows up this week, with traces and audit logs."


@pytest.mark.parametrize(
    ("title", "intro", "problem"),
    [
        ("Agents Get to Work, Security Gets Serious", f"{TWO} {TWO}", ""),
        ("Agents Get Audited, Models Get Faster", f"{TWO} {TWO} {TWO} {TWO}", ""),
        ("Agents, Evals, Security", f"{TWO} {TWO}", "two clauses"),
        ("Agents Finally Get Put to Work, Security", f"{TWO} {TWO}", "four words"),
        ("Agents Work, Security Matters", f"{TWO} {TWO} {TWO} {TWO} {TWO}", "2 to 4"),
    ],
    ids=["two-sentences", "four-sentences", "three-clauses", "long-clause", "five-sentences"],
)
def test_intros_are_two_to_four_sentences_under_two_short_clauses(
    title: str, intro: str, problem: str
) -> None:
    if not problem:
        IntroAnswer(title=title, intro=intro)
        return
    with pytest.raises(ValidationError, match=problem):
        IntroAnswer(title=title, intro=intro)


def test_a_summary_needs_exactly_three_takeaways() -> None:
    with pytest.raises(ValidationError, match="exactly 3 takeaways"):
        SummaryAnswer.model_validate({**GOOD, "takeaways": GOOD["takeaways"][:2]})


async def test_an_editors_note_reaches_the_model_as_guidance(
    fake: FakeOpenAI, script: list[ChatAnswer]
) -> None:
    script.append(ChatAnswer.json(GOOD))
    pick = replace(LEDGERLINE, source=SourceLabel.MANUAL, data={"note": "Agent evals done right"})
    async with model_for(fake) as model:
        await LlmSummarizer(model, OfflineSummarizer(PROFILE), TokenBudget(60_000)).summarize(
            item(pick)
        )
    assert "<editor_note>\nAgent evals done right\n</editor_note>" in fake.requests[0].user
