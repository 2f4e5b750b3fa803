"""Benchmark: compose an edition from 300 candidates with a realistic fake LLM (1.5 s a call).

Run from the repository root: ``.venv/bin/python -m bench.compose [CORPUS_DIR]``. The
candidates are real feed entries (the 200-feed corpus, or the bundled sample feeds when it is
absent) in a temporary SQLite database. The model is gpt-5-mini as the fake OpenAI-compatible
server of tests/fakes plays it, reached by the real openai client: it enforces each call's
output limit, spends reasoning tokens inside it, refuses schemas outside the strict subset,
and answers every call after 1.5 s with JSON built from the request's own text (so the
faithfulness guard passes), at realistic lengths (ranking reasons of about 15 words).
Prints offline fallbacks, cut-off answers, tokens per edition (by purpose), wall time and
calls for a compose and for a rebuild, and what summarizing every candidate would cost.
Goals: 0 offline fallbacks; <= 30,000 tokens per edition; wall <= 6 s; rebuild 0 calls.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from adapters.llm import OpenAiModel
from adapters.sources.feeds import parse_feed
from adapters.sources.sample import sample_bytes
from bot.domain import Sighting
from bot.edition.compose import ComposeResult, compose_edition
from bot.edition.guard import source_text
from bot.edition.llm_rank import LlmRanker
from bot.edition.llm_summarize import LlmEditor, LlmSummarizer, sentence_count
from bot.edition.model import TokenBudget
from bot.edition.profile import load_profile
from bot.edition.summarize import OfflineSummarizer, readable_sentences
from bot.ingest.ingester import identify_all
from storage.store import Store
from tests.fakes.clock import FakeClock
from tests.fakes.model_answers import candidates as candidates_of
from tests.fakes.openai_server import ChatAnswer, ChatRequest, FakeOpenAI

CANDIDATES = 300
LATENCY_S = 1.5
MONDAY = date(2026, 4, 13)
IN_WEEK = datetime(2026, 4, 9, tzinfo=UTC)
DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared/fixtures/real/feeds/corpus"
FILLER = "this matters for teams that build with language models."
MODEL = "gpt-5-mini"
BUDGET = 60_000
REASON = "A practical result for engineers who ship language model features, worth a look."


def candidates(corpus: Path) -> list[Sighting]:
    """Return 300 real feed entries with text (from the corpus, else the bundled feeds)."""
    found: list[Sighting] = []
    sources = sorted(corpus.iterdir()) if corpus.is_dir() else []
    blobs = [(p.name, p.read_bytes()) for p in sources] or [
        (name, sample_bytes(name))
        for name in (
            "willison_atom.xml",
            "openai_news_rss.xml",
            "substack_interconnects_ai_rss.xml",
        )
    ]
    for name, blob in blobs:
        try:
            parsed = parse_feed(blob, name=f"f{len(found)}", url=f"https://corpus.test/{name}")
        except Exception:  # noqa: S112 - a refused file is simply not a candidate
            continue
        # Dated in the edition's week: an edition covers its week's source dates, and the
        # corpus spans years.
        found.extend(
            replace(s, published_at=IN_WEEK) for s in parsed.sightings if len(s.summary) > 200
        )
        if len(found) >= CANDIDATES:
            break
    return found[:CANDIDATES]


def fake_answer(request: ChatRequest) -> ChatAnswer:
    """Answer like a careful model: only with words taken from the request."""
    purpose = request.purpose
    delay = {"delay_s": LATENCY_S}
    if purpose == "relevance":
        scores = [
            {"id": c["id"], "score": len(str(c["title"])) % 11, "reason": REASON}
            for c in candidates_of(request)
        ]
        return ChatAnswer.json({"scores": scores}, **delay)
    if purpose == "edition_intro":
        intro = f"{FILLER.capitalize()} " * 3
        return ChatAnswer.json(
            {"title": "Agents Get to Work, Security Gets Serious", "intro": intro.strip()}, **delay
        )
    body = request.user.split("<source>", 1)[-1].split("</source>", 1)[0]
    # As a careful model follows the prompt: each takeaway is one sentence (a source sentence
    # that reads as two, "... people. your phone ...", is not used as one).
    sentences = [
        s for s in readable_sentences(body) if len(s) <= 280 and sentence_count(s) == 1
    ] + [FILLER.capitalize()] * 5
    why = " ".join(sentences[:2])
    why = why if len(why) >= 80 else f"{why} {FILLER.capitalize()}"
    return ChatAnswer.json(
        {"why": why[:880], "difficulty": "intermediate", "takeaways": sentences[2:5]}, **delay
    )


async def compose_once(
    store: Store, fake: FakeOpenAI, clock: FakeClock
) -> tuple[ComposeResult, TokenBudget, float]:
    """Compose (or rebuild) the edition with the fake model; return it and the wall time."""
    profile = load_profile()
    budget = TokenBudget(BUDGET)
    started = time.perf_counter()
    async with OpenAiModel(
        api_key="sk-bench", model=MODEL, base_url=fake.base_url, reasoning_effort="low"
    ) as model:
        result = await compose_edition(
            store,
            clock,
            LlmSummarizer(model, OfflineSummarizer(profile), budget),
            profile,
            edition_date=MONDAY,
            force=True,
            editor=LlmEditor(model, budget, store, clock),
            ranker=LlmRanker(model, budget, store, clock, profile=profile, concurrency=16),
            budget=budget,
            concurrency=16,
        )
    return result, budget, time.perf_counter() - started


async def main(corpus: Path) -> None:
    """Print the figures."""
    sightings = candidates(corpus)
    clock = FakeClock(datetime(2026, 4, 13, 6, tzinfo=UTC))
    with tempfile.TemporaryDirectory() as folder:
        store = await Store.open(f"sqlite:///{folder}/bench.db")
        try:
            identified, _ = identify_all(sightings)
            await store.upsert_sightings(identified, datetime(2026, 4, 9, tzinfo=UTC))
            pool = await store.items_first_seen_between(
                datetime(2026, 4, 6, tzinfo=UTC), datetime(2026, 4, 13, tzinfo=UTC) + timedelta(0)
            )
            async with FakeOpenAI(fake_answer) as fake:
                first, spent, first_wall = await compose_once(store, fake, clock)
                calls_after_first = len(fake.requests)
                rebuilt, _, rebuild_wall = await compose_once(store, fake, clock)
                rebuild_calls = len(fake.requests) - calls_after_first
            system = len((Path(__file__).parents[1] / "prompts/summarize_item.md").read_text())
            everything = sum((system + len(source_text(item)) + 40) // 4 + 150 for item in pool)
        finally:
            await store.aclose()
    cut_off = sum(1 for _, completion in spent.records if completion.cut_off)
    reasoning = sum(completion.reasoning_tokens for _, completion in spent.records)
    ranked = sum(len(candidates_of(r)) for r in fake.requests if r.purpose == "relevance")
    print(
        f"candidates          : {len(pool)} (real feed entries), fake {MODEL}, {LATENCY_S} s a call"
    )
    print(
        f"compose             : {first_wall:5.2f} s wall (goal <= 6 s), {first.llm_calls} LLM "
        f"calls, {cut_off} cut off, {first.offline_fallbacks} offline fallbacks (goal 0)"
    )
    by_purpose = ", ".join(f"{name} {tokens}" for name, tokens in sorted(spent.by_purpose.items()))
    print(
        f"tokens per edition  : {first.llm_tokens} (goal <= 30000; budget {BUDGET}): "
        f"{by_purpose}; {reasoning} of them reasoning"
    )
    share = spent.spent_on("relevance") / BUDGET
    print(f"ranking             : {ranked} candidates shortlisted, {share:.0%} of the budget")
    print(f"rebuild             : {rebuild_wall:5.2f} s wall, {rebuild_calls} LLM calls (goal 0)")
    saving = everything / max(1, first.llm_tokens)
    print(f"summarize everything: ~{everything} tokens; ours is {saving:.1f}x fewer")
    assert rebuilt.edition is not None


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CORPUS))
