"""The model plumbing: JSON answers that validate, and the tokens an edition may spend.

`JsonAsker` asks a `LanguageModel` for JSON following a pydantic model's schema and validates
the answer (one repair attempt); `TokenBudget` counts every call's tokens against the
edition's budget and keeps them for the ledger.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from bot.ports import Completion, LanguageModel

T = TypeVar("T", bound=BaseModel)


def json_schema(model: type[BaseModel]) -> dict[str, object]:
    """Return the strict JSON schema of ``model`` as OpenAI's structured outputs want it."""
    schema = model.model_json_schema()
    schema["additionalProperties"] = False
    schema["required"] = list(schema.get("properties", {}))
    return schema


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
