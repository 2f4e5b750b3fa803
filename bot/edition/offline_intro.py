"""The offline edition title and intro, from the week's topics, organisations and figures.

The title joins the clauses of the two strongest threads ("Agents Get to Work, Evaluation
Gets Rigorous"), each at most four words. The intro names the week's threads and adds
concrete hooks taken from the items themselves: a headline figure ("reports 29% fewer
tokens") and the organisations several items mention. Nothing is said that the items do not.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from bot.edition.profile import EditorialProfile
from bot.edition.select import Choice
from bot.edition.sentences import clean_paragraphs, source_sentences

MAX_CLAUSE_WORDS = 4
_FALLBACK_CLAUSES = ("LLM Engineering Moves", "Practice Catches Up")
# How a thread reads in running text; a topic the profile adds later reads as its name.
_THREAD = {
    "agents": "agents",
    "evaluation": "evaluation",
    "security": "security",
    "retrieval": "retrieval",
    "inference": "inference cost",
    "training": "post-training",
    "reasoning": "reasoning",
    "coding": "coding tools",
    "context": "long context",
    "multimodal": "multimodal models",
    "models": "new models",
}
# Organisations readers recognise; an item that names one is a concrete hook for the intro.
_ORGANISATIONS = (
    "OpenAI",
    "Anthropic",
    "Google",
    "DeepMind",
    "Meta",
    "Microsoft",
    "Nvidia",
    "NVIDIA",
    "Apple",
    "Amazon",
    "Hugging Face",
    "Mistral",
    "DeepSeek",
    "Alibaba",
    "Cohere",
    "xAI",
    "IBM",
)
_FIGURE_SPAN = re.compile(
    r"(?:(?:a|an)\s+)?(?<![\w.-])(?:\$?\d[\d,]*(?:\.\d+)?\s?(?:%|×|x\b|-fold)"
    r"(?:\s(?:to|and)\s\$?\d[\d,]*(?:\.\d+)?\s?(?:%|×|x\b))?|"
    r"(?:two|three|four|five|ten)[- ]orders?[- ]of[- ]magnitude)"
    r"\s+(?:\w+\s+){0,1}(?:"
    r"(?:gains?|reductions?|improvements?|speed-?ups?|savings|increases?|decreases?|drops?"
    r"|boosts?)(?:\s+(?:in|on|of)\s+[\w-]+)?"
    # A comparative needs what it compares ("2.5x higher throughput"): "2.5x higher." alone
    # reads as a sentence cut short.
    r"|(?:fewer|faster|higher|lower|less|more|cheaper|smaller)\s+(?:than\s+)?[a-z][\w-]*"
    r")"
)
# "cuts token usage by 37%": the verb agrees with the item's own subject, so it reads after
# the item's title unchanged.
_CHANGE_SPAN = re.compile(
    r"\b(?:cuts|reduces|improves|raises|lowers|boosts|increases|speeds up|shrinks)\s+"
    r"(?:[\w-]+\s+){0,3}by\s+\$?\d[\d,]*(?:\.\d+)?\s?(?:%|×|x\b)"
)


def _thread(name: str) -> str:
    return _THREAD.get(name, name.replace("-", " "))


def _short(title: str) -> str:
    head = title.split(":", 1)[0].strip()
    return head if len(head.split()) <= 8 else " ".join(head.split()[:8]) + "…"


def _joined(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _figure_hook(chosen: Sequence[Choice]) -> str | None:
    """Return a sentence quoting one item's headline figure exactly as the item states it."""
    for choice in chosen:
        for sentence in source_sentences(choice.item.content.summary):
            change = _CHANGE_SPAN.search(sentence)
            if change is not None:
                return f"“{_short(choice.item.content.title)}” {change.group(0)}."
            match = _FIGURE_SPAN.search(sentence)
            if match is not None:
                span = match.group(0).strip().rstrip(",;")
                if span[0].isalpha() and not span.startswith(("a ", "an ")):
                    span = f"a {span}"
                return f"“{_short(choice.item.content.title)}” reports {span}."
    return None


def _organisation_hook(chosen: Sequence[Choice]) -> str | None:
    """Return a sentence naming the organisations that several of the week's items mention."""
    mentions: Counter[str] = Counter()
    for choice in chosen:
        text = (
            f"{choice.item.content.title} {' '.join(clean_paragraphs(choice.item.content.summary))}"
        )
        for name in dict.fromkeys(o for o in _ORGANISATIONS if re.search(rf"\b{o}\b", text)):
            mentions[name.title() if name == "NVIDIA" else name] += 1
    if not mentions:
        return None
    most = mentions.most_common(1)[0][1]
    names = [name for name, count in mentions.most_common(3) if count >= min(2, most)]
    verb = "turns up" if len(names) == 1 else "turn up"
    many = f"{most} of the items" if most > 1 else "one of the items"
    return f"{_joined(names)} {verb} in {many}."


def title_and_intro(profile: EditorialProfile, chosen: Sequence[Choice]) -> tuple[str, str]:
    """Write an edition title (two short clauses) and a 2-4 sentence intro with hooks."""
    weights = {topic.name: topic.weight for topic in profile.topics}
    weight: dict[str, float] = {}
    for choice in chosen:
        for topic, hits in choice.topics.most_common(2):
            weight[topic] = weight.get(topic, 0.0) + weights[topic] * hits * (1 + choice.score)
    top = sorted(weight, key=lambda name: (-weight[name], name))[:3]
    clauses = [
        clause
        for clause in (profile.clause(name) for name in top)
        if len(clause.split()) <= MAX_CLAUSE_WORDS
    ][:2]
    clauses += [c for c in _FALLBACK_CLAUSES if c not in clauses][: 2 - len(clauses)]
    title = ", ".join(clauses)

    threads = [_thread(name) for name in top]
    first = (
        f"This week's {len(chosen)} picks follow {_joined(threads)}."
        if threads
        else f"This week's {len(chosen)} picks cover the practice of building with LLMs."
    )
    sentences = [first]
    sentences += [hook for hook in (_figure_hook(chosen), _organisation_hook(chosen)) if hook]
    if len(sentences) < 2 and chosen:
        sentences.append(f"Start with “{_short(chosen[0].item.content.title)}”.")
    return title, " ".join(sentences[:4])
