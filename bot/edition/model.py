"""The model plumbing: JSON answers that validate, and the tokens an edition may spend.

`JsonAsker` asks a `LanguageModel` for JSON shaped like a pydantic model and validates the
answer: an invalid one gets one repair attempt, a cut-off one (it hit its output limit)
raises `AnswerCutOff`, because asking again under the same limit would be cut again; the
caller asks for less (a smaller batch) or allows more. `TokenBudget` counts every call's
tokens against the edition's budget, per purpose, and keeps them for the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from bot.ports import Completion, LanguageModel, LanguageModelError

T = TypeVar("T", bound=BaseModel)


def estimate_tokens(*texts: str) -> int:
    """Estimate the tokens of ``texts`` before sending them: about four characters each.

    Only for deciding whether a call fits the budget; the ledger counts the server's own
    figures.
    """
    return sum(len(text) for text in texts) // 4 + 8


class AnswerCutOff(LanguageModelError):
    """The answer stopped at its output limit (``finish_reason: "length"``).

    Not repaired: the same question under the same limit would be cut off again.
    """

    def __init__(self, purpose: str, limit: int) -> None:
        super().__init__(f"the {purpose} answer was cut off at its limit of {limit} tokens")
        self.limit = limit


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
    by_purpose: dict[str, int] = field(default_factory=dict)

    @property
    def exhausted(self) -> bool:
        """True when no more tokens may be spent."""
        return self.used >= self.limit

    def allows(self, estimate: int) -> bool:
        """Tell whether a call expected to cost ``estimate`` tokens still fits."""
        return self.used + estimate <= self.limit

    def spent_on(self, purpose: str) -> int:
        """Return the tokens spent so far on calls for ``purpose``."""
        return self.by_purpose.get(purpose, 0)

    def spend(self, purpose: str, completion: Completion) -> None:
        """Account for one call."""
        tokens = completion.input_tokens + completion.output_tokens
        self.used += tokens
        self.by_purpose[purpose] = self.by_purpose.get(purpose, 0) + tokens
        self.calls += 1
        self.records.append((purpose, completion))

    def cost(self, completion: Completion) -> float:
        """Return what one call cost in USD."""
        return (
            completion.input_tokens * self.input_usd_per_mtok
            + completion.output_tokens * self.output_usd_per_mtok
        ) / 1_000_000


class JsonAsker:
    """Asks the model for JSON that validates, with one repair attempt for invalid JSON."""

    def __init__(self, model: LanguageModel, budget: TokenBudget) -> None:
        self.model = model
        self.budget = budget

    async def ask(
        self, system: str, user: str, answer_type: type[T], purpose: str, max_output_tokens: int
    ) -> tuple[T | None, str]:
        """Return a validated answer, or ``None`` and why there is none.

        Raises `AnswerCutOff` when an answer hit ``max_output_tokens``, and
        `LanguageModelError` when none came back.
        """
        completion = await self._complete(system, user, answer_type, purpose, max_output_tokens)
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
        second = await self._complete(system, repair, answer_type, purpose, max_output_tokens)
        try:
            return answer_type.model_validate_json(second.content), ""
        except ValidationError as again:
            return None, f"invalid answer after one repair ({_problem(again)})"

    async def ask_with_room(
        self, system: str, user: str, answer_type: type[T], purpose: str, max_output_tokens: int
    ) -> tuple[T | None, str]:
        """Like `ask`, but an answer cut off at its limit is asked again once with twice the room.

        For answers whose size the caller cannot shrink (one summary, one intro); raises
        `AnswerCutOff` if the second answer is cut off too.
        """
        try:
            return await self.ask(system, user, answer_type, purpose, max_output_tokens)
        except AnswerCutOff:
            return await self.ask(system, user, answer_type, purpose, 2 * max_output_tokens)

    async def _complete(
        self, system: str, user: str, answer_type: type[T], purpose: str, max_output_tokens: int
    ) -> Completion:
        completion = await self.model.complete(
            system, user, answer_type, purpose=purpose, max_output_tokens=max_output_tokens
        )
        self.budget.spend(purpose, completion)
        if completion.cut_off:
            raise AnswerCutOff(purpose, max_output_tokens)
        return completion


def _problem(error: ValidationError) -> str:
    first = error.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"]) or "answer"
    return f"{where}: {str(first['msg']).removeprefix('Value error, ')}"[:200]
