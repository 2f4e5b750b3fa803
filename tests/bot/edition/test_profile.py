"""Counting the profile's terms in an item (bot.edition.profile): what the fit and taste read."""

from __future__ import annotations

from pathlib import Path

from bot.edition.profile import load_profile

PROFILE = load_profile()


def hits(title: str, body: str = "") -> dict[str, int]:
    return {
        name: n for name, n in zip(PROFILE.threads, PROFILE.counts(title, body), strict=True) if n
    }


def test_a_phrase_counts_for_its_own_field_and_not_also_for_its_first_word() -> None:
    # "image generation" is graphics (ranked low); "image" alone would be multimodal.
    assert hits("", "A model for image generation.") == {"graphics": 1}
    assert hits("", "A model that reads an image.") == {"multimodal": 1}
    assert hits("", "Autonomous driving at night.") == {"robotics": 1}


def test_a_hyphenated_compound_is_one_term_not_its_parts() -> None:
    assert hits("", "A multi-agent system.") == {"agents": 1}
    assert hits("", "An agent-like thing and a reagent.") == {}
    assert hits("", "LLM-as-a-judge scores, Tool Use and KV cache.") == {
        "evaluation": 1,
        "agents": 1,
        "inference": 1,
    }


def test_a_title_counts_three_times_and_a_long_body_at_most_six() -> None:
    assert hits("Jailbreak", "") == {"security": 3}
    assert hits("", "attack " * 40) == {"security": 6}
    assert hits("", "safety " * 3 + "x" * 4000 + " attack") == {"security": 3}


def test_a_team_profile_with_overlapping_terms_counts_each_topic_and_field(
    tmp_path: Path,
) -> None:
    path = tmp_path / "profile.md"
    path.write_text(
        "| topic | weight | clause | terms |\n|---|---|---|---|\n"
        "| compilers | 1.0 | Compilers Get Faster | c++, llvm, compiler |\n"
        "| languages | 0.5 | Languages Evolve | c++, rust |\n\n"
        "| field | weight | terms |\n|---|---|---|\n| games | 1.0 | game, games |\n",
        encoding="utf-8",
    )
    profile = load_profile(path)
    assert profile.threads == ("compilers", "languages", "games")
    # A term two topics share counts for both; terms with symbols are matched as written.
    assert profile.counts("", "C++ and Rust in a game") == (1, 2, 1)
    fit, topics = profile.fit("A C++ compiler", "")
    assert topics == {"compilers": 6, "languages": 3}
    assert fit > profile.fit("A Rust tutorial", "")[0] > profile.fit("A game", "")[0] == 0
