"""Relevance by a language model: many candidates per call, scores and reasons kept.

Each candidate is sent as its title and the start of its text, 40 to a call, calls in
parallel. Scores are kept by (content hash, prompt version, model), so a rebuilt edition asks
nothing again. Whatever the model cannot score (budget spent, a failed call, a missing id)
keeps the offline fit to the profile.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

import prompts
from bot.domain import Item
from bot.edition.model import JsonAsker, TokenBudget
from bot.edition.ports import AnswerCache
from bot.ports import Clock, LanguageModel, LanguageModelError

PREVIEW_CHARS = 300


class ItemScore(BaseModel):
    """The model's verdict on one candidate."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: int
    score: int = Field(ge=0, le=10)
    reason: str = Field(max_length=200)


class RelevanceAnswer(BaseModel):
    """The model's verdicts on a batch."""

    model_config = ConfigDict(extra="forbid")

    scores: list[ItemScore]


class LlmRanker:
    """Scores candidates' fit with the model, in batches, cached."""

    def __init__(
        self,
        model: LanguageModel,
        budget: TokenBudget,
        cache: AnswerCache,
        clock: Clock,
        *,
        batch_size: int = 40,
        concurrency: int = 8,
    ) -> None:
        self._asker = JsonAsker(model, budget)
        self._budget = budget
        self._cache = cache
        self._clock = clock
        self._batch_size = batch_size
        self._limit = asyncio.Semaphore(concurrency)
        self._prompt = prompts.load("rank_items")

    async def fit(self, items: Sequence[Item]) -> dict[int, tuple[float, str]]:
        """Return the model's fit (0 to 1) and reason for each item it could score."""
        model = self._asker.model.model
        keys = {item.content.content_hash: item for item in items}
        kept = await self._cache.llm_answers(list(keys), self._prompt.version, model)
        missing = [item for key, item in keys.items() if key not in kept]
        batches = [
            missing[start : start + self._batch_size]
            for start in range(0, len(missing), self._batch_size)
        ]
        fresh: dict[str, dict[str, Any]] = {}
        for answers in await asyncio.gather(*(self._score(batch) for batch in batches)):
            fresh.update(answers)
        if fresh:
            await self._cache.save_llm_answers(
                fresh, self._prompt.version, model, self._clock.now()
            )
        fits: dict[int, tuple[float, str]] = {}
        for key, answer in {**kept, **fresh}.items():
            item = keys.get(key)
            if item is not None:
                fits[item.id] = (int(answer["score"]) / 10.0, str(answer["reason"]))
        return fits

    async def _score(self, batch: Sequence[Item]) -> dict[str, dict[str, Any]]:
        async with self._limit:
            if self._budget.exhausted:
                return {}
            listing = [
                {"id": n, "title": item.content.title, "text": item.content.summary[:PREVIEW_CHARS]}
                for n, item in enumerate(batch)
            ]
            user = f"<candidates>\n{json.dumps(listing, ensure_ascii=False)}\n</candidates>"
            try:
                answer, _ = await self._asker.ask(
                    self._prompt.text, user, RelevanceAnswer, "relevance"
                )
            except LanguageModelError:
                return {}
        if answer is None:
            return {}
        return {
            batch[score.id].content.content_hash: {"score": score.score, "reason": score.reason}
            for score in answer.scores
            if 0 <= score.id < len(batch)
        }
