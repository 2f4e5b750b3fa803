"""Summaries and edition intros written by a language model, validated and guarded.

Every answer is JSON checked against a pydantic model (sentence counts, lengths, exactly three
takeaways). The schema sent to the model carries only the shape (OpenAI's strict mode refuses
length and count keywords); the validators below check the rest after parsing. An invalid
answer gets one repair attempt; an answer cut off at its output limit is asked again once
with twice the room instead. A summary that states a number or a
name the source does not contain is regenerated once, then replaced by the offline summary
with a visible note: nothing unfaithful is published silently. A per-edition token budget,
once spent, hands the rest of the edition to the offline summarizer, and says so.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

import prompts
from bot.domain import Difficulty, Item, ItemSummary
from bot.edition.guard import source_text, unsupported_claims
from bot.edition.model import JsonAsker, TokenBudget, estimate_tokens
from bot.edition.ports import AnswerCache
from bot.edition.summarize import OfflineSummarizer
from bot.ports import Clock, LanguageModel, LanguageModelError

_SENTENCE_END = re.compile(r"[.!?](?:[\"'”’)\]]*)(?:\s+|$)")


_ABBREVIATION = re.compile(
    r"\b(?:e\.g|i\.e|etc|vs|cf|al|approx|Dr|Mr|Ms|Prof|Fig|No|U\.S|St)\.", re.IGNORECASE
)
_DECIMAL_OR_VERSION = re.compile(r"(?<=\w)\.(?=\w)")


def sentence_count(text: str) -> int:
    """Count sentences by their ends, not counting abbreviations ("e.g.") or "3.5"."""
    plain = _DECIMAL_OR_VERSION.sub("", _ABBREVIATION.sub("", text.strip()))
    return len(_SENTENCE_END.findall(plain))


SUMMARY_TOKENS = 700
"""Room for one summary: "why" (at most 900 characters) and three takeaways (300 each) are
about 500 tokens at their longest, a typical answer 250."""

INTRO_TOKENS = 500
"""Room for a title (90 characters) and an intro (900): about 260 tokens at their longest."""


def _length(text: str, shortest: int, longest: int, what: str) -> str:
    if not shortest <= len(text) <= longest:
        raise ValueError(f"{what} must be {shortest} to {longest} characters, not {len(text)}")
    return text


NOTE_CHARS = 500
"""How much of an editor's note reaches the model (notes are a line or two)."""


class SummaryAnswer(BaseModel):
    """What the model must answer for one item (the schema is only its shape)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    why: str
    difficulty: Literal["accessible", "intermediate", "advanced"]
    takeaways: list[str]

    @field_validator("why")
    @classmethod
    def _two_to_four_sentences(cls, why: str) -> str:
        _length(why, 80, 900, "why")
        if not 2 <= sentence_count(why) <= 4:
            raise ValueError("why must be 2 to 4 sentences")
        return why

    @field_validator("takeaways")
    @classmethod
    def _three_of_one_sentence(cls, takeaways: list[str]) -> list[str]:
        if len(takeaways) != 3:
            raise ValueError(f"there must be exactly 3 takeaways, not {len(takeaways)}")
        for takeaway in takeaways:
            if not 15 <= len(takeaway) <= 300 or sentence_count(takeaway) != 1:
                raise ValueError("each takeaway must be one sentence of 15 to 300 characters")
        return takeaways


class IntroAnswer(BaseModel):
    """What the model must answer for an edition's title and intro (the schema is the shape)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str
    intro: str

    @field_validator("title")
    @classmethod
    def _two_short_clauses(cls, title: str) -> str:
        _length(title, 10, 90, "title")
        clauses = title.split(",")
        if len(clauses) != 2 or not all(1 <= len(c.split()) <= 4 for c in clauses):
            raise ValueError("title must be two clauses of at most four words joined by one comma")
        return title

    @field_validator("intro")
    @classmethod
    def _two_to_four_sentences(cls, intro: str) -> str:
        _length(intro, 80, 900, "intro")
        if not 2 <= sentence_count(intro) <= 4:
            raise ValueError("intro must be 2 to 4 sentences")
        return intro


class LlmSummarizer:
    """Summaries by a language model, with the offline summarizer as the safety net."""

    def __init__(
        self, model: LanguageModel, fallback: OfflineSummarizer, budget: TokenBudget
    ) -> None:
        self._asker = JsonAsker(model, budget)
        self._fallback = fallback
        self._budget = budget
        self._prompt = prompts.load("summarize_item")

    @property
    def model(self) -> str:
        """The model summaries are cached under."""
        return self._asker.model.model

    @property
    def prompt_version(self) -> str:
        """The summary prompt's version."""
        return self._prompt.version

    async def _offline(self, item: Item, note: str) -> ItemSummary:
        return replace(await self._fallback.summarize(item), note=note)

    async def _ask(self, user: str) -> tuple[SummaryAnswer | None, str]:
        return await self._asker.ask_with_room(
            self._prompt.text, user, SummaryAnswer, "item_summary", SUMMARY_TOKENS
        )

    async def summarize(self, item: Item, note: str = "") -> ItemSummary:
        """Return a validated, faithful summary, or the offline one with a note saying why.

        ``note`` is an editor's guidance for a rewrite; it goes to the model like an editor's
        pick note (and in its place when both exist: the rewrite's is the newer word).
        """
        source = source_text(item)
        user = f"Kind: {item.content.kind.value}\n<source>\n{source}\n</source>"
        pick_note = item.content.data.get("note")
        guidance = note.strip() or (pick_note.strip() if isinstance(pick_note, str) else "")
        if guidance:
            # The note guides the angle; facts still come from the source (and the guard
            # checks them against the source only, never against the note).
            user += f"\n<editor_note>\n{guidance[:NOTE_CHARS]}\n</editor_note>"
        if not self._budget.allows(estimate_tokens(self._prompt.text, user) + SUMMARY_TOKENS):
            return await self._offline(
                item, "The LLM token budget for this edition was spent; summarized offline."
            )
        try:
            answer, problem = await self._ask(user)
            if answer is not None:
                unsupported = unsupported_claims([answer.why, *answer.takeaways], source)
                if unsupported:
                    retry = (
                        f"{user}\n\nYour previous summary stated things the source does not "
                        f"contain: {', '.join(unsupported[:8])}. "
                        "Write it again using only the source."
                    )
                    answer, problem = await self._ask(retry)
                    if answer is not None and unsupported_claims(
                        [answer.why, *answer.takeaways], source
                    ):
                        answer, problem = None, f"unsupported claims ({', '.join(unsupported[:4])})"
        except LanguageModelError as exc:
            answer, problem = None, exc.reason
        if answer is None:
            return await self._offline(
                item, f"⚠ Offline summary: the LLM summary was not used ({problem})."
            )
        return ItemSummary(
            why=answer.why,
            difficulty=Difficulty(answer.difficulty),
            takeaways=tuple(answer.takeaways),
            model=self.model,
            prompt_version=self.prompt_version,
            offline=False,
        )


class LlmEditor:
    """Writes an edition's title and intro from its items' summaries (kept, when cached)."""

    def __init__(
        self,
        model: LanguageModel,
        budget: TokenBudget,
        cache: AnswerCache | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._asker = JsonAsker(model, budget)
        self._budget = budget
        self._cache = cache
        self._clock = clock
        self._prompt = prompts.load("edition_intro")

    async def title_and_intro(self, items: Sequence[tuple[str, str]]) -> tuple[str, str] | None:
        """Return (title, intro) for items given as (title, why), or ``None`` to go offline."""
        listing = json.dumps([{"title": t, "why": w} for t, w in items], ensure_ascii=False)
        key = "intro:" + hashlib.sha256(listing.encode("utf-8")).hexdigest()[:40]
        model = self._asker.model.model
        if self._cache is not None:
            kept = await self._cache.llm_answers([key], self._prompt.version, model)
            if key in kept:
                return str(kept[key]["title"]), str(kept[key]["intro"])
        user = f"<items>\n{listing}\n</items>"
        if not self._budget.allows(estimate_tokens(self._prompt.text, user) + INTRO_TOKENS):
            return None
        try:
            answer, _ = await self._asker.ask_with_room(
                self._prompt.text, user, IntroAnswer, "edition_intro", INTRO_TOKENS
            )
        except LanguageModelError:
            return None
        # The title is in title case by design, so only the intro is checked for names.
        if answer is None or unsupported_claims([answer.intro], listing):
            return None
        if self._cache is not None and self._clock is not None:
            written = {"title": answer.title, "intro": answer.intro}
            await self._cache.save_llm_answers(
                {key: written}, self._prompt.version, model, self._clock.now()
            )
        return answer.title, answer.intro
