"""Summaries and edition intros written by a language model, validated and guarded.

Every answer is JSON checked against a pydantic model (sentence counts, lengths, exactly three
takeaways). An invalid answer gets one repair attempt. A summary that states a number or a
name the source does not contain is regenerated once, then replaced by the offline summary
with a visible note: nothing unfaithful is published silently. A per-edition token budget,
once spent, hands the rest of the edition to the offline summarizer, and says so.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

import prompts
from bot.domain import Difficulty, Item, ItemSummary
from bot.ports import Clock, Completion, LanguageModel, LanguageModelError
from bot.summarize import OfflineSummarizer

_SENTENCE_END = re.compile(r"[.!?](?:[\"'”’)\]]*)(?:\s+|$)")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*\s?%?")
_NAME = re.compile(
    r"\b(?:[A-Z][a-z]*[A-Z][\w-]*|[A-Z]{2,}[\w-]*|[A-Za-z]+-\d[\w.-]*|[A-Z][a-z]+\d[\w-]*)"
)
_CAPITALISED = re.compile(r"(?<=[a-z,;:] )[A-Z][a-z]{2,}(?:[- ][A-Z][a-z]+)*")
_COMMON_NAMES = frozenset(
    {"AI", "LLM", "LLMs", "API", "APIs", "GPU", "GPUs", "CPU", "I", "OK", "JSON", "SQL", "UI"}
)
SOURCE_CHARS = 4000

T = TypeVar("T", bound=BaseModel)


_ABBREVIATION = re.compile(
    r"\b(?:e\.g|i\.e|etc|vs|cf|al|approx|Dr|Mr|Ms|Prof|Fig|No|U\.S|St)\.", re.IGNORECASE
)
_DECIMAL_OR_VERSION = re.compile(r"(?<=\w)\.(?=\w)")


def sentence_count(text: str) -> int:
    """Count sentences by their ends, not counting abbreviations ("e.g.") or "3.5"."""
    plain = _DECIMAL_OR_VERSION.sub("", _ABBREVIATION.sub("", text.strip()))
    return len(_SENTENCE_END.findall(plain))


class SummaryAnswer(BaseModel):
    """What the model must answer for one item."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    why: str = Field(min_length=80, max_length=900)
    difficulty: Literal["accessible", "intermediate", "advanced"]
    takeaways: list[str] = Field(min_length=3, max_length=3)

    @field_validator("why")
    @classmethod
    def _two_to_four_sentences(cls, why: str) -> str:
        if not 2 <= sentence_count(why) <= 4:
            raise ValueError("why must be 2 to 4 sentences")
        return why

    @field_validator("takeaways")
    @classmethod
    def _one_sentence_each(cls, takeaways: list[str]) -> list[str]:
        for takeaway in takeaways:
            if not 15 <= len(takeaway) <= 300 or sentence_count(takeaway) != 1:
                raise ValueError("each takeaway must be one sentence of 15 to 300 characters")
        return takeaways


class IntroAnswer(BaseModel):
    """What the model must answer for an edition's title and intro."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=10, max_length=90)
    intro: str = Field(min_length=80, max_length=900)

    @field_validator("title")
    @classmethod
    def _two_clauses(cls, title: str) -> str:
        if title.count(",") != 1:
            raise ValueError("title must be two clauses joined by one comma")
        return title

    @field_validator("intro")
    @classmethod
    def _three_or_four_sentences(cls, intro: str) -> str:
        if not 3 <= sentence_count(intro) <= 4:
            raise ValueError("intro must be 3 or 4 sentences")
        return intro


def json_schema(model: type[BaseModel]) -> dict[str, object]:
    """Return the strict JSON schema of ``model`` as OpenAI's structured outputs want it."""
    schema = model.model_json_schema()
    schema["additionalProperties"] = False
    schema["required"] = list(schema.get("properties", {}))
    return schema


def unsupported_claims(texts: Iterable[str], source: str) -> list[str]:
    """Return numbers and names stated in ``texts`` that ``source`` does not contain.

    Numbers of two or more digits and percentages count; so do names: CamelCase, acronyms,
    model-like tokens ("GPT-4") and capitalised words in mid-sentence.
    """
    haystack = source.lower()
    missing: list[str] = []
    for text in texts:
        for number in _NUMBER.findall(text):
            digits = number.replace(" ", "").rstrip("%")
            if (
                len(re.sub(r"\D", "", digits)) >= 2 or number.strip().endswith("%")
            ) and digits.lower() not in haystack:
                missing.append(number.strip())
        for name in [*_NAME.findall(text), *_CAPITALISED.findall(text)]:
            if name not in _COMMON_NAMES and name.lower() not in haystack:
                missing.append(name)
    return list(dict.fromkeys(missing))


def source_text(item: Item) -> str:
    """Return what a summary may draw on: title, authors, text and HF's own summary."""
    content = item.content
    parts = [content.title, ", ".join(content.authors), content.summary[:SOURCE_CHARS]]
    hf_summary = content.data.get("hf_summary")
    if isinstance(hf_summary, str):
        parts.append(hf_summary)
    return "\n".join(part for part in parts if part)


@dataclass
class TokenBudget:
    """Tokens one edition may spend; once spent, the rest of the edition is made offline.

    It also keeps every call (what for, and its completion) so that compose can record
    their tokens and cost; prices are in USD per million tokens.
    """

    limit: int
    input_usd_per_mtok: float = 0.0
    output_usd_per_mtok: float = 0.0
    used: int = 0
    calls: int = 0
    records: list[tuple[str, Completion]] = field(default_factory=list)

    @property
    def exhausted(self) -> bool:
        """True when no more tokens may be spent."""
        return self.used >= self.limit

    def spend(self, purpose: str, completion: Completion) -> None:
        """Account for one call."""
        self.used += completion.input_tokens + completion.output_tokens
        self.calls += 1
        self.records.append((purpose, completion))

    def cost(self, completion: Completion) -> float:
        """Return what one call cost in USD."""
        return (
            completion.input_tokens * self.input_usd_per_mtok
            + completion.output_tokens * self.output_usd_per_mtok
        ) / 1_000_000


class JsonAsker:
    """Asks the model for JSON that validates, with one repair attempt."""

    def __init__(self, model: LanguageModel, budget: TokenBudget) -> None:
        self.model = model
        self.budget = budget

    async def ask(
        self, system: str, user: str, answer_type: type[T], schema_name: str
    ) -> tuple[T | None, str]:
        """Return a validated answer, or ``None`` and why there is none."""
        schema = json_schema(answer_type)
        completion = await self._complete(system, user, schema_name, schema)
        if completion.refusal:
            return None, f"the model declined ({completion.refusal[:80]})"
        try:
            return answer_type.model_validate_json(completion.content), ""
        except ValidationError as first:
            problem = _problem(first)
        if self.budget.exhausted:
            return None, f"invalid answer ({problem}) and no budget left to repair it"
        repair = (
            f"{user}\n\nYour previous answer was not valid: {problem}. "
            f"Previous answer:\n{completion.content[:2000]}\nAnswer again with valid JSON only."
        )
        second = await self._complete(system, repair, schema_name, schema)
        try:
            return answer_type.model_validate_json(second.content), ""
        except ValidationError as again:
            return None, f"invalid answer after one repair ({_problem(again)})"

    async def _complete(
        self, system: str, user: str, schema_name: str, schema: Mapping[str, object]
    ) -> Completion:
        completion = await self.model.complete(system, user, schema_name, schema)
        self.budget.spend(schema_name, completion)
        return completion


def _problem(error: ValidationError) -> str:
    first = error.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"]) or "answer"
    return f"{where}: {str(first['msg']).removeprefix('Value error, ')}"[:200]


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

    async def summarize(self, item: Item) -> ItemSummary:
        """Return a validated, faithful summary, or the offline one with a note saying why."""
        if self._budget.exhausted:
            return await self._offline(
                item, "The LLM token budget for this edition was spent; summarized offline."
            )
        source = source_text(item)
        user = f"Kind: {item.content.kind.value}\n<source>\n{source}\n</source>"
        try:
            answer, problem = await self._asker.ask(
                self._prompt.text, user, SummaryAnswer, "item_summary"
            )
            if answer is not None:
                unsupported = unsupported_claims([answer.why, *answer.takeaways], source)
                if unsupported:
                    retry = (
                        f"{user}\n\nYour previous summary stated things the source does not "
                        f"contain: {', '.join(unsupported[:8])}. "
                        "Write it again using only the source."
                    )
                    answer, problem = await self._asker.ask(
                        self._prompt.text, retry, SummaryAnswer, "item_summary"
                    )
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


class AnswerCache(Protocol):
    """Where validated answers are kept by what they were asked from (the store)."""

    async def llm_answers(
        self, keys: Sequence[str], prompt_version: str, model: str
    ) -> dict[str, dict[str, Any]]:
        """Return kept answers by key."""
        ...

    async def save_llm_answers(
        self,
        answers: Mapping[str, Mapping[str, Any]],
        prompt_version: str,
        model: str,
        at: datetime,
    ) -> None:
        """Keep answers by key."""
        ...


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
        if self._budget.exhausted:
            return None
        try:
            answer, _ = await self._asker.ask(
                self._prompt.text, f"<items>\n{listing}\n</items>", IntroAnswer, "edition_intro"
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
