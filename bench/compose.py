"""Benchmark: compose an edition from 300 candidates with a fake LLM answering in 1.5 s.

Run from the repository root: ``.venv/bin/python -m bench.compose [CORPUS_DIR]``. The
candidates are real feed entries (the 200-feed corpus, or the bundled sample feeds when it is
absent) in a temporary SQLite database. The model is the fake OpenAI-compatible server of
tests/fakes, reached by the real openai client; it answers every call after 1.5 s with JSON
built from the request's own text (so the faithfulness guard passes). Prints wall time, calls
and tokens for a compose and for a rebuild, and what summarizing every candidate would cost.
Goals: wall <= 6 s; rebuild 0 calls; <= 60k tokens; >= 5x fewer than summarizing everything.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from adapters.llm import OpenAiModel
from adapters.sources.feeds import parse_feed
from adapters.sources.sample import sample_bytes
from bot.domain import Sighting
from bot.edition.compose import ComposeResult, compose_edition
from bot.edition.guard import source_text
from bot.edition.llm_rank import LlmRanker
from bot.edition.llm_summarize import LlmEditor, LlmSummarizer
from bot.edition.model import TokenBudget
from bot.edition.profile import load_profile
from bot.edition.summarize import OfflineSummarizer, readable_sentences
from bot.ingest.ingester import identify_all
from storage.store import Store
from tests.fakes.clock import FakeClock
from tests.fakes.openai_server import ChatAnswer, ChatRequest, FakeOpenAI

CANDIDATES = 300
LATENCY_S = 1.5
MONDAY = date(2026, 4, 13)
DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared/fixtures/real/feeds/corpus"
FILLER = "this matters for teams that build with language models."


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
        found.extend(s for s in parsed.sightings if len(s.summary) > 200)
        if len(found) >= CANDIDATES:
            break
    return found[:CANDIDATES]


def fake_answer(request: ChatRequest) -> ChatAnswer:
    """Answer like a careful model: only with words taken from the request."""
    purpose = request.purpose
    delay = {"delay_s": LATENCY_S}
    if purpose == "relevance":
        listing = json.loads(request.user.split("\n", 1)[1].rsplit("\n", 1)[0])
        scores = [{"id": c["id"], "score": len(c["title"]) % 11, "reason": "fit"} for c in listing]
        return ChatAnswer.json({"scores": scores}, **delay)
    if purpose == "edition_intro":
        intro = f"{FILLER.capitalize()} " * 3
        return ChatAnswer.json(
            {"title": "Agents Get to Work, Security Gets Serious", "intro": intro.strip()}, **delay
        )
    body = request.user.split("<source>", 1)[-1].split("</source>", 1)[0]
    sentences = [s for s in readable_sentences(body) if len(s) <= 280] + [FILLER.capitalize()] * 5
    why = " ".join(sentences[:2])
    why = why if len(why) >= 80 else f"{why} {FILLER.capitalize()}"
    return ChatAnswer.json(
        {"why": why[:880], "difficulty": "intermediate", "takeaways": sentences[2:5]}, **delay
    )


async def compose_once(
    store: Store, fake: FakeOpenAI, clock: FakeClock
) -> tuple[ComposeResult, float]:
    """Compose (or rebuild) the edition with the fake model; return it and the wall time."""
    profile = load_profile()
    budget = TokenBudget(60_000)
    started = time.perf_counter()
    async with OpenAiModel(
        api_key="sk-bench", model="bench-model", base_url=fake.base_url
    ) as model:
        result = await compose_edition(
            store,
            clock,
            LlmSummarizer(model, OfflineSummarizer(profile), budget),
            profile,
            edition_date=MONDAY,
            force=True,
            editor=LlmEditor(model, budget, store, clock),
            ranker=LlmRanker(model, budget, store, clock, concurrency=16),
            budget=budget,
            concurrency=16,
        )
    return result, time.perf_counter() - started


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
                first, first_wall = await compose_once(store, fake, clock)
                calls_after_first = len(fake.requests)
                rebuilt, rebuild_wall = await compose_once(store, fake, clock)
                rebuild_calls = len(fake.requests) - calls_after_first
            system = len((Path(__file__).parents[1] / "prompts/summarize_item.md").read_text())
            everything = sum((system + len(source_text(item)) + 40) // 4 + 150 for item in pool)
        finally:
            await store.aclose()
    print(f"candidates          : {len(pool)} (real feed entries), fake LLM latency {LATENCY_S} s")
    print(
        f"compose             : {first_wall:5.2f} s wall (goal <= 6 s), "
        f"{first.llm_calls} LLM calls, {first.llm_tokens} tokens (goal <= 60000), "
        f"{first.offline_fallbacks} offline fallbacks"
    )
    print(f"rebuild             : {rebuild_wall:5.2f} s wall, {rebuild_calls} LLM calls (goal 0)")
    saving = everything / max(1, first.llm_tokens)
    print(f"summarize everything: ~{everything} tokens; ours is {saving:.1f}x fewer (goal >= 5x)")
    assert rebuilt.edition is not None


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CORPUS))
