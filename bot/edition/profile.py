"""The editorial profile: who the digest is for, and the topics it is built around.

The profile is a prompt (prompts/editorial_profile.md) so that the LLM scorer and the offline
scorer read the same text. Its Topics table gives, per topic, a weight, the clause an offline
edition title uses, and the terms that signal it; its optional Rank low table gives fields whose
terms count against an item (a weight and the terms).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import prompts

_ROW = re.compile(r"^\|\s*([a-z-]+)\s*\|\s*([0-9.]+)\s*\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|\s*$")
_LOW_ROW = re.compile(r"^\|\s*([a-z-]+)\s*\|\s*([0-9.]+)\s*\|\s*([^|]+?)\s*\|\s*$")


@dataclass(frozen=True, slots=True)
class Topic:
    """One editorial thread: its name, weight, title clause and signalling terms."""

    name: str
    weight: float
    clause: str
    terms: tuple[str, ...]
    pattern: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class Field:
    """A field the digest ranks low: its name, how much each term counts against, its terms."""

    name: str
    weight: float
    terms: tuple[str, ...]


class TermMatcher:
    """Finds the terms of every topic and field in one pass over a text.

    One pattern with every term reads a text once, where a pattern per topic would read it
    once per topic: ranking thousands of candidates and training on thousands of past items
    counts terms in every one of them. The terms are laid out as a trie (terms sharing a
    start share one branch), which the regex engine walks three times faster than a flat
    list of alternatives; a longer term is tried before its prefix.
    """

    def __init__(self, groups: Sequence[tuple[str, ...]]) -> None:
        """Build it from each group's terms (a topic's or a field's), in order."""
        self._size = len(groups)
        self._groups: dict[str, list[int]] = {}
        for index, terms in enumerate(groups):
            for term in terms:
                self._groups.setdefault(term, []).append(index)
        self._pattern = re.compile(r"(?<![\w-])" + _trie(self._groups) + r"(?![\w-])")

    def count(self, text: str) -> list[int]:
        """Return how many of each group's terms ``text`` holds (case-insensitive)."""
        counts = [0] * self._size
        for term in self._pattern.findall(text.lower()):
            for index in self._groups[term]:
                counts[index] += 1
        return counts


@dataclass(frozen=True, slots=True)
class EditorialProfile:
    """The profile's text, its version, its topics and the fields it ranks low."""

    text: str
    version: str
    topics: tuple[Topic, ...]
    rank_low: tuple[Field, ...] = ()
    matcher: TermMatcher = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Derived from the tables, never given: one matcher for every topic's and field's terms.
        groups = [topic.terms for topic in self.topics] + [low.terms for low in self.rank_low]
        object.__setattr__(self, "matcher", TermMatcher(groups))

    def topic_hits(self, text: str) -> Counter[str]:
        """Count how many times each topic's terms occur in ``text``."""
        lowered = text.lower()
        return Counter(
            {topic.name: n for topic in self.topics if (n := len(topic.pattern.findall(lowered)))}
        )

    @property
    def threads(self) -> tuple[str, ...]:
        """Name every topic, then every field ranked low: the order of `counts`."""
        return (*(topic.name for topic in self.topics), *(low.name for low in self.rank_low))

    def counts(self, title: str, body: str) -> tuple[int, ...]:
        """Count each topic's and field's terms in an item, in the order of `threads`.

        A title hit counts three times (a title names what the item is about, a body
        mentions many things in passing) and a body counts six hits at most per thread, so
        that one long text does not win on length. Only the body's first 4,000 characters
        are read. Where terms overlap the longest wins: "image generation" is graphics, not
        also "image" (multimodal).
        """
        title_hits, body_hits = self.matcher.count(title), self.matcher.count(body[:4000])
        return tuple(3 * t + min(b, 6) for t, b in zip(title_hits, body_hits, strict=True))

    def fit(self, title: str, body: str) -> tuple[float, Counter[str]]:
        """Return how well an item fits the profile (0 to 1) and its topic hits.

        Each topic's hits (`counts`) add its weight; each field ranked low subtracts its
        weight per hit. Saturating; an item that is more about the fields ranked low than
        about the topics fits 0.
        """
        counts = self.counts(title, body)
        hits: Counter[str] = Counter()
        raw = 0.0
        for topic, count in zip(self.topics, counts, strict=False):
            if count:
                hits[topic.name] = count
                raw += topic.weight * count
        for low, count in zip(self.rank_low, counts[len(self.topics) :], strict=True):
            raw -= low.weight * count
        return max(0.0, 1.0 - 2.0 ** (-raw / 4.0)), hits

    @property
    def preferences(self) -> str:
        """Return the profile's paragraph on what to prefer and what ranks low.

        The model's ranking reads it beside its own prompt, so that both scorers judge by
        the same words. Found as the paragraph that says "Prefer" or "rank low"; a profile
        without one gives its first paragraph of prose.
        """
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", self.text) if p.strip()]
        prose = [p for p in paragraphs if not p.startswith(("#", "|"))]
        chosen = [p for p in prose if "Prefer" in p or "rank low" in p] or prose[:1]
        return "\n\n".join(" ".join(p.split()) for p in chosen)

    def clause(self, topic_name: str) -> str:
        """Return the title clause of a topic."""
        return next(topic.clause for topic in self.topics if topic.name == topic_name)


def _trie(terms: Iterable[str]) -> str:
    """Return a regex matching any of ``terms``, branching per shared prefix, longest first."""
    root: dict[str, dict[str, Any]] = {}
    for term in terms:
        node = root
        for char in term:
            node = node.setdefault(char, {})
        node[""] = {}  # a term ends here

    def branch(node: dict[str, dict[str, Any]]) -> str:
        options = [re.escape(char) + branch(node[char]) for char in sorted(node) if char]
        if not options:
            return ""
        body = options[0] if len(options) == 1 else "(?:" + "|".join(options) + ")"
        # Greedy: where a term ends here and a longer one goes on, the longer is tried first.
        return f"(?:{body})?" if "" in node else body

    return branch(root)


def _pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = sorted((re.escape(term) for term in terms), key=len, reverse=True)
    return re.compile(r"(?<![\w-])(?:" + "|".join(alternatives) + r")(?![\w-])")


def load_profile(path: Path | None = None) -> EditorialProfile:
    """Read the profile with its Topics and Rank low tables: the bundled one, or a team's.

    ``path`` is DIGEST_PROFILE_PATH's file. Raises `ValueError` with one line (a missing or
    unreadable file, no Topics table) for the settings to report.
    """
    if path is None:
        prompt = prompts.load("editorial_profile")
        text, version = prompt.text, prompt.version
    else:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise ValueError(f"cannot read the profile {path}: {reason}") from None
        version = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    topics, rank_low = [], []
    for line in text.splitlines():
        if match := _ROW.match(line):
            name, weight, clause, terms_text = match.groups()
            terms = _terms(terms_text)
            topics.append(Topic(name, float(weight), clause, terms, _pattern(terms)))
        elif match := _LOW_ROW.match(line):
            name, weight, terms_text = match.groups()
            rank_low.append(Field(name, float(weight), _terms(terms_text)))
    if not topics:
        where = "the editorial profile" if path is None else f"the profile {path}"
        raise ValueError(
            f"{where} has no Topics table (rows like | agents | 1.0 | Agents Get to Work | "
            "agent, tool use |)"
        )
    return EditorialProfile(text, version, tuple(topics), tuple(rank_low))


def _terms(text: str) -> tuple[str, ...]:
    return tuple(term.strip().lower() for term in text.split(",") if term.strip())
