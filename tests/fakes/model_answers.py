"""Answers the fake OpenAI server gives: relevance scores, summaries, an edition's title and intro.

Tests hand these to `tests.fakes.openai_server.FakeOpenAI` as its answering function.
"""

from __future__ import annotations

import json

from tests.fakes.openai_server import ChatAnswer, ChatRequest


def relevance_answer(request: ChatRequest) -> ChatAnswer:
    """Score every candidate: agents and injection posts high, anything else low."""
    listing = json.loads(request.user.split("\n", 1)[1].rsplit("\n", 1)[0])
    scores = [
        {"id": c["id"], "score": 9 if "agent" in c["title"].lower() else 2, "reason": "agents"}
        for c in listing
    ]
    return ChatAnswer.json(
        {"scores": scores}, prompt_tokens=50 * len(listing), completion_tokens=10
    )


def demo_answer(request: ChatRequest) -> ChatAnswer:
    """Answer every purpose of the demo: relevance, the edition's intro, item summaries."""
    assert request.response_format is not None
    purpose = request.response_format["json_schema"]["name"]
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
