"""Prompts load from the package and their version follows their text."""

from __future__ import annotations

import pytest

from bot.edition.guard import unsupported_claims
from bot.edition.llm_summarize import SummaryAnswer
from prompts import load


def test_a_prompt_loads_with_a_content_hash_version() -> None:
    prompt = load("editorial_profile")
    assert "engineers" in prompt.text
    assert len(prompt.version) == 12
    assert load("editorial_profile").version == prompt.version


def test_an_unknown_prompt_is_named_in_the_error() -> None:
    with pytest.raises(FileNotFoundError, match="no_such_prompt"):
        load("no_such_prompt")


def worked_example(text: str) -> tuple[str, str]:
    """Return the worked example's source and answer from a prompt."""
    source = text.rsplit("<source>", 1)[1].split("</source>", 1)[0]
    answer = text.split("Answer:\n", 1)[1]
    return source, answer


def test_the_summary_prompts_worked_example_obeys_its_own_rules() -> None:
    # A model imitates the example: it must pass the same checks a real answer passes.
    source, answer = worked_example(load("summarize_item").text)
    parsed = SummaryAnswer.model_validate_json(answer)
    assert unsupported_claims([parsed.why, *parsed.takeaways], source) == []
    assert all(len(t) <= 220 for t in parsed.takeaways)
    assert not any(word in answer.lower() for word in ("the authors", " we ", " i "))


def test_the_summary_prompt_carries_the_recipe_and_the_difficulty_rubric() -> None:
    text = load("summarize_item").text
    for level in ("accessible", "intermediate", "advanced"):
        assert f'"{level}"' in text
    assert "exactly three" in text
    assert "<editor_note>" in text  # editors' picks bring their note


def test_the_intro_prompts_example_title_is_two_short_clauses() -> None:
    text = load("edition_intro").text
    title = text.split('e.g. "', 1)[1].split('"', 1)[0]
    clauses = title.split(", ")
    assert len(clauses) == 2
    assert all(len(clause.split()) <= 4 for clause in clauses)
