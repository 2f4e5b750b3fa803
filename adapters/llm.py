"""The language model: any OpenAI-compatible server through the official openai client.

OPENAI_BASE_URL moves it to Ollama, vLLM or a test's fake server; the client retries
timeouts, 429 (honouring Retry-After) and 5xx with backoff on its own. Answers are asked for
as JSON following a strict schema (``response_format: json_schema``) that the openai
library's own structured-output helper builds from a pydantic model, so it stays inside
OpenAI's strict subset; validating lengths and counts is the core's job, after parsing.

Servers differ, and the model learns each difference once per run (one object lives for one
compose): a server that refuses ``json_schema`` gets ``json_object`` with the schema written
into the system prompt; one that does not know ``max_completion_tokens`` gets ``max_tokens``;
one that refuses ``reasoning_effort`` stops getting it.

Reasoning models (OpenAI's gpt-5 and o-series by name, or any model when told) spend hidden
reasoning tokens inside the same output limit, so the limit asked for is the answer's room
plus headroom for the configured effort, and ``reasoning_effort`` is sent only to them.
"""

from __future__ import annotations

import json
import logging
import re
from types import TracebackType
from typing import Any, Literal, Self

import openai
from openai.lib._pydantic import to_strict_json_schema
from pydantic import BaseModel

from bot.ports import Completion, LanguageModelError

log = logging.getLogger(__name__)

ReasoningEffort = Literal["none", "minimal", "low", "medium", "high"]

REASONING_HEADROOM: dict[str, int] = {
    "none": 0,
    "minimal": 512,
    "low": 2048,
    "medium": 6144,
    "high": 16384,
}
"""Output tokens added for a reasoning model's thinking, by effort.

Only a ceiling: a call pays for the tokens it used, not for its limit. Generous, because a
reasoning model that runs out of room while thinking returns nothing at all.
"""

_REASONING_NAMES = re.compile(r"^(?:gpt-5|o[1-9])(?:\b|[-.])", re.IGNORECASE)


def is_reasoning_model(name: str) -> bool:
    """Tell whether ``name`` is one of OpenAI's reasoning models (gpt-5*, o1/o3/o4*...)."""
    return _REASONING_NAMES.match(name) is not None


def strict_schema(answer_type: type[BaseModel]) -> dict[str, Any]:
    """Return ``answer_type``'s JSON schema in OpenAI's strict subset, by the openai helper.

    The helper adds ``additionalProperties: false`` and makes every property required; it
    does not remove keywords outside the subset, so answer models carry no length or count
    constraints in their schema (they check those in validators).
    """
    return to_strict_json_schema(answer_type)


_REFUSAL = re.compile(r"unsupported|not supported|unknown|unrecognized|not permitted|extra")


def _refused_parameter(exc: openai.BadRequestError) -> str:
    """Return which request parameter a 400 refuses, or ``""``.

    OpenAI names it in ``param``; Ollama, vLLM and llama.cpp builds only in the message. Any
    400 about ``response_format`` counts as a refusal of ``json_schema``: JSON mode is the
    form every such server takes, and a strict schema the server will not take is worth
    less than an answer. The limit and the effort count only when called unsupported, so
    that "max_completion_tokens is too large" stays an error.
    """
    body = exc.body if isinstance(exc.body, dict) else {}
    message = str(body.get("message") or exc.message).lower()
    param = str(exc.param or "").lower()
    if param.startswith("response_format") or "response_format" in message:
        return "json_schema"
    if "json_schema" in message:
        return "json_schema"
    if not _REFUSAL.search(message) and exc.code != "unsupported_parameter":
        return ""
    for name in ("max_completion_tokens", "reasoning_effort"):
        # OpenAI's refusal of max_tokens says "use 'max_completion_tokens' instead".
        if param == name or (name in message and f"use '{name}'" not in message):
            return name
    return ""


class OpenAiModel:
    """A chat model behind the openai client (implements `LanguageModel`)."""

    def __init__(
        self,
        *,
        api_key: str,
        model: str,
        base_url: str | None = None,
        timeout_s: float = 60.0,
        max_retries: int = 3,
        reasoning_effort: ReasoningEffort | None = "low",
        reasoning: bool | None = None,
    ) -> None:
        """Build the client; ``reasoning`` (default: guessed from the name) marks a reasoning model.

        ``reasoning_effort`` is sent only to a reasoning model, and ``None`` sends none (the
        server's default effort, for which the headroom of "medium" is kept).
        """
        self._client = openai.AsyncOpenAI(
            api_key=api_key, base_url=base_url, timeout=timeout_s, max_retries=max_retries
        )
        self._model = model
        self._reasoning = is_reasoning_model(model) if reasoning is None else reasoning
        self._effort = reasoning_effort if self._reasoning else None
        self._headroom = REASONING_HEADROOM[reasoning_effort or "medium"] if self._reasoning else 0
        self._json_schema = True
        self._limit_parameter = "max_completion_tokens"

    @property
    def model(self) -> str:
        """The model's name."""
        return self._model

    async def aclose(self) -> None:
        """Close the client's connections."""
        await self._client.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def complete(
        self,
        system: str,
        user: str,
        answer_type: type[BaseModel],
        *,
        purpose: str,
        max_output_tokens: int,
    ) -> Completion:
        """Ask for JSON shaped like ``answer_type``; raise `LanguageModelError` if no answer came.

        A 400 that names a parameter this server does not support switches to the
        alternative (for this call and the rest of the run) and asks again; each switch
        happens at most once.
        """
        schema = strict_schema(answer_type)
        for _ in range(4):
            try:
                return await self._ask(system, user, purpose, schema, max_output_tokens)
            except openai.BadRequestError as exc:
                if not self._switch(_refused_parameter(exc), exc):
                    reason = f"the model answered HTTP 400 ({exc.message[:160]})"
                    raise LanguageModelError(reason) from None
            except openai.RateLimitError:
                raise LanguageModelError(
                    "the model is rate limiting (HTTP 429) after retries"
                ) from None
            except openai.APITimeoutError:
                raise LanguageModelError("the model did not answer in time") from None
            except openai.APIStatusError as exc:
                raise LanguageModelError(f"the model answered HTTP {exc.status_code}") from None
            except openai.APIConnectionError:
                raise LanguageModelError("could not reach the model's server") from None
        raise LanguageModelError("the model's server refused every form of the request")

    def _switch(self, refused: str, exc: openai.BadRequestError) -> bool:
        """Stop sending what the server refused; return False if there is nothing to drop."""
        if refused == "json_schema" and self._json_schema:
            self._json_schema = False
        elif refused == "max_completion_tokens" and self._limit_parameter != "max_tokens":
            self._limit_parameter = "max_tokens"
        elif refused == "reasoning_effort" and self._effort is not None:
            self._effort = None
        else:
            return False
        log.warning(
            "the model's server refused %s (%s); using the fallback for the rest of the run",
            refused,
            exc.message[:160],
        )
        return True

    async def _ask(
        self,
        system: str,
        user: str,
        purpose: str,
        schema: dict[str, Any],
        max_output_tokens: int,
    ) -> Completion:
        response_format: Any  # the client's TypedDict union; both shapes are valid members
        if self._json_schema:
            response_format = {
                "type": "json_schema",
                "json_schema": {"name": purpose, "schema": schema, "strict": True},
            }
        else:
            # JSON mode guarantees JSON, not its shape: the schema goes into the prompt (and
            # OpenAI's JSON mode insists that the word "JSON" appears in the messages).
            response_format = {"type": "json_object"}
            system = (
                f"{system}\n\nAnswer with one JSON object ({purpose}) that follows this "
                f"JSON schema, and nothing else:\n{json.dumps(schema, ensure_ascii=False)}"
            )
        options: dict[str, Any] = {self._limit_parameter: max_output_tokens + self._headroom}
        if self._effort is not None:
            options["reasoning_effort"] = self._effort
        response = await self._client.chat.completions.create(
            model=self._model,
            messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
            response_format=response_format,
            **options,
        )
        choice = response.choices[0] if response.choices else None
        usage = response.usage
        details = usage.completion_tokens_details if usage else None
        return Completion(
            content=(choice.message.content or "") if choice else "",
            refusal=getattr(choice.message, "refusal", None) if choice else None,
            input_tokens=usage.prompt_tokens if usage else 0,
            output_tokens=usage.completion_tokens if usage else 0,
            model=response.model or self._model,
            cut_off=choice is not None and choice.finish_reason == "length",
            reasoning_tokens=(details.reasoning_tokens or 0) if details else 0,
        )
