"""Summaries: why an item matters, its difficulty and three takeaways.

`OfflineSummarizer` needs no key. It only selects and recasts the source's own sentences
(bot.edition.sentences): it leads with what the work does, adds a result with a figure when
the source has one, and closes with who should read it (bot.edition.audience); three other
sentences become takeaways, and the level comes from the content (bot.edition.difficulty).
Background, related work, questions, first person, lists, links and promotions never make it
in. `CachedSummarizer` keeps every summary by (content hash, prompt version, model), so
composing the same items again costs nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from bot.domain import Item, ItemKind, ItemSummary
from bot.edition.audience import audience_sentence, strongest_topics
from bot.edition.difficulty import difficulty_of_text
from bot.edition.ports import Summarizer, SummaryCache
from bot.edition.profile import EditorialProfile
from bot.edition.sentences import (
    clean_paragraphs,
    is_usable,
    overlap,
    source_sentences,
    split_appositive,
    third_person,
    trimmed,
    without_framing,
)
from bot.ports import Clock

OFFLINE_MODEL = "offline-extractive"
MAX_WHY = 600
MAX_TAKEAWAY = 220
_TAKEAWAY_TARGET = 170
_SAME = 0.5  # sentences sharing more than half their words say the same thing

_CONTRIBUTION = re.compile(
    r"\b(?:[Ww]e|[Tt]his (?:paper|work|study|article|report|post)|[Tt]he authors?|[Hh]ere)\b"
    r"(?:\s+\w+ly)?\s+(?:propose|introduce|present|develop|design|build|release|describe|"
    r"study|analy[sz]e|examine|investigate|explore|construct|discuss|report|evaluate|"
    r"measure|benchmark|demonstrate|show|find)\w*",
)
_FINDING = re.compile(
    r"^(?:[Ww]e|[Tt]hey)\s+(?:also\s+|further\s+)?(?:find|found|show|showed|observe|observed|"
    r"demonstrate|demonstrated|discover|discovered|confirm|confirmed|reveal|revealed)\s+that\s+"
)
_RESULT = re.compile(
    r"\b(?:outperform\w*|improv\w*|reduc\w*|achiev\w*|speed\w*|faster|cheaper|surpass\w*|"
    r"gains?|higher|lower|fewer|accuracy|scal\w+|cut\w*|boost\w*|awarded|saves?)\b",
    re.IGNORECASE,
)
_FIGURE = re.compile(
    r"(?<![\w.-])\$?\d[\d,]*(?:\.\d+)?(?:\s?(?:%|×|x\b|-fold|times\b|[MBK]\b)|(?![\w-]))"
    r"|\b(?:two|three|four|five|ten|several)[- ]orders?[- ]of[- ]magnitude\b",
)
_BACK_REFERENCE = re.compile(r"^(?:This|These|That|Those|It|They|Such|He|She|Most|Both)\b")
_STRONG_FIGURE = re.compile(r"%|×|\$\d|\d\s?x\b|-fold|orders?[- ]of[- ]magnitude")


def readable_sentences(text: str) -> list[str]:
    """Return a source's readable sentences (links, markup and fragments dropped)."""
    return source_sentences(text)


def has_figure(sentence: str) -> bool:
    """Return whether a sentence carries a concrete figure (a number, a percentage, a cost).

    A bare number right after a capitalised word is a name's version or a date ("Claude
    4.5", "August 8"), not a result.
    """
    for match in _FIGURE.finditer(sentence):
        figure = match.group(0)
        before = sentence[: match.start()].split()
        named = bool(before) and before[-1][:1].isupper() and not before[-1].endswith(",")
        unit = _STRONG_FIGURE.search(figure) or re.search(r"[MBK]$|times$", figure)
        if (unit or not named) and not re.fullmatch(r"(?:19|20)\d\d", figure):
            return True
    return False


def as_lesson(sentence: str) -> str:
    """Turn "We find that X" into the finding X itself: the lesson, without the finder."""
    stripped = _FINDING.sub("", sentence)
    return stripped[0].upper() + stripped[1:] if stripped != sentence else sentence


@dataclass(frozen=True, slots=True)
class _Candidate:
    position: int
    original: str
    contribution: bool
    figure: bool
    strong: bool
    topical: float


class OfflineSummarizer:
    """Summaries selected and recast from the source against the editorial profile.

    Deterministic and offline: the same item and profile always give the same summary.
    """

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

    def _candidates(self, item: Item) -> tuple[list[_Candidate], str | None]:
        """Return the sentences that may be used, and the problem statement of a paper."""
        sentences = source_sentences(item.content.summary)
        title_words = item.content.title
        sentences = [s for s in sentences if overlap(s, title_words) < 0.8]
        hf_summary = str(item.content.data.get("hf_summary") or "")
        sentences += [s for s in source_sentences(hf_summary) if s not in sentences]
        problem = None
        if item.content.kind is ItemKind.PAPER:
            first = next((n for n, s in enumerate(sentences) if _CONTRIBUTION.search(s)), None)
            if first is not None:
                # An abstract's sentences before "we propose" are background and motivation;
                # the one just before states the problem, which can still teach something.
                problem = sentences[first - 1] if first else None
                sentences = sentences[first:]
        candidates = [
            _Candidate(
                position=n,
                original=s,
                contribution=bool(_CONTRIBUTION.search(s)),
                figure=has_figure(s),
                strong=bool(_STRONG_FIGURE.search(s)),
                topical=float(min(3, sum(self._profile.topic_hits(s).values()))),
            )
            for n, s in enumerate(sentences)
        ]
        return candidates, problem

    async def summarize(self, item: Item, note: str = "") -> ItemSummary:
        """Return an offline summary of ``item``: lead, result, audience, three takeaways.

        ``note`` (an editor's guidance) cannot steer sentence selection: it is accepted so
        that a rewrite works offline too, and re-derives the summary from the source.
        """
        paper = item.content.kind is ItemKind.PAPER
        candidates, problem = self._candidates(item)

        def recast(sentence: str, subject: str, target: int = 200) -> str:
            # Papers speak as "we"; a digest reports them. Posts keep their author's voice,
            # so their first-person sentences are left out rather than rewritten.
            framed = without_framing(sentence)
            return trimmed(third_person(framed, subject) if paper else framed, target)

        usable = [c for c in candidates if is_usable(recast(c.original, "It", 200))]
        lead = next((c for c in usable if c.contribution), None) if paper else None
        lead = lead or (usable[0] if usable else None)
        why_parts = [recast(lead.original, "This paper", 200)] if lead else []
        rest = [c for c in usable if c is not lead]
        split = split_appositive(why_parts[0]) if why_parts else None
        if lead is not None and split is not None:
            # What the thing does becomes a takeaway; the summary only introduces it.
            why_parts[0] = split[0]
            rest.append(replace(lead, original=split[1], contribution=False))
        results = sorted(
            (c for c in rest if c.figure),
            key=lambda c: (-(2 * c.strong + bool(_RESULT.search(c.original))), c.position),
        )
        second = results[0] if results else None
        if second is None and len(rest) >= 4:
            second = max(rest, key=lambda c: (c.topical + 2 * c.contribution, -c.position))
        if second is not None:
            sentence = recast(second.original, "It", 170)
            if len(" ".join([*why_parts, sentence])) <= MAX_WHY - 120:
                why_parts.append(sentence)
                rest.remove(second)
        text = " ".join(clean_paragraphs(item.content.summary))
        why_parts.append(audience_sentence(self._profile, item.content.title, text))
        if len(why_parts) < 2:
            why_parts.insert(0, self._fallback_why(item))

        takeaways = self._takeaways(item, rest, problem, why_parts, recast)
        return ItemSummary(
            why=" ".join(why_parts),
            difficulty=difficulty_of_text(item.content.title, text),
            takeaways=tuple(takeaways),
            model=self.model,
            prompt_version=self.prompt_version,
            offline=True,
        )

    def _takeaways(
        self,
        item: Item,
        rest: list[_Candidate],
        problem: str | None,
        why_parts: list[str],
        recast: Callable[[str, str, int], str],
    ) -> list[str]:
        """Pick three distinct one-sentence lessons not already said in the summary."""
        options: list[tuple[float, int, str]] = []
        pool = [(c.position, c.original, c.figure, c.topical) for c in rest]
        if problem is not None:
            pool.append((-1, problem, has_figure(problem), 0.0))
        for position, original, figure, topical in pool:
            finding = as_lesson(without_framing(original))
            sentence = recast(finding, "The paper", _TAKEAWAY_TARGET)
            if (
                not is_usable(sentence)
                or "the authors" in sentence.lower()
                or len(sentence) > MAX_TAKEAWAY
            ):
                continue
            value = 2.0 * (finding != original) + 1.5 * figure + 0.5 * topical
            value += 1.0 if 60 <= len(sentence) <= _TAKEAWAY_TARGET else 0.0
            value -= 0.5 if position < 0 else 0.0
            # "This…", "Most days…" lean on a sentence the reader will not see.
            value -= 1.0 if _BACK_REFERENCE.match(sentence) else 0.0
            options.append((value, position, sentence))
        chosen: list[tuple[int, str]] = []
        for _, position, sentence in sorted(options, key=lambda o: (-o[0], o[1])):
            said = [*why_parts, *(s for _, s in chosen)]
            if all(overlap(sentence, other) <= _SAME for other in said):
                chosen.append((position, sentence))
            if len(chosen) == 3:
                break
        takeaways = [sentence for _, sentence in sorted(chosen)]
        return [*takeaways, *self._fallback_takeaways(item)][:3]

    def _fallback_why(self, item: Item) -> str:
        kind = item.content.kind.value
        topics = strongest_topics(self._profile, item.content.title, item.content.summary)
        about = f" on {' and '.join(topics)}" if topics else ""
        return f"A {kind}{about} picked for this week's edition."

    def _fallback_takeaways(self, item: Item) -> list[str]:
        """Return honest filler when the source has too few usable sentences for three."""
        kind = item.content.kind.value
        return [
            f"The full {kind} has the details and caveats this summary leaves out.",
            "Any figure quoted here is worth checking against the source before reuse.",
            f"Reading the {kind} itself is the way to judge whether it applies to your system.",
        ]


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

    async def summarize(self, item: Item, note: str = "") -> ItemSummary:
        """Return the kept summary of ``item``, or write and keep a new one.

        With an editor's ``note`` (a rewrite) the cache is bypassed both ways: the point is a
        new summary, and one written for a note is not the item's general summary.
        """
        if note.strip():
            return await self._inner.summarize(item, note)
        key = item.content.content_hash
        kept = await self._cache.cached_summary(key, self._inner.prompt_version, self._inner.model)
        if kept is not None:
            self.reused += 1
            return kept
        summary = await self._inner.summarize(item)
        await self._cache.save_summary(key, summary, self._clock.now())
        self.fresh += 1
        return summary
