"""Prompts load from the package and their version follows their text."""

from __future__ import annotations

import pytest

from prompts import load


def test_a_prompt_loads_with_a_content_hash_version() -> None:
    prompt = load("editorial_profile")
    assert "engineers" in prompt.text
    assert len(prompt.version) == 12
    assert load("editorial_profile").version == prompt.version


def test_an_unknown_prompt_is_named_in_the_error() -> None:
    with pytest.raises(FileNotFoundError, match="no_such_prompt"):
        load("no_such_prompt")
