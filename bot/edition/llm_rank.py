"""Relevance by a language model: a shortlist of candidates, many per call, scores kept.

The model ranks only a shortlist (the offline scorer's best, 40 by default): the rest of a
300-candidate week keeps its offline fit, so ranking can never eat the summaries' budget; on
top, ranking may spend at most a share of the edition's budget (30% by default). Each
candidate is sent as its kind, date, category (arXiv primary category or feed), title and
the start of its text, 40 to a call, calls in parallel; the system prompt carries the
editorial profile's preferences. The output limit is sized to the batch; an answer cut off
at it is not repaired but asked again once as two half batches. Scores are kept by (content
hash, prompt version, model), so a rebuilt edition asks nothing again. Whatever the model
cannot score (budget or share spent, a failed call, a missing id) keeps the offline fit.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

import prompts
from bot.domain import Item, SourceLabel
from bot.edition.model import AnswerCutOff, JsonAsker, TokenBudget, estimate_tokens
from bot.edition.ports import AnswerCache
from bot.edition.profile import EditorialProfile, load_profile
from bot.ports import Clock, LanguageModel, LanguageModelError

PREVIEW_CHARS = 240
PURPOSE = "relevance"
TOKENS_PER_SCORE = 48
"""Room per candidate in a ranking answer: ``{"id": 39, "score": 7, "reason": ...}`` with a
reason of at most 20 words is 30 to 40 tokens; the rest is headroom."""
ANSWER_BASE_TOKENS = 64


class ItemScore(BaseModel):
    """The model's verdict on one candidate (the schema is its shape; validators check)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: int
    score: int
    reason: str

    @field_validator("score")
    @classmethod
    def _zero_to_ten(cls, score: int) -> int:
        if not 0 <= score <= 10:
            raise ValueError(f"score must be 0 to 10, not {score}")
        return score

    @field_validator("reason")
    @classmethod
    def _short(cls, reason: str) -> str:
        # A long reason is no reason to throw away (or re-ask) a whole batch: keep its start.
        return reason[:200]


class RelevanceAnswer(BaseModel):
    """The model's verdicts on a batch."""

    model_config = ConfigDict(extra="forbid")

    scores: list[ItemScore]


def answer_limit(batch_size: int) -> int:
    """Return the output tokens a ranking answer for ``batch_size`` candidates may use."""
    return ANSWER_BASE_TOKENS + TOKENS_PER_SCORE * batch_size


def category(item: Item) -> str:
    """Return an item's category: its arXiv primary category, else its feed, else its source."""
    primary = item.content.data.get("primary_category")
    if isinstance(primary, str) and primary:
        return primary
    feeds = [s for s in item.sources if s.startswith(SourceLabel.FEED_PREFIX)]
    if feeds:
        return feeds[0].removeprefix(SourceLabel.FEED_PREFIX)
    return item.sources[0] if item.sources else ""


def listing_entry(number: int, item: Item) -> dict[str, object]:
    """Return how one candidate is shown to the model."""
    content = item.content
    return {
        "id": number,
        "kind": content.kind.value,
        "date": (content.published_at or item.first_seen).date().isoformat(),
        "category": category(item),
        "title": content.title,
        "text": content.summary[:PREVIEW_CHARS],
    }


class LlmRanker:
    """Scores a shortlist of candidates' fit with the model, in batches, cached."""

    def __init__(
        self,
        model: LanguageModel,
        budget: TokenBudget,
        cache: AnswerCache,
        clock: Clock,
        *,
        profile: EditorialProfile | None = None,
        batch_size: int = 40,
        concurrency: int = 8,
        shortlist: int = 40,
        budget_share: float = 0.3,
    ) -> None:
        """Rank at most ``shortlist`` items, spending at most ``budget_share`` of ``budget``."""
        self._asker = JsonAsker(model, budget)
        self._budget = budget
        self._cache = cache
        self._clock = clock
        self._batch_size = max(1, batch_size)
        self._limit = asyncio.Semaphore(concurrency)
        self.shortlist = shortlist
        self._allowance = int(budget.limit * budget_share)
        self._in_flight = 0
        preferences = (profile or load_profile()).preferences
        self._system = prompts.load("rank_items").text.rstrip()
        if preferences:
            self._system += f"\n\nWhat the editors prefer:\n{preferences}"
        # The version covers the profile's words too: a new profile re-ranks.
        self._version = hashlib.sha256(self._system.encode("utf-8")).hexdigest()[:12]

    async def fit(self, items: Sequence[Item]) -> dict[int, tuple[float, str]]:
        """Return the model's fit (0 to 1) and reason for each item it could score.

        ``items`` come best first (by the offline scorer); only the first ``shortlist`` are
        ranked.
        """
        model = self._asker.model.model
        keys = {item.content.content_hash: item for item in items[: self.shortlist]}
        kept = await self._cache.llm_answers(list(keys), self._version, model)
        missing = [item for key, item in keys.items() if key not in kept]
        batches = [
            missing[start : start + self._batch_size]
            for start in range(0, len(missing), self._batch_size)
        ]
        fresh: dict[str, dict[str, Any]] = {}
        for answers in await asyncio.gather(*(self._score(batch) for batch in batches)):
            fresh.update(answers)
        if fresh:
            await self._cache.save_llm_answers(fresh, self._version, model, self._clock.now())
        fits: dict[int, tuple[float, str]] = {}
        for key, answer in {**kept, **fresh}.items():
            item = keys.get(key)
            if item is not None:
                fits[item.id] = (int(answer["score"]) / 10.0, str(answer["reason"]))
        return fits

    async def _score(self, batch: Sequence[Item], *, split: bool = True) -> dict[str, Any]:
        """Score one batch; a cut-off answer is asked again once, as two half batches."""
        listing = [listing_entry(n, item) for n, item in enumerate(batch)]
        user = f"<candidates>\n{json.dumps(listing, ensure_ascii=False)}\n</candidates>"
        limit = answer_limit(len(batch))
        estimate = estimate_tokens(self._system, user) + limit
        async with self._limit:
            # Reserved before the call, so that parallel batches cannot all pass the check.
            if not self._fits(estimate):
                return {}
            self._in_flight += estimate
            try:
                answer, _ = await self._asker.ask(
                    self._system, user, RelevanceAnswer, PURPOSE, limit
                )
            except AnswerCutOff:
                answer = None
                cut = True
            except LanguageModelError:
                return {}
            else:
                cut = False
            finally:
                self._in_flight -= estimate
        if cut:
            if not split or len(batch) < 2:
                return {}
            half = (len(batch) + 1) // 2
            first, second = await asyncio.gather(
                self._score(batch[:half], split=False), self._score(batch[half:], split=False)
            )
            return {**first, **second}
        if answer is None:
            return {}
        return {
            batch[score.id].content.content_hash: {"score": score.score, "reason": score.reason}
            for score in answer.scores
            if 0 <= score.id < len(batch)
        }

    def _fits(self, estimate: int) -> bool:
        spent = self._budget.spent_on(PURPOSE) + self._in_flight
        return self._budget.allows(estimate) and spent + estimate <= self._allowance
