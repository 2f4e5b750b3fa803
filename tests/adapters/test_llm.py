"""The openai adapter against the realistic fake: strict schemas, limits, reasoning, fallbacks."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel

from adapters.llm import REASONING_HEADROOM, OpenAiModel, is_reasoning_model, strict_schema
from bot.edition.llm_rank import RelevanceAnswer
from bot.edition.llm_summarize import IntroAnswer, SummaryAnswer
from bot.ports import Completion
from tests.fakes.openai_server import ChatAnswer, ChatRequest, FakeOpenAI, strict_schema_problem

ANSWER = {"why": "w", "difficulty": "advanced", "takeaways": []}
ANSWER_TYPES: list[type[BaseModel]] = [SummaryAnswer, IntroAnswer, RelevanceAnswer]


def answering(payload: object = ANSWER) -> Callable[[ChatRequest], ChatAnswer]:
    return lambda request: ChatAnswer.json(payload)


async def ask(
    fake: FakeOpenAI, model: str = "small-model", times: int = 1, **options: Any
) -> list[Completion]:
    async with OpenAiModel(
        api_key="sk-test", model=model, base_url=fake.base_url, max_retries=0, **options
    ) as llm:
        return [
            await llm.complete(
                "Summarize.",
                "<source>x</source>",
                SummaryAnswer,
                purpose="item_summary",
                max_output_tokens=700,
            )
            for _ in range(times)
        ]


@pytest.mark.parametrize("answer_type", ANSWER_TYPES, ids=lambda t: t.__name__)
def test_every_answer_schema_is_inside_the_strict_subset(answer_type: type[BaseModel]) -> None:
    schema = strict_schema(answer_type)
    assert strict_schema_problem(schema) is None
    text = json.dumps(schema)
    for keyword in ("minLength", "maxLength", "minItems", "maxItems", "minimum", "maximum"):
        assert keyword not in text


async def test_the_strict_fake_takes_the_adapters_schema_at_once() -> None:
    async with FakeOpenAI(answering()) as fake:
        [completion] = await ask(fake)
    assert json.loads(completion.content) == ANSWER
    assert not completion.cut_off
    [request] = fake.requests
    assert request.response_format is not None
    assert request.response_format["type"] == "json_schema"
    assert request.response_format["json_schema"]["strict"] is True
    assert request.body["max_completion_tokens"] == 700
    assert "reasoning_effort" not in request.body  # not a reasoning model


async def test_a_reasoning_model_gets_its_effort_and_room_to_think() -> None:
    assert is_reasoning_model("gpt-5-mini")
    assert is_reasoning_model("o4-mini")
    assert not is_reasoning_model("gpt-4o-mini")
    assert not is_reasoning_model("llama3.1")
    async with FakeOpenAI(answering()) as fake:
        [completion] = await ask(fake, "gpt-5-mini")
    [request] = fake.requests
    assert request.body["reasoning_effort"] == "low"
    assert request.body["max_completion_tokens"] == 700 + REASONING_HEADROOM["low"]
    assert completion.reasoning_tokens == 384
    assert completion.output_tokens > 384


async def test_a_cut_off_answer_is_flagged_not_passed_off_as_an_answer() -> None:
    async with FakeOpenAI(answering({**ANSWER, "why": "w" * 4000})) as fake:
        [completion] = await ask(fake)
    assert completion.cut_off
    assert completion.output_tokens == 700


async def test_a_server_without_json_schema_gets_json_mode_for_the_rest_of_the_run() -> None:
    async with FakeOpenAI(answering(), json_schema=False) as fake:
        completions = await ask(fake, times=2)
    assert [json.loads(c.content) for c in completions] == [ANSWER, ANSWER]
    # One refusal, then JSON mode at once for both calls: the model remembers.
    assert len(fake.refused) == 1
    answered = fake.answered
    assert [r.response_format for r in answered] == [{"type": "json_object"}] * 2
    assert '"takeaways"' in answered[0].system  # the schema travels in the prompt
    assert answered[0].purpose == "item_summary"


async def test_a_server_without_max_completion_tokens_gets_max_tokens() -> None:
    async with FakeOpenAI(answering(), max_completion_tokens=False) as fake:
        completions = await ask(fake, times=2)
    assert all(not c.cut_off for c in completions)
    assert len(fake.refused) == 1
    assert [r.body.get("max_tokens") for r in fake.answered] == [700, 700]
    assert all("max_completion_tokens" not in r.body for r in fake.answered)


async def test_a_server_refusing_reasoning_effort_stops_getting_it() -> None:
    async with FakeOpenAI(answering()) as fake:
        completions = await ask(fake, "qwen3", times=2, reasoning=True)
    assert len(completions) == 2
    assert len(fake.refused) == 1
    assert all("reasoning_effort" not in r.body for r in fake.answered)
