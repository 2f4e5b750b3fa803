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
from dataclasses import dataclass
from pathlib import Path

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
    pattern: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class EditorialProfile:
    """The profile's text, its version, its topics and the fields it ranks low."""

    text: str
    version: str
    topics: tuple[Topic, ...]
    rank_low: tuple[Field, ...] = ()

    def topic_hits(self, text: str) -> Counter[str]:
        """Count how many times each topic's terms occur in ``text``."""
        lowered = text.lower()
        return Counter(
            {topic.name: n for topic in self.topics if (n := len(topic.pattern.findall(lowered)))}
        )

    def fit(self, title: str, body: str) -> tuple[float, Counter[str]]:
        """Return how well an item fits the profile (0 to 1) and its topic hits.

        Title hits count three times: a title names what the item is about, a body mentions
        many things in passing. Saturating, so that one long text does not win on length.
        Terms of the fields ranked low count against, the same way; an item that is more
        about them than about the topics fits 0.
        """
        title_lower, body_lower = title.lower(), body[:4000].lower()
        title_hits = self.topic_hits(title)
        body_hits = self.topic_hits(body[:4000])
        hits: Counter[str] = Counter()
        raw = 0.0
        weights = {topic.name: topic.weight for topic in self.topics}
        for name in set(title_hits) | set(body_hits):
            count = 3 * title_hits[name] + min(body_hits[name], 6)
            hits[name] = count
            raw += weights[name] * count
        for field in self.rank_low:
            against = 3 * len(field.pattern.findall(title_lower))
            raw -= field.weight * (against + min(len(field.pattern.findall(body_lower)), 6))
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
            rank_low.append(Field(name, float(weight), _pattern(_terms(terms_text))))
    if not topics:
        where = "the editorial profile" if path is None else f"the profile {path}"
        raise ValueError(
            f"{where} has no Topics table (rows like | agents | 1.0 | Agents Get to Work | "
            "agent, tool use |)"
        )
    return EditorialProfile(text, version, tuple(topics), tuple(rank_low))


def _terms(text: str) -> tuple[str, ...]:
    return tuple(term.strip().lower() for term in text.split(",") if term.strip())
