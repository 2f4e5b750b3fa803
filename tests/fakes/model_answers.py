"""Answers the fake OpenAI server gives: relevance scores, summaries, an edition's title and intro.

Tests hand these to `tests.fakes.openai_server.FakeOpenAI` as its answering function.
"""

from __future__ import annotations

import json

from tests.fakes.openai_server import ChatAnswer, ChatRequest

REASONS = (
    "Agent evaluation with traces and audit logs is directly useful to teams shipping agents.",
    "Interesting, but it is far from what an engineer building with language models does.",
)


def candidates(request: ChatRequest) -> list[dict[str, str | int]]:
    """Return the candidates listed in a ranking request."""
    listing: list[dict[str, str | int]] = json.loads(
        request.user.split("<candidates>\n", 1)[1].split("\n</candidates>", 1)[0]
    )
    return listing


def relevance_answer(request: ChatRequest) -> ChatAnswer:
    """Score every candidate with a reason of realistic length: agents high, the rest low."""
    scores = [
        {"id": c["id"], "score": 9, "reason": REASONS[0]}
        if "agent" in str(c["title"]).lower()
        else {"id": c["id"], "score": 2, "reason": REASONS[1]}
        for c in candidates(request)
    ]
    return ChatAnswer.json({"scores": scores})


def demo_answer(request: ChatRequest) -> ChatAnswer:
    """Answer every purpose of the demo: relevance, the edition's intro, item summaries."""
    purpose = request.purpose
    if purpose == "relevance":
        return relevance_answer(request)
    if purpose == "edition_intro":
        intro = (
            "This week is about agents and the models behind them. Models get audited. "
            "Each item says why it matters."
        )
        return ChatAnswer.json({"title": "Agents Get Audited, Models Get Faster", "intro": intro})
    return ChatAnswer.json(
        {
            "why": "This is worth reading for teams that build with language models. "
            "It explains what changes in practice.",
            "difficulty": "accessible",
            "takeaways": [
                "Read the source before adopting the approach.",
                "Measure the effect on your own workload first.",
                "Share the findings with the rest of your team.",
            ],
        }
    )
