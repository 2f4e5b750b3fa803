"""Scoring a week's candidates against each other (bot.edition.select and the profile's fields).

Invented papers only: what a reader notices is which of two candidates comes first.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from bot.domain import Item, Sighting, SourceLabel
from bot.edition.profile import load_profile
from bot.edition.select import Choice, Taste, choose, recency, score, score_week, standing
from tests.builders import item

PROFILE = load_profile()
WEEK_END = datetime(2026, 4, 14, tzinfo=UTC)
"""The end of the week of the edition dated Monday 2026-04-13 (its midnight)."""


def paper(n: int, title: str, summary: str, upvotes: int = 10) -> Item:
    sighting = Sighting(
        source=SourceLabel.HF,
        url=f"https://example.org/papers/{n}",
        title=title,
        summary=summary,
        published_at=datetime(2026, 4, 8, tzinfo=UTC),
        data={"upvotes": upvotes},
    )
    return replace(item(sighting, item_id=n), source_date=date(2026, 4, 8))


AGENT_EVAL = paper(
    1,
    "Auditing Tool-Calling Agents: A Benchmark of Prompt Injection in Coding Assistants",
    "We evaluate coding agents on a benchmark of prompt injection attacks through tool calls "
    "and release the harness.",
)
ROBOT_EVAL = paper(
    2,
    "A Benchmark for Robot Manipulation in Embodied Household Scenes",
    "We evaluate embodied robot agents on manipulation tasks in 3d household scenes.",
)


def test_a_robotics_benchmark_fits_less_than_an_agent_benchmark() -> None:
    agents = PROFILE.fit(AGENT_EVAL.content.title, AGENT_EVAL.content.summary)[0]
    robots = PROFILE.fit(ROBOT_EVAL.content.title, ROBOT_EVAL.content.summary)[0]
    assert agents > 0.8
    assert robots < agents / 2


def test_an_item_only_about_a_field_ranked_low_fits_zero_and_is_left_out() -> None:
    detection = PROFILE.fit(
        "Scaling Promptable 3D Object Detection", "A benchmark of 3d object detection in scenes."
    )[0]
    assert detection == 0.0


def test_the_profile_reads_its_rank_low_table() -> None:
    assert {field.name for field in PROFILE.rank_low} >= {"robotics", "graphics"}
    assert all(field.weight > 0 for field in PROFILE.rank_low)


def test_every_day_of_the_week_is_equally_fresh_and_late_arrivals_fade() -> None:
    tuesday = replace(AGENT_EVAL, source_date=date(2026, 4, 7))
    monday = replace(AGENT_EVAL, source_date=date(2026, 4, 13))
    late = replace(AGENT_EVAL, source_date=date(2026, 4, 1))
    old = replace(AGENT_EVAL, source_date=date(2026, 3, 1))
    assert recency(tuesday, WEEK_END) == recency(monday, WEEK_END) == 1.0
    assert 0 < recency(late, WEEK_END) < 1.0
    assert recency(old, WEEK_END) == 0.0


def test_standing_places_values_from_zero_to_one_and_ties_share_a_place() -> None:
    assert standing([0.2, 0.9, 0.5]) == [0.0, 1.0, 0.5]
    assert standing([1.0, 1.0, 0.0]) == [0.75, 0.75, 0.0]
    assert standing([0.3]) == [1.0]
    assert standing([]) == []


def test_a_crowd_favourite_of_a_narrow_field_does_not_outrank_the_week_best_fit() -> None:
    favourite = paper(
        3,
        "Text-to-Video Generation with Agents Planning Each Shot",
        "An agent plans shots for video generation and image generation of each scene.",
        upvotes=900,
    )
    week = [
        favourite,
        AGENT_EVAL,
        *(paper(10 + n, f"Notes {n}", "language models") for n in range(5)),
    ]
    ranked = score_week(week, PROFILE, WEEK_END)
    assert ranked[0].item.id == AGENT_EVAL.id
    assert [c.item.id for c in ranked].index(favourite.id) > 0


def test_the_learned_taste_reorders_candidates_the_profile_finds_alike() -> None:
    twin_a = paper(4, "Agents that call tools: a benchmark", "Agents call tools in a benchmark.")
    twin_b = paper(5, "Agents calling tools: an evaluation", "Agents call tools in an evaluation.")
    week = [twin_a, twin_b]
    plain = score_week(week, PROFILE, WEEK_END)
    tastes = {twin_a.id: Taste(0.1, 0.6), twin_b.id: Taste(0.9, 0.6)}
    learned = score_week(week, PROFILE, WEEK_END, tastes=tastes)
    assert learned[0].item.id == twin_b.id
    assert {c.item.id for c in plain} == {c.item.id for c in learned}


def test_the_model_fit_replaces_the_offline_standing_where_the_model_ranked() -> None:
    week = [AGENT_EVAL, ROBOT_EVAL]
    offline = score_week(week, PROFILE, WEEK_END)
    assert offline[0].item.id == AGENT_EVAL.id
    fits = {ROBOT_EVAL.id: (1.0, "the team builds robots"), AGENT_EVAL.id: (0.1, "off topic")}
    by_model = score_week(week, PROFILE, WEEK_END, model_fits=fits)
    assert by_model[0].item.id == ROBOT_EVAL.id
    assert by_model[0].reason.startswith("LLM fit 1.0")


def test_a_single_score_keeps_the_profile_fit_beside_the_blended_one() -> None:
    plain = score(AGENT_EVAL, PROFILE, WEEK_END)
    liked = score(AGENT_EVAL, PROFILE, WEEK_END, taste=Taste(0.0, 0.5))
    assert plain.profile_fit == liked.profile_fit == plain.fit
    assert liked.fit < plain.fit


def test_an_edition_skips_a_near_copy_of_a_chosen_paper_for_good_work_close_behind() -> None:
    benchmark = "A benchmark of office agents in simulated mail, calendar and document workspaces"
    first = paper(11, "OfficeBench: agents in simulated workspaces", benchmark)
    near_copy = paper(12, "OfficeBench-2: more agents in simulated workspaces", benchmark)
    other = paper(13, "Caching prompts across tenants", "Prefix caching cuts serving cost.")
    ranked = [Choice(first, 0.90, 0.9), Choice(near_copy, 0.89, 0.9), Choice(other, 0.84, 0.9)]

    assert [c.item.id for c in choose(ranked, 2)] == [11, 13]
    # By score alone the near copy would have taken the slot.
    assert [c.item.id for c in choose(ranked, 2, diversity=0.0)] == [11, 12]
    # Far behind, different work does not displace the next best.
    far = [*ranked[:2], Choice(other, 0.30, 0.9)]
    assert [c.item.id for c in choose(far, 2)] == [11, 12]
