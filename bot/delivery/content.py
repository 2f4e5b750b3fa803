"""Per-channel content: which of an edition's items one subscription gets (a pure function).

A subscription may narrow an edition by level (``difficulty``), by ``topics`` (any of them
must match) and by ``exclude`` (none may match; exclude wins). A keyword that names a topic of
the editorial profile matches an item that topic's terms occur in; any other keyword matches
as a whole word (a plural ``s``/``es`` allowed). Both are looked for in the item's title, its
source text and its summary and takeaways.

The choice depends only on the edition, the filter and the profile, so a delivery resumed
after a restart chooses the same items: each keeps its position in the edition (the part it is
recorded under), and an item left out is never sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from bot.domain import Difficulty, Edition, EditionEntry
from bot.edition.profile import EditorialProfile

MAX_KEYWORDS = 10
MAX_KEYWORD_LENGTH = 40
_KEYWORD = re.compile(r"[a-z0-9][a-z0-9 +.#-]*")
_SOURCE_TEXT = 4000  # as the profile's own scoring reads it: enough to tell the topic


@dataclass(frozen=True, slots=True)
class ContentFilter:
    """What one channel wants of each edition: a level, topics, and topics it never wants."""

    difficulty: Difficulty | None = None
    topics: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @property
    def narrows(self) -> bool:
        """True when the filter may leave items out."""
        return bool(self.difficulty or self.topics or self.exclude)

    def describe(self) -> str:
        """Return the filter in words: ``Accessible, topics: agents, security, not: vision``."""
        parts = [self.difficulty.label] if self.difficulty else []
        if self.topics:
            parts.append("topics: " + ", ".join(self.topics))
        if self.exclude:
            parts.append("not: " + ", ".join(self.exclude))
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class Selection:
    """The part of an edition a channel gets, and the line its parent message says it with."""

    edition: Edition
    shown: int
    total: int
    label: str


def parse_keywords(text: str) -> tuple[str, ...] | str:
    """Parse ``agents,security`` (commas, or spaces from the CLI); return them or an error line.

    Keywords are lower-cased, deduplicated in order; each is a word or short phrase of
    letters, digits and ``+.#-`` (``c++``, ``gpt-4``): anything else is no keyword and would
    only ever match by accident.
    """
    keywords: list[str] = []
    for raw in re.split(r"[,;]", text):
        keyword = " ".join(raw.lower().replace("_", " ").split())
        if not keyword:
            continue
        if len(keyword) > MAX_KEYWORD_LENGTH or not _KEYWORD.fullmatch(keyword):
            return (
                f"“{keyword[:MAX_KEYWORD_LENGTH]}” is not a topic; use a profile topic "
                "(agents, security, …) or a plain keyword, comma-separated"
            )
        if keyword not in keywords:
            keywords.append(keyword)
    if len(keywords) > MAX_KEYWORDS:
        return f"at most {MAX_KEYWORDS} topics, not {len(keywords)}"
    return tuple(keywords)


def _text(entry: EditionEntry) -> str:
    content = entry.item.content
    summary = entry.summary
    parts = [content.title, content.summary[:_SOURCE_TEXT], summary.why, *summary.takeaways]
    return "\n".join(parts).lower()


def matches(keyword: str, text: str, profile: EditorialProfile) -> bool:
    """Tell whether ``keyword`` (a profile topic or a plain word) matches lower-cased ``text``."""
    topic = next((t for t in profile.topics if t.name == keyword), None)
    if topic is not None:
        return topic.pattern.search(text) is not None
    return re.search(rf"(?<![\w-]){re.escape(keyword)}(?:s|es)?(?![\w-])", text) is not None


def wanted(entry: EditionEntry, content: ContentFilter, profile: EditorialProfile) -> bool:
    """Tell whether one entry passes the filter (exclude wins over topics)."""
    if content.difficulty is not None and entry.summary.difficulty is not content.difficulty:
        return False
    if not content.topics and not content.exclude:
        return True
    text = _text(entry)
    if any(matches(k, text, profile) for k in content.exclude):
        return False
    return not content.topics or any(matches(k, text, profile) for k in content.topics)


def select_items(edition: Edition, content: ContentFilter, profile: EditorialProfile) -> Selection:
    """Return the edition's entries ``content`` keeps, in order, with the parent's count line.

    Unfiltered, the line is empty (the parent says ``N papers`` as always); otherwise it says
    how many of the edition's items the channel gets and why (``5 of 12 items, topics:
    agents, security``), or that none matched: the channel hears of the edition either way.
    """
    total = len(edition.entries)
    if not content.narrows:
        return Selection(edition, total, total, "")
    kept = tuple(e for e in edition.entries if wanted(e, content, profile))
    if kept:
        label = f"{len(kept)} of {total} items, {content.describe()}"
    else:
        label = f"none of this edition's {total} items matches this channel's {content.describe()}"
    return Selection(replace(edition, entries=kept), len(kept), total, label)
