"""The language model: any OpenAI-compatible server through the official openai client.

OPENAI_BASE_URL moves it to Ollama, vLLM or a test's fake server; the client retries
timeouts, 429 (honouring Retry-After) and 5xx with backoff on its own. Answers are asked for
as JSON following a schema (``response_format: json_schema``); validating them is the core's
job (bot/edition/llm_summarize.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self

import openai

from bot.ports import Completion, LanguageModelError


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
        max_output_tokens: int = 800,
    ) -> None:
        self._client = openai.AsyncOpenAI(
            api_key=api_key, base_url=base_url, timeout=timeout_s, max_retries=max_retries
        )
        self._model = model
        self._max_output_tokens = max_output_tokens

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
        self, system: str, user: str, schema_name: str, schema: Mapping[str, object]
    ) -> Completion:
        """Ask for JSON following ``schema``; raise `LanguageModelError` if no answer came."""
        response_format: Any = {
            "type": "json_schema",
            "json_schema": {"name": schema_name, "schema": dict(schema), "strict": True},
        }
        try:
            response = await self._client.chat.completions.create(
                model=self._model,
                messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                response_format=response_format,
                max_completion_tokens=self._max_output_tokens,
            )
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
        choice = response.choices[0] if response.choices else None
        usage = response.usage
        return Completion(
            content=(choice.message.content or "") if choice else "",
            refusal=getattr(choice.message, "refusal", None) if choice else None,
            input_tokens=usage.prompt_tokens if usage else 0,
            output_tokens=usage.completion_tokens if usage else 0,
            model=response.model or self._model,
        )
