"""Summaries: why an item matters, its difficulty and three takeaways.

`OfflineSummarizer` needs no key: it picks the source's own sentences that best say what the
item contributes and why an engineer would care, recasts paper voice ("We propose" becomes
"The authors propose"), guesses the difficulty from the text, and draws three takeaways from
the remaining sentences. `CachedSummarizer` keeps every summary by (content hash, prompt
version, model), so composing the same items again costs nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.domain import Difficulty, Item, ItemKind, ItemSummary
from bot.edition.ports import Summarizer, SummaryCache
from bot.edition.profile import EditorialProfile
from bot.ports import Clock

OFFLINE_MODEL = "offline-extractive"

_INLINE_LINK = re.compile(r"\s*\((?:https?://)[^)\s]+\)")
_BARE_LINK = re.compile(r"https?://\S+")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[A-Z0-9\"'(\[])")
_SPACES = re.compile(r"\s+")
_CONTRIBUTION = re.compile(
    r"\b(we|this paper|this work|this post|the authors?)\s+(propose|introduce|present|show|"
    r"demonstrate|find|develop|release|describe|study|build|analy[sz]e)",
    re.IGNORECASE,
)
_RESULT = re.compile(
    r"\b(outperform\w*|improv\w*|reduc\w*|achiev\w*|speed\w*|faster|cheaper|enables?|"
    r"state-of-the-art|surpass\w*|matches|gains?)\b",
    re.IGNORECASE,
)
_THEORY = re.compile(
    r"\b(theorem|lemma|proofs?|prove[sd]?|provabl\w*|bounds?|convergence|asymptotic\w*|"
    r"regret|formal\w*|manifold|variational|stochastic|equation|optimality|lean 4)\b",
    re.IGNORECASE,
)
_PRACTICE = re.compile(
    r"\b(survey|guide|tutorial|introduction|lessons|case study|practical|how to|"
    r"overview|explainer|primer)\b",
    re.IGNORECASE,
)
_VOICE = (
    (re.compile(r"^(In this (paper|work|article),?\s+)?[Ww]e\b"), "The authors"),
    (re.compile(r"\b[Oo]ur\b"), "their"),
    (re.compile(r"(?<=[a-z,]) we\b"), " they"),
    (re.compile(r"\bus\b"), "them"),
)
_CONNECTIVE = re.compile(
    r"^(Furthermore|Moreover|However|Additionally|In addition|Notably|Meanwhile|Finally|Also|"
    r"Specifically|To this end|To address (this|these issues|this gap)|In this (paper|work)),?\s+",
)
_JUNK = re.compile(r"\$\(|\\|^\d{1,2}:\d{2}|[{}<>|]|^[^A-Za-z]*$")
MAX_WHY = 600
MAX_TAKEAWAY = 220


def readable_sentences(text: str) -> list[str]:
    """Split text into clean sentences: links dropped, whitespace collapsed, fragments skipped."""
    text = _BARE_LINK.sub("", _INLINE_LINK.sub("", text))
    sentences = []
    for paragraph in text.split("\n"):
        for raw in _SENTENCE_SPLIT.split(paragraph):
            sentence = _SPACES.sub(" ", raw).strip(" -•*")
            words = sentence.split()
            if len(words) < 6 or len(sentence) > 400 or not sentence[0].isalnum():
                continue
            if not is_readable(sentence):
                continue
            if not sentence.endswith((".", "!", "?")):
                sentence += "."
            sentences.append(sentence)
    return sentences


def is_readable(sentence: str) -> bool:
    """Return whether a sentence is prose: no shell snippets, timestamps or markup."""
    letters = sum(ch.isalpha() or ch == " " for ch in sentence)
    return not _JUNK.search(sentence) and letters >= 0.8 * len(sentence)


def without_connective(sentence: str) -> str:
    """Drop a leading "Furthermore," or "However," that only made sense after its neighbour."""
    trimmed = _CONNECTIVE.sub("", sentence)
    return trimmed[0].upper() + trimmed[1:] if trimmed else sentence


def third_person(sentence: str) -> str:
    """Recast a paper's first person ("We propose") as a digest would report it."""
    for pattern, replacement in _VOICE:
        sentence = pattern.sub(replacement, sentence)
    return sentence[0].upper() + sentence[1:] if sentence else sentence


def clip_sentence(sentence: str, limit: int) -> str:
    """Shorten one sentence at a word boundary, ending it cleanly."""
    if len(sentence) <= limit:
        return sentence
    cut = sentence[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"


def difficulty_of(item: Item) -> Difficulty:
    """Guess how much background an item asks: theory-heavy papers are advanced."""
    text = f"{item.content.title} {item.content.summary[:3000]}"
    theory = len(_THEORY.findall(text))
    practice = len(_PRACTICE.findall(text))
    if item.content.kind is not ItemKind.PAPER:
        return Difficulty.INTERMEDIATE if theory >= 2 else Difficulty.ACCESSIBLE
    if theory >= 3:
        return Difficulty.ADVANCED
    if practice and theory == 0:
        return Difficulty.ACCESSIBLE
    return Difficulty.INTERMEDIATE


class OfflineSummarizer:
    """Extractive summaries against the editorial profile; deterministic, no network."""

    def __init__(self, profile: EditorialProfile) -> None:
        self._profile = profile

    @property
    def model(self) -> str:
        """Summaries made this way are cached under this name."""
        return OFFLINE_MODEL

    @property
    def prompt_version(self) -> str:
        """The profile's version: the sentences chosen depend on it."""
        return self._profile.version

    def _rank(self, sentences: Sequence[str]) -> list[tuple[float, int, str]]:
        ranked = []
        for position, sentence in enumerate(sentences):
            value = float(sum(self._profile.topic_hits(sentence).values()))
            value += 2.0 if _CONTRIBUTION.search(sentence) else 0.0
            value += 1.5 if _RESULT.search(sentence) else 0.0
            value += 1.0 if position == 0 else 0.0
            ranked.append((value, position, sentence))
        return sorted(ranked, key=lambda r: (-r[0], r[1]))

    async def summarize(self, item: Item) -> ItemSummary:
        """Return an extractive summary of ``item``."""
        sentences = readable_sentences(item.content.summary)
        hf_summary = str(item.content.data.get("hf_summary") or "").strip()
        if hf_summary:
            sentences = [*readable_sentences(hf_summary)[:1], *sentences]
        ranked = self._rank(sentences)
        paper = item.content.kind is ItemKind.PAPER

        def voice(sentence: str) -> str:
            # Papers speak as "we"; a digest reports them. Posts keep their author's voice.
            return third_person(sentence) if paper else sentence

        lead = sorted(ranked[:3], key=lambda r: r[1])  # the source's order reads as an argument
        why_parts: list[str] = []
        for _, _, sentence in lead:
            candidate = voice(sentence)
            candidate = without_connective(candidate) if not why_parts else candidate
            if len(" ".join([*why_parts, candidate])) > MAX_WHY and len(why_parts) >= 2:
                break
            why_parts.append(candidate)
        used = {r[2] for r in lead[: len(why_parts)]}
        rest = [without_connective(voice(r[2])) for r in ranked if r[2] not in used]
        # A takeaway is one whole sentence: prefer those that fit without clipping.
        fitting = [s for s in rest if len(s) <= MAX_TAKEAWAY and len(s.split()) >= 8]
        takeaways = (fitting or [clip_sentence(s, MAX_TAKEAWAY) for s in rest])[:3]
        takeaways += self._fallback_takeaways(item, len(takeaways))
        why = " ".join(why_parts) or self._fallback_why(item)
        return ItemSummary(
            why=clip_sentence(why, MAX_WHY),
            difficulty=difficulty_of(item),
            takeaways=tuple(takeaways[:3]),
            model=self.model,
            prompt_version=self.prompt_version,
            offline=True,
        )

    def _fallback_why(self, item: Item) -> str:
        kind = {"paper": "paper", "post": "post", "page": "page"}[item.content.kind.value]
        topics = [name for name, _ in self._profile.topic_hits(item.content.title).most_common(2)]
        about = f" on {' and '.join(topics)}" if topics else ""
        return f"A {kind}{about} picked for this week's edition: {item.content.title}."

    def _fallback_takeaways(self, item: Item, have: int) -> list[str]:
        """Return honest filler when the source has too few sentences for three takeaways."""
        data = item.content.data
        keywords = _strings(data.get("hf_keywords"))
        tags = _strings(data.get("tags"))
        topics = [
            name
            for name, _ in self._profile.topic_hits(
                f"{item.content.title} {item.content.summary}"
            ).most_common(3)
        ]
        options = [
            f"Key terms: {', '.join(keywords[:5])}." if keywords else "",
            f"Tagged: {', '.join(tags[:5])}." if tags else "",
            f"Threads it touches: {', '.join(topics)}." if topics else "",
            f"Read the full {item.content.kind.value} for the details behind the headline.",
            "Worth a skim to see whether it changes how your team builds.",
            "Check the source before relying on any figures quoted elsewhere.",
        ]
        return [option for option in options if option][: max(0, 3 - have)]


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


class CachedSummarizer:
    """Summaries kept by (content hash, prompt version, model): a second compose is free."""

    def __init__(self, inner: Summarizer, cache: SummaryCache, clock: Clock) -> None:
        self._inner = inner
        self._cache = cache
        self._clock = clock
        self.fresh = 0
        self.reused = 0

    @property
    def model(self) -> str:
        """The inner summarizer's model."""
        return self._inner.model

    @property
    def prompt_version(self) -> str:
        """The inner summarizer's prompt version."""
        return self._inner.prompt_version

    async def summarize(self, item: Item) -> ItemSummary:
        """Return the kept summary of ``item``, or write and keep a new one."""
        key = item.content.content_hash
        kept = await self._cache.cached_summary(key, self._inner.prompt_version, self._inner.model)
        if kept is not None:
            self.reused += 1
            return kept
        summary = await self._inner.summarize(item)
        await self._cache.save_summary(key, summary, self._clock.now())
        self.fresh += 1
        return summary
