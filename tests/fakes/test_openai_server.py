"""The fake OpenAI server refuses and cuts what the real one does (the raw openai client).

If the fake accepted any schema at any length, the model path's tests would prove nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest

from tests.fakes.openai_server import (
    ChatAnswer,
    ChatRequest,
    FakeOpenAI,
    strict_schema_problem,
    tokens,
)

SUMMARY = {"why": "x" * 400, "takeaways": ["one", "two", "three"]}


def strict(schema: dict[str, Any], name: str = "item_summary") -> Any:
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}


def obj(**properties: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(lambda request: ChatAnswer.json(SUMMARY)) as server:
        yield server


@pytest.fixture
async def client(fake: FakeOpenAI) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(api_key="sk-test", base_url=fake.base_url, max_retries=0) as c:
        yield c


async def ask(client: openai.AsyncOpenAI, model: str = "small-model", **options: Any) -> Any:
    options.setdefault("response_format", strict(obj(why={"type": "string"})))
    return await client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Summarize, in JSON."}], **options
    )


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        (obj(why={"type": "string", "minLength": 80}), "'minLength' is not permitted"),
        (
            obj(takeaways={"type": "array", "items": {"type": "string"}, "maxItems": 3}),
            "'maxItems' is not permitted",
        ),
        (obj(score={"type": "integer", "minimum": 0}), "'minimum' is not permitted"),
        (
            {"type": "object", "properties": {"why": {"type": "string"}}, "required": ["why"]},
            "'additionalProperties' is required to be supplied and to be false",
        ),
        (
            {**obj(why={"type": "string"}, tip={"type": "string"}), "required": ["why"]},
            "Missing 'tip'",
        ),
    ],
    ids=["minLength", "maxItems", "minimum", "no-additionalProperties", "not-all-required"],
)
async def test_a_schema_outside_the_strict_subset_is_refused_as_openai_does(
    client: openai.AsyncOpenAI, schema: dict[str, Any], expected: str
) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        await ask(client, response_format=strict(schema))
    error = refused.value
    assert error.status_code == 400
    assert (error.code, error.param, error.type) == (
        "invalid_json_schema",
        "response_format",
        "invalid_request_error",
    )
    assert "Invalid schema for response_format 'item_summary'" in error.message
    assert expected in error.message


def test_the_strict_check_walks_nested_objects_and_definitions() -> None:
    nested = obj(scores={"type": "array", "items": {"$ref": "#/$defs/S"}})
    nested["$defs"] = {"S": {"type": "object", "properties": {"id": {"type": "integer"}}}}
    problem = strict_schema_problem(nested)
    assert problem is not None
    assert "('$defs', 'S')" in problem


async def test_an_answer_longer_than_its_limit_is_cut_off(client: openai.AsyncOpenAI) -> None:
    response = await ask(client, max_completion_tokens=50)
    choice = response.choices[0]
    assert choice.finish_reason == "length"
    assert choice.message.content is not None
    assert len(choice.message.content) == 200  # 50 tokens of four characters
    assert response.usage is not None
    assert response.usage.completion_tokens == 50

    whole = await ask(client, max_completion_tokens=500)
    assert whole.choices[0].finish_reason == "stop"


async def test_a_reasoning_model_thinks_within_the_same_limit(
    client: openai.AsyncOpenAI,
) -> None:
    response = await ask(client, "gpt-5-mini", reasoning_effort="low", max_completion_tokens=800)
    assert response.usage is not None
    details = response.usage.completion_tokens_details
    assert details is not None
    assert details.reasoning_tokens == 384
    content = response.choices[0].message.content
    assert content is not None
    assert response.usage.completion_tokens == 384 + tokens(content)
    assert response.choices[0].finish_reason == "stop"

    starved = await ask(client, "gpt-5-mini", reasoning_effort="low", max_completion_tokens=300)
    assert starved.choices[0].finish_reason == "length"
    assert not starved.choices[0].message.content  # all of it went to reasoning


async def test_servers_without_json_schema_or_max_completion_tokens_say_so() -> None:
    def respond(request: ChatRequest) -> ChatAnswer:
        return ChatAnswer.json(SUMMARY)

    async with (
        FakeOpenAI(respond, json_schema=False, max_completion_tokens=False) as fake,
        openai.AsyncOpenAI(api_key="sk-test", base_url=fake.base_url, max_retries=0) as client,
    ):
        with pytest.raises(openai.BadRequestError) as schema_refused:
            await ask(client, max_tokens=500)
        assert schema_refused.value.param == "response_format"
        with pytest.raises(openai.BadRequestError) as limit_refused:
            await ask(client, response_format={"type": "json_object"}, max_completion_tokens=500)
        assert limit_refused.value.code == "unsupported_parameter"
        taken = await ask(client, response_format={"type": "json_object"}, max_tokens=500)
        assert taken.choices[0].finish_reason == "stop"
    assert len(fake.answered) == 1
