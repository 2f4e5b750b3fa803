"""The offline writer: summaries that lead with the contribution, and no junk.

Every source here is invented for the rule it checks. `tests.writing` is the junk validator:
its patterns are written apart from the writer's own screening.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime

from bot.domain import Difficulty, Item, ItemSummary, Sighting, SourceLabel
from bot.edition.compose import offline_title_and_intro
from bot.edition.profile import load_profile
from bot.edition.select import score
from bot.edition.sentences import third_person
from bot.edition.summarize import OfflineSummarizer, readable_sentences
from tests.builders import IN_WEEK, item
from tests.writing import junk_count, junk_in, near_verbatim, sentences

PROFILE = load_profile()

ABSTRACT = (
    "Large language models (LLMs) have shown remarkable capabilities across many tasks. "
    "Retrieval-augmented agents have attracted increasing attention in recent years. "
    "Prior work on agent memory relies on fixed windows and hand-written summaries. "
    "How can an agent remember what matters across a long session? "
    "In this paper, we propose Ledgerline, a memory layer for tool-using agents that stores "
    "each tool result as a typed record and retrieves records by the task at hand. "
    "We find that typed records make retrieval errors far easier to debug than free-text notes. "
    "On a suite of 40 long-horizon tasks, Ledgerline cuts token usage by 37% and raises task "
    "success from 52.1% to 68.4% compared with a sliding window baseline. "
    "Furthermore, we show that the gains hold across three model families and two harnesses. "
    "Our analysis reveals that most remaining failures come from stale records rather than "
    "from retrieval itself. "
    "We release the code and the task suite."
)
POST = (
    "Exciting news! My book on shipping agents is done and shipping soon. Order on the "
    "publisher's site (https://books.example/agents) or wherever you buy books.\n\n"
    "The Orbit team rolled out version 2 of its open evaluation harness this week, and the "
    "release changes how agent benchmarks are scored. Scores now come from replayed "
    "execution traces instead of final answers alone, so a lucky guess no longer passes. "
    "According to the release notes, the new scorer flagged 14% of previously passing runs "
    "as unsafe.\n\n"
    "I think this is the most useful change they have made all year.\n\n"
    "Chapters:\n00:00 Welcome\n12:47 Why traces beat answers\n"
    "- faster scoring\n- fewer false passes\n\n"
    "This post is sponsored by Acme Vector DB.\n\n"
    "Transcript\n\n"
    "00:00:04 Host: Welcome back, today we talk about scoring agents at 35:01 and more.\n\n"
    "Tags: evals (https://blog.example/tags/evals), agents (https://blog.example/tags/agents)"
)


def paper(summary: str, title: str = "Ledgerline: Typed Memory for Tool-Using Agents") -> Item:
    return item(
        Sighting(
            source=SourceLabel.ARXIV,
            url="https://arxiv.org/abs/2605.00417",
            title=title,
            summary=summary,
            published_at=IN_WEEK,
            arxiv_id="2605.00417",
        )
    )


def feed_post(summary: str, title: str = "A better way to score agents", n: int = 1) -> Item:
    return item(
        Sighting(
            source=SourceLabel.feed("example"),
            url=f"https://blog.example/posts/{n}",
            title=title,
            summary=summary,
            published_at=datetime(2026, 4, 8, tzinfo=UTC),
        ),
        n,
    )


async def summary_of(source: Item) -> ItemSummary:
    return await OfflineSummarizer(PROFILE).summarize(source)


def seed_shaped(summary: ItemSummary) -> bool:
    return (
        2 <= len(sentences(summary.why)) <= 4
        and len(summary.takeaways) == 3
        and all(len(sentences(t)) == 1 for t in summary.takeaways)
    )


# -- the validator -----------------------------------------------------------------------


def test_the_validator_names_each_kind_of_junk() -> None:
    examples = {
        "question": "Can a small model really plan a whole software project?",
        "first person": "We show that the harness matters more than the model.",
        "background": "Prior work has mostly studied single-turn prompts.",
        "tag list": "Threads it touches: security.",
        "timestamp": "The key argument comes at 35:01 in the episode.",
        "list debris": "The release includes three new features:.",
        "truncated": "The team details new safety classifiers in their.",
        "url": "The code lives at https://code.example/repo for now.",
        "markdown": "The **main** result is a faster scorer for agents.",
    }
    for name, sentence in examples.items():
        assert name in junk_in(sentence), (name, sentence)
    assert junk_in("This paper proposes a typed memory layer for agents.") == []
    assert junk_count("Fine.", ["The authors say so."])["the authors in a takeaway"] == 1


def test_near_verbatim_tells_a_copy_from_a_trimmed_recast() -> None:
    source = "In this paper, we propose Ledgerline, a memory layer for tool-using agents that "
    source += "stores each tool result as a typed record and retrieves records by the task."
    assert near_verbatim(
        "The authors propose Ledgerline, a memory layer for tool-using agents "
        "that stores each tool result as a typed record and retrieves records "
        "by the task.",
        source,
    )
    assert not near_verbatim("This paper proposes Ledgerline, a memory layer for agents.", source)


# -- papers ------------------------------------------------------------------------------


async def test_a_paper_summary_leads_with_the_contribution_then_a_figure_then_its_readers() -> None:
    summary = await summary_of(paper(ABSTRACT))
    parts = sentences(summary.why)
    assert parts[0].startswith("This paper proposes Ledgerline")
    assert any("37%" in part or "52.1%" in part for part in parts[1:-1])
    assert re.search(r"\b(teams|engineers|anyone)\b", parts[-1])
    assert "agents" in parts[-1] or "memory" in parts[-1]
    assert seed_shaped(summary)
    assert sum(junk_count(summary.why, summary.takeaways).values()) == 0


async def test_background_questions_and_first_person_never_become_summary_or_takeaway() -> None:
    summary = await summary_of(paper(ABSTRACT))
    written = " ".join([summary.why, *summary.takeaways])
    assert "remarkable capabilities" not in written
    assert "attracted" not in written
    assert "Prior work" not in written
    assert "?" not in written
    assert not re.search(r"\b(we|our|We|Our|I)\b", written)
    assert not any("the authors" in t.lower() for t in summary.takeaways)


async def test_takeaways_are_three_distinct_lessons_not_repeating_the_summary() -> None:
    summary = await summary_of(paper(ABSTRACT))
    assert len(set(summary.takeaways)) == 3
    assert all(len(t) <= 220 for t in summary.takeaways)
    for takeaway in summary.takeaways:
        assert not near_verbatim(takeaway, summary.why, threshold=0.5)
    # A finding is stated as the lesson itself, without "the paper finds that".
    assert any(t.startswith("Typed records make retrieval errors") for t in summary.takeaways)


async def test_figures_are_quoted_exactly_and_nothing_is_invented() -> None:
    summary = await summary_of(paper(ABSTRACT))
    for figure in re.findall(r"\d[\d.,]*%?", " ".join([summary.why, *summary.takeaways])):
        assert figure.rstrip(".,") in ABSTRACT


async def test_the_summary_recasts_rather_than_copies_source_sentences() -> None:
    summary = await summary_of(paper(ABSTRACT))
    copied = [s for s in sentences(summary.why) if near_verbatim(s, ABSTRACT)]
    assert len(copied) <= 1, copied


# -- posts -------------------------------------------------------------------------------


async def test_a_post_uses_its_lede_not_the_plug_the_chapters_or_the_transcript() -> None:
    summary = await summary_of(feed_post(POST))
    written = " ".join([summary.why, *summary.takeaways])
    assert summary.why.startswith("The Orbit team rolled out version 2")
    for filler in ("book", "Order on", "sponsored", "Welcome", "35:01", "Tags", "http"):
        assert filler not in written, filler
    assert "14%" in written
    assert seed_shaped(summary)
    assert sum(junk_count(summary.why, summary.takeaways).values()) == 0


async def test_a_source_with_one_sentence_still_gets_three_honest_takeaways() -> None:
    terse = feed_post("Short note on agents and tool use in production systems today.")
    summary = await summary_of(terse)
    assert len(summary.takeaways) == 3
    assert seed_shaped(summary)
    assert sum(junk_count(summary.why, summary.takeaways).values()) == 0


async def test_closing_sentences_vary_across_items() -> None:
    closers = set()
    for n, title in enumerate(
        ["Scoring agents by traces", "Cheaper inference", "Guardrails in practice", "RAG evals"]
    ):
        summary = await summary_of(feed_post(POST, title=title, n=n + 1))
        closers.add(sentences(summary.why)[-1].split()[0])
    assert len(closers) >= 2


# -- difficulty --------------------------------------------------------------------------


async def test_difficulty_follows_the_content_not_the_kind() -> None:
    theory = (
        "We prove a regret bound for online preference optimization. The theorem gives "
        "convergence under a formal smoothness assumption, and a matching lower bound shows "
        "the rate is optimal. The proof uses a variational argument."
    )
    guide = (
        "This guide walks through setting up an evaluation harness step by step. It covers "
        "installing the tools, writing a first test case and reading the report. "
        "Each step has a short example you can copy."
    )
    assert (await summary_of(paper(theory))).difficulty is Difficulty.ADVANCED
    assert (await summary_of(feed_post(theory))).difficulty is Difficulty.ADVANCED
    assert (await summary_of(paper(guide))).difficulty is Difficulty.ACCESSIBLE
    assert (await summary_of(paper(ABSTRACT))).difficulty is Difficulty.INTERMEDIATE


# -- sentences ---------------------------------------------------------------------------


def test_sentences_lose_links_and_junk_and_papers_are_reported_in_third_person() -> None:
    text = (
        "See the release (https://github.com/x/y) for all the details you need today. "
        'Run curl -H "Authorization: Bearer $(llm keys get openai)" \\ to try it now. '
        "34:58 Distillation and the debate on it.\n"
        "A heading without a full stop"
    )
    assert readable_sentences(text) == ["See the release for all the details you need today."]
    assert (
        third_person("We propose X and our results show it.", "This paper")
        == "This paper proposes X and the results show it."
    )


# -- title and intro ---------------------------------------------------------------------


def test_the_offline_title_is_two_short_clauses_and_the_intro_has_concrete_hooks() -> None:
    items = [
        paper(ABSTRACT),
        feed_post(POST, n=2),
        feed_post(
            "OpenAI and Anthropic both changed how their agents call tools this week. "
            "Anthropic now asks for confirmation before any write action in the agent loop.",
            title="Tool calling changes at two labs",
            n=3,
        ),
    ]
    chosen = [score(i, PROFILE, IN_WEEK) for i in items]
    title, intro = offline_title_and_intro(PROFILE, chosen)
    clauses = title.split(", ")
    assert len(clauses) == 2
    assert all(1 <= len(clause.split()) <= 4 for clause in clauses)
    parts = sentences(intro)
    assert 2 <= len(parts) <= 4
    assert "37%" in intro or "14%" in intro or "Anthropic" in intro
    assert Counter(junk for part in parts for junk in junk_in(part)) == Counter()


def test_the_intros_figure_keeps_what_a_comparative_compares() -> None:
    # "reports 2.5x higher." read as a sentence cut short on the demo.
    bare = feed_post("The new cache gives 2.5x higher. Teams should try it.", title="Cache", n=4)
    full = feed_post("The new cache gives 2.5x higher throughput on long prompts.", title="Kv", n=5)
    for items, expected in (([bare], None), ([full], "2.5x higher throughput")):
        _, intro = offline_title_and_intro(PROFILE, [score(i, PROFILE, IN_WEEK) for i in items])
        assert "higher." not in intro
        if expected:
            assert expected in intro
