"""Whether the model was used: a refused or unreachable OpenAI key is said, not hidden.

Composing falls back to offline summaries item by item when the model fails; without this a
wrong OPENAI_API_KEY composed offline week after week with nothing said. `WatchedModel`
keeps the first failure, and stops asking once the key is refused or the server cannot be
reached (every further call would fail alike, each after the client's retries). The last
compose's problem is kept in the store for ``digestbot status``.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from bot.ports import Completion, LanguageModel, LanguageModelError

MODEL_STATE = "llm"
"""The store's per-source state key under which the last compose's model problem is kept."""
_HOPELESS = ("HTTP 401", "HTTP 403", "could not reach")
"""Reasons (from `adapters.llm`) that no later call of the same run can escape."""


def describe(reason: str) -> str:
    """Return a model failure as the operator should read it."""
    if "HTTP 401" in reason or "HTTP 403" in reason:
        return f"the model's server refused OPENAI_API_KEY ({reason})"
    return reason


class WatchedModel:
    """A `LanguageModel` that remembers why it failed, and gives up on a hopeless failure."""

    def __init__(self, model: LanguageModel) -> None:
        self._model = model
        self.problem: str | None = None
        self._given_up = False

    @property
    def model(self) -> str:
        """The wrapped model's name."""
        return self._model.model

    async def complete(
        self,
        system: str,
        user: str,
        answer_type: type[BaseModel],
        *,
        purpose: str,
        max_output_tokens: int,
    ) -> Completion:
        """Ask the wrapped model; note its failure (see the module docstring)."""
        if self._given_up and self.problem is not None:
            raise LanguageModelError(self.problem)
        try:
            return await self._model.complete(
                system, user, answer_type, purpose=purpose, max_output_tokens=max_output_tokens
            )
        except LanguageModelError as exc:
            if self.problem is None:
                self.problem = describe(exc.reason)
            if any(marker in exc.reason for marker in _HOPELESS):
                self._given_up = True
                self.problem = describe(exc.reason)
            raise


def model_state(problem: str | None, at: datetime) -> dict[str, str]:
    """Return what the store keeps about the last compose's use of the model."""
    return {"problem": problem or "", "at": at.isoformat()}


def problem_line(state: dict[str, str]) -> str:
    """Return the status line for a kept state, or "" when the model worked."""
    if not state.get("problem"):
        return ""
    return f"The last compose ({state.get('at', '?')[:16]}) wrote offline: {state['problem']}"
