"""A fake OpenAI-compatible server on 127.0.0.1 for the real openai client.

It speaks ``POST /v1/chat/completions`` as OpenAI, Ollama and vLLM do: a JSON body with the
model, the messages and a ``response_format``; a ``chat.completion`` object back with
``choices[0].message.content`` (or ``refusal``) and ``usage`` token counts; errors as
``{"error": {...}}`` with their HTTP status (429 with Retry-After). A test decides each answer
with a function of the request; every request is kept.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from tests.fakes.local_site import serve_locally


@dataclass(frozen=True)
class ChatRequest:
    """One chat completion request as the server received it."""

    model: str
    messages: list[dict[str, Any]]
    response_format: dict[str, Any] | None
    headers: dict[str, str]

    @property
    def system(self) -> str:
        """The system message's text."""
        return next((m["content"] for m in self.messages if m["role"] == "system"), "")

    @property
    def user(self) -> str:
        """The last user message's text."""
        return next((m["content"] for m in reversed(self.messages) if m["role"] == "user"), "")


@dataclass(frozen=True)
class ChatAnswer:
    """What the fake answers: content (or a refusal, or an HTTP error), after a delay."""

    content: str = ""
    refusal: str | None = None
    status: int = 200
    delay_s: float = 0.0
    retry_after: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @classmethod
    def json(cls, payload: object, **options: Any) -> ChatAnswer:
        """An answer whose content is ``payload`` as JSON."""
        return cls(content=json.dumps(payload), **options)


Responder = Callable[[ChatRequest], ChatAnswer]


@dataclass
class FakeOpenAI:
    """Serves chat completions decided by ``responder``; use with ``async with``."""

    responder: Responder
    requests: list[ChatRequest] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        """The value for OPENAI_BASE_URL."""
        return f"http://127.0.0.1:{self.port}/v1"

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        self._runner, self.port = await serve_locally(app)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _chat(self, request: web.Request) -> web.Response:
        body = await request.json()
        chat = ChatRequest(
            model=body["model"],
            messages=body["messages"],
            response_format=body.get("response_format"),
            headers=dict(request.headers),
        )
        self.requests.append(chat)
        answer = self.responder(chat)
        if answer.delay_s:
            await asyncio.sleep(answer.delay_s)
        if answer.status != 200:
            headers = {"Retry-After": answer.retry_after} if answer.retry_after else {}
            error = {
                "error": {"message": f"fake error {answer.status}", "type": "fake", "code": None}
            }
            return web.json_response(error, status=answer.status, headers=headers)
        prompt_tokens = answer.prompt_tokens or sum(
            len(str(m["content"])) // 4 for m in chat.messages
        )
        completion_tokens = answer.completion_tokens or max(1, len(answer.content) // 4)
        message: dict[str, Any] = {"role": "assistant", "content": answer.content or None}
        message["refusal"] = answer.refusal
        return web.json_response(
            {
                "id": f"chatcmpl-fake{len(self.requests)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": chat.model,
                "choices": [
                    {"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            }
        )
