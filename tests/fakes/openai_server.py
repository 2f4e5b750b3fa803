"""A fake OpenAI-compatible server on 127.0.0.1 that behaves like the real one.

It speaks ``POST /v1/chat/completions`` as OpenAI, Ollama and vLLM do: a JSON body with the
model, the messages, a ``response_format`` and an output limit; a ``chat.completion`` object
back with ``choices[0].message.content`` (or ``refusal``), ``finish_reason`` and ``usage``;
errors as ``{"error": {"message", "type", "param", "code"}}`` with their HTTP status (429 with
Retry-After). A test decides each answer's content with a function of the request; the
server enforces what a real one enforces, and keeps every request:

- **Output limits.** Tokens are counted as ``ceil(len(text) / 4)`` (OpenAI's rule of thumb
  for English). An answer longer than the request's ``max_completion_tokens`` (or
  ``max_tokens``) is cut at ``4 * limit`` characters and comes back with ``finish_reason:
  "length"``, as unfinished JSON.
- **Reasoning models** (names starting with one of ``reasoning_prefixes``: gpt-5, o1, o3,
  o4) think first: ``reasoning_tokens[effort]`` tokens (effort from ``reasoning_effort``,
  "medium" when none is sent, as OpenAI defaults) count against the same limit, appear in
  ``usage.completion_tokens_details.reasoning_tokens`` and in ``completion_tokens``. A limit
  smaller than the reasoning gives an empty answer cut off at the limit.
- **Strict schemas.** A ``json_schema`` response format with ``strict: true`` must stay in
  the strict subset (`strict_schema_problem`): objects with ``additionalProperties: false``
  and every property required, and no keyword beyond the structural ones (no minLength,
  maxLength, minItems, maxItems, minimum, maximum, pattern, format, default...). This is the
  conservative subset of OpenAI's strict mode: the one fine-tuned models accept, and the one
  OpenAI documented first; newer OpenAI models accept pattern, format, minimum/maximum and
  minItems/maxItems, other servers do not. Otherwise 400 ``invalid_json_schema`` with
  OpenAI's message shape.
- **Other servers.** ``json_schema=False`` answers a ``json_schema`` response format with a
  400 naming ``response_format`` (as Ollama, vLLM and llama.cpp builds do) and takes
  ``json_object``; ``max_completion_tokens=False`` answers that parameter with a 400
  "Unsupported parameter" and takes ``max_tokens``. JSON mode needs the word "JSON" in the
  messages, as OpenAI's does.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from tests.fakes.local_site import serve_locally

STRUCTURAL_KEYWORDS = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "enum",
        "const",
        "anyOf",
        "$ref",
        "$defs",
        "definitions",
        "description",
        "title",
    }
)
"""The schema keywords the fake's strict mode accepts; any other is refused."""

REASONING_TOKENS: Mapping[str, int] = {
    "none": 0,
    "minimal": 64,
    "low": 384,
    "medium": 1536,
    "high": 4096,
}
"""Reasoning tokens a reasoning model spends per call, by effort (a plausible small model)."""

_SCHEMA_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_JSON_MODE_PURPOSE = re.compile(r"JSON object \(([a-zA-Z0-9_-]+)\)")


def tokens(text: str) -> int:
    """Count the tokens of ``text`` the fake's way: one per four characters, rounded up."""
    return math.ceil(len(text) / 4)


@dataclass(frozen=True)
class ChatRequest:
    """One chat completion request as the server received it."""

    model: str
    messages: list[dict[str, Any]]
    response_format: dict[str, Any] | None
    headers: dict[str, str]
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def system(self) -> str:
        """The system message's text."""
        return next((m["content"] for m in self.messages if m["role"] == "system"), "")

    @property
    def user(self) -> str:
        """The last user message's text."""
        return next((m["content"] for m in reversed(self.messages) if m["role"] == "user"), "")

    @property
    def purpose(self) -> str:
        """The schema's name: from ``json_schema``, or in JSON mode from the system prompt."""
        if self.response_format and self.response_format.get("type") == "json_schema":
            return str(self.response_format["json_schema"]["name"])
        found = _JSON_MODE_PURPOSE.search(self.system)
        return found.group(1) if found else ""

    @property
    def limit(self) -> int | None:
        """The output limit asked for (``max_completion_tokens`` or ``max_tokens``)."""
        value = self.body.get("max_completion_tokens", self.body.get("max_tokens"))
        return int(value) if value is not None else None


@dataclass(frozen=True)
class ChatAnswer:
    """What the fake answers: content (or a refusal, or an HTTP error), after a delay.

    ``completion_tokens`` (default: counted from the content) is the answer's size in
    tokens; the fake adds reasoning tokens and applies the limit.
    """

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


def strict_schema_problem(schema: object, path: tuple[str, ...] = ()) -> str | None:
    """Return why ``schema`` is outside the strict subset (OpenAI's wording), or ``None``."""
    context = f"In context={path!r}"
    if not isinstance(schema, dict):
        return f"{context}, schema must be a JSON Schema object."
    if not path and (schema.get("type") != "object" or "anyOf" in schema):
        return f"{context}, the root schema must be an object and not use 'anyOf'."
    for keyword in schema:
        if keyword not in STRUCTURAL_KEYWORDS:
            return f"{context}, '{keyword}' is not permitted."
    if schema.get("type") == "object" or "properties" in schema:
        if schema.get("additionalProperties") is not False:
            return f"{context}, 'additionalProperties' is required to be supplied and to be false."
        properties = schema.get("properties", {})
        required = schema.get("required", [])
        missing = [name for name in properties if name not in required]
        if missing:
            return (
                f"{context}, 'required' is required to be supplied and to be an array "
                f"including every key in properties. Missing '{missing[0]}'."
            )
        for name, child in properties.items():
            if problem := strict_schema_problem(child, (*path, "properties", name)):
                return problem
    children: list[tuple[tuple[str, ...], object]] = []
    if "items" in schema:
        children.append(((*path, "items"), schema["items"]))
    for index, variant in enumerate(schema.get("anyOf", [])):
        children.append(((*path, "anyOf", str(index)), variant))
    for group in ("$defs", "definitions"):
        for name, child in schema.get(group, {}).items():
            children.append(((*path, group, name), child))
    for child_path, child in children:
        if problem := strict_schema_problem(child, child_path):
            return problem
    return None


def _error(status: int, message: str, param: str | None, code: str | None) -> web.Response:
    body = {
        "error": {
            "message": message,
            "type": "invalid_request_error",
            "param": param,
            "code": code,
        }
    }
    return web.json_response(body, status=status)


@dataclass
class FakeOpenAI:
    """Serves chat completions decided by ``responder``; use with ``async with``."""

    responder: Responder
    requests: list[ChatRequest] = field(default_factory=list)
    port: int = 0
    json_schema: bool = True
    max_completion_tokens: bool = True
    reasoning_prefixes: tuple[str, ...] = ("gpt-5", "o1", "o3", "o4")
    reasoning_tokens: Mapping[str, int] = field(default_factory=lambda: dict(REASONING_TOKENS))
    refused: list[ChatRequest] = field(default_factory=list)
    # When set, any other bearer key is refused with OpenAI's 401 (invalid_api_key).
    api_key: str | None = None
    _runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        """The value for OPENAI_BASE_URL."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def answered(self) -> list[ChatRequest]:
        """The requests the server took (not refused with a 400 for their form)."""
        return [r for r in self.requests if all(r is not x for x in self.refused)]

    def is_reasoning(self, model: str) -> bool:
        """Tell whether the fake treats ``model`` as a reasoning model."""
        return model.startswith(self.reasoning_prefixes)

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

    def _refusal(self, chat: ChatRequest) -> web.Response | None:
        """Return the 400 a real server gives this request's form, or ``None``."""
        body, form = chat.body, chat.response_format or {}
        if "max_completion_tokens" in body and not self.max_completion_tokens:
            message = "Unsupported parameter: 'max_completion_tokens'. Use 'max_tokens'."
            return _error(400, message, "max_completion_tokens", "unsupported_parameter")
        if "max_tokens" in body and self.is_reasoning(chat.model):
            message = (
                "Unsupported parameter: 'max_tokens' is not supported with this model. "
                "Use 'max_completion_tokens' instead."
            )
            return _error(400, message, "max_tokens", "unsupported_parameter")
        if "reasoning_effort" in body and not self.is_reasoning(chat.model):
            message = "Unsupported parameter: 'reasoning_effort' is not supported with this model."
            return _error(400, message, "reasoning_effort", "unsupported_parameter")
        if form.get("type") == "json_schema":
            if not self.json_schema:
                message = "response_format type 'json_schema' is not supported; use 'json_object'"
                return _error(400, message, "response_format", None)
            spec = form.get("json_schema") or {}
            name = str(spec.get("name", ""))
            if not _SCHEMA_NAME.match(name):
                message = f"Invalid 'response_format.json_schema.name': {name!r}."
                return _error(400, message, "response_format.json_schema.name", "invalid_value")
            if spec.get("strict") and (problem := strict_schema_problem(spec.get("schema"))):
                message = f"Invalid schema for response_format '{name}': {problem}"
                return _error(400, message, "response_format", "invalid_json_schema")
        if form.get("type") == "json_object" and not any(
            "json" in str(m.get("content", "")).lower() for m in chat.messages
        ):
            message = (
                "'messages' must contain the word 'json' in some form, to use 'response_format' "
                "of type 'json_object'."
            )
            return _error(400, message, "messages", None)
        return None

    async def _chat(self, request: web.Request) -> web.Response:
        if self.api_key is not None and request.headers.get("Authorization") != (
            f"Bearer {self.api_key}"
        ):
            return _error(401, "Incorrect API key provided.", None, "invalid_api_key")
        body = await request.json()
        chat = ChatRequest(
            model=body["model"],
            messages=body["messages"],
            response_format=body.get("response_format"),
            headers=dict(request.headers),
            body=body,
        )
        self.requests.append(chat)
        refusal = self._refusal(chat)
        if refusal is not None:
            self.refused.append(chat)
            return refusal
        answer = self.responder(chat)
        if answer.delay_s:
            await asyncio.sleep(answer.delay_s)
        if answer.status != 200:
            headers = {"Retry-After": answer.retry_after} if answer.retry_after else {}
            error = {
                "error": {
                    "message": f"fake error {answer.status}",
                    "type": "server_error",
                    "param": None,
                    "code": None,
                }
            }
            return web.json_response(error, status=answer.status, headers=headers)
        return web.json_response(self._completion(chat, answer))

    def _completion(self, chat: ChatRequest, answer: ChatAnswer) -> dict[str, Any]:
        """Build the completion: reasoning first, then the answer, both within the limit."""
        prompt_tokens = answer.prompt_tokens or sum(
            tokens(str(m["content"])) for m in chat.messages
        )
        reasoning = 0
        if self.is_reasoning(chat.model):
            reasoning = self.reasoning_tokens[str(chat.body.get("reasoning_effort") or "medium")]
        content = answer.content
        answer_tokens = answer.completion_tokens or max(1, tokens(content))
        limit = chat.limit
        finish = "stop"
        if limit is not None and reasoning + answer_tokens > limit:
            finish = "length"
            reasoning = min(reasoning, limit)
            room = limit - reasoning
            content = content[: room * 4]
            answer_tokens = room
        message: dict[str, Any] = {"role": "assistant", "content": content or None}
        message["refusal"] = answer.refusal
        completion_tokens = reasoning + answer_tokens
        return {
            "id": f"chatcmpl-fake{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": chat.model,
            "choices": [
                {"index": 0, "message": message, "finish_reason": finish, "logprobs": None}
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
                "completion_tokens_details": {"reasoning_tokens": reasoning},
            },
        }
