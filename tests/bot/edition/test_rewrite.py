"""Rewriting one featured item's summary: the note reaches the model, the old text is kept."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.llm import OpenAiModel
from bot.domain import JobState
from bot.edition.llm_summarize import LlmSummarizer
from bot.edition.model import TokenBudget
from bot.edition.profile import load_profile
from bot.edition.rewrite import RewriteError, item_key, rewrite_item
from bot.edition.summarize import OfflineSummarizer
from storage.store import Store
from tests.builders import PAPER_ID, an_edition
from tests.fakes.clock import FakeClock
from tests.fakes.openai_server import ChatAnswer, FakeOpenAI

CLOCK = FakeClock(datetime(2026, 4, 20, 9, tzinfo=UTC))
OFFLINE = OfflineSummarizer(load_profile())
ANSWER = {
    "why": "Ledgerline records every agent action through execution traces and audit logs. "
    "That lets teams judge safety, not just final outputs.",
    "difficulty": "advanced",
    "takeaways": [
        "Final-output benchmarks miss how agents reach their answers.",
        "Execution traces and audit logs make agent failures visible.",
        "Safety checks belong in every agent evaluation.",
    ],
}


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite:///{tmp_path / 'rewrite.db'}")
    try:
        yield opened
    finally:
        await opened.aclose()


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("2604.31415", PAPER_ID),
        ("arXiv:2604.31415v2", PAPER_ID),
        ("arxiv:2604.31415", PAPER_ID),
        ("https://huggingface.co/papers/2604.31415", PAPER_ID),
        ("https://a.example/posts/1?utm_source=x#top", "https://a.example/posts/1"),
        ("not an id", None),
        ("", None),
    ],
)
def test_an_item_is_named_by_arxiv_id_link_or_canonical_id(text: str, key: str | None) -> None:
    assert item_key(text) == key


async def test_the_note_reaches_the_model_and_the_old_summary_is_kept(store: Store) -> None:
    edition = await an_edition(store)
    old = next(e for e in edition.entries if e.item.content.canonical_id == PAPER_ID)
    async with (
        FakeOpenAI(lambda request: ChatAnswer.json(ANSWER)) as fake,
        OpenAiModel(api_key="sk-test", model="small-model", base_url=fake.base_url) as model,
    ):
        summarizer = LlmSummarizer(model, OFFLINE, TokenBudget(60_000))
        outcome = await rewrite_item(
            "2604.31415", "Stress the  safety\nangle", "U0ED", store, summarizer, CLOCK
        )
    (request,) = fake.requests
    assert "<editor_note>\nStress the safety angle\n</editor_note>" in request.user
    assert outcome.version == 1
    assert outcome.destinations == ()  # never delivered: nothing to edit
    stored = await store.edition(edition_id=edition.id)
    assert stored is not None
    entry = next(e for e in stored.entries if e.position == old.position)
    assert entry.summary.why == ANSWER["why"]
    assert entry.updated_at == CLOCK.now()
    (revision,) = await store.summary_history(edition.id, old.position)
    assert (revision.by, revision.note, revision.old) == (
        "U0ED",
        "Stress the safety angle",
        old.summary,
    )


async def test_offline_a_rewrite_re_derives_the_summary_and_enqueues_edits(store: Store) -> None:
    edition = await an_edition(store)
    await store.record_sent("slack:C1", edition.id, 1, "1.1", "1.0", CLOCK.now())
    url = edition.entries[0].item.content.url
    outcome = await rewrite_item(url, "ignored offline", "cli", store, OFFLINE, CLOCK)
    assert outcome.featured.entry.position == 1
    assert outcome.summary.offline
    assert outcome.destinations == ("slack:C1",)
    (job,) = await store.edit_jobs([JobState.PENDING])
    assert (job.destination, job.part, job.version) == ("slack:C1", 1, 1)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("2603.09999", "arxiv:2603.09999 is in no edition"),
        ("hello world", "is not an arXiv id, a link or a canonical id"),
        ("  ", "name the item"),
    ],
)
async def test_an_unknown_item_is_one_clear_line(store: Store, text: str, says: str) -> None:
    await an_edition(store)
    with pytest.raises(RewriteError) as refused:
        await rewrite_item(text, "", "cli", store, OFFLINE, CLOCK)
    assert says in str(refused.value)
    assert "\n" not in str(refused.value)
