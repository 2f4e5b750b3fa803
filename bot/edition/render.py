"""Render: an edition as a neutral Digest, and the Digest as text, Markdown or JSON.

The text form follows the shape of the real editions in shared/seeds: the digest's name, the
title, "Month D, YYYY · N papers", the intro, then per item its title, difficulty, title again,
authors when known, the summary, "Takeaways" with three bullets and the source line, followed
by the item's link. Chat adapters render the same Digest in their own markup.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date

from bot.domain import Difficulty, Edition, EditionEntry, Item, ItemKind, SourceLabel

DIGEST_NAME = "LLM News Digest"
_SENTENCE_BREAK = re.compile(r"[.!?…][\"')\]]?\s")
_DISPLAY_ORDER = (SourceLabel.MANUAL, SourceLabel.HF, SourceLabel.ARXIV)


@dataclass(frozen=True, slots=True)
class DigestItem:
    """One item as readers see it."""

    position: int
    title: str
    url: str
    difficulty: Difficulty
    authors: tuple[str, ...]
    summary: str
    takeaways: tuple[str, ...]
    source: str
    arxiv_id: str | None
    citations: int | None
    note: str = ""
    # The day an editor had the summary rewritten (`digestbot rewrite`), shown as a mark.
    updated: date | None = None
    canonical_id: str = ""
    # The item's page on the web archive (DIGEST_PUBLIC_URL set), linked by chat cards.
    web_url: str | None = None

    @property
    def updated_line(self) -> str:
        """``✎ Updated April 20, 2026`` for a rewritten item; empty otherwise."""
        return f"✎ Updated {long_date(self.updated)}" if self.updated else ""

    @property
    def source_line(self) -> str:
        """``[N citations · ]via <source>[ · arXiv:<id>]`` (DESIGN.md §1)."""
        parts = [f"{self.citations} citations"] if self.citations is not None else []
        parts.append(f"via {self.source}")
        if self.arxiv_id:
            parts.append(f"arXiv:{self.arxiv_id}")
        return " · ".join(parts)


@dataclass(frozen=True, slots=True)
class Digest:
    """An edition ready to show: header, intro and items in order."""

    id: int
    date: date
    title: str
    intro: str
    offline: bool
    items: tuple[DigestItem, ...]
    # The edition's page on the web archive (DIGEST_PUBLIC_URL set): "Read on the web".
    web_url: str | None = None
    # What part of the edition a channel gets, when it gets only part of it
    # (``5 of 12 items, topics: agents``; bot.delivery.content): said instead of the count.
    scope: str = ""

    @property
    def date_label(self) -> str:
        """The date as the seeds write it: ``April 13, 2026``."""
        return long_date(self.date)

    @property
    def count_label(self) -> str:
        """The item count as the seeds write it: ``12 papers`` (or the channel's `scope`)."""
        if self.scope:
            return self.scope
        return f"{len(self.items)} paper{'s' if len(self.items) != 1 else ''}"


def long_date(day: date) -> str:
    """Return a date as the seeds write it: ``April 13, 2026``."""
    return f"{day:%B} {day.day}, {day.year}"


def display_source(item: Item) -> str:
    """Return the one source named on an item's line: an editor's pick, then HF, then arXiv."""
    for label in _DISPLAY_ORDER:
        if label in item.sources:
            return label
    return item.sources[0] if item.sources else SourceLabel.MANUAL


def to_digest_item(entry: EditionEntry) -> DigestItem:
    """Return one edition entry as readers see it."""
    content = entry.item.content
    return DigestItem(
        position=entry.position,
        title=content.title,
        url=content.url,
        difficulty=entry.summary.difficulty,
        authors=content.authors if content.kind is ItemKind.PAPER else (),
        summary=entry.summary.why,
        takeaways=entry.summary.takeaways,
        source=display_source(entry.item),
        arxiv_id=content.arxiv_id,
        citations=entry.item.citations,
        note=entry.summary.note,
        updated=entry.updated_at.date() if entry.updated_at else None,
        canonical_id=entry.item.content.canonical_id,
    )


def to_digest(edition: Edition) -> Digest:
    """Return ``edition`` as a neutral Digest."""
    return Digest(
        id=edition.id,
        date=edition.date,
        title=edition.title,
        intro=edition.intro,
        offline=edition.offline,
        items=tuple(to_digest_item(entry) for entry in edition.entries),
    )


def render_item_text(item: DigestItem) -> str:
    """Return one item in the seeds' text shape."""
    lines = [item.title, item.difficulty.label, "", item.title, ""]
    if item.authors:
        lines += [", ".join(item.authors), ""]
    lines += [item.summary, ""]
    if item.note:
        lines += [item.note, ""]
    lines.append("Takeaways")
    lines += [f"  • {takeaway}" for takeaway in item.takeaways]
    lines += [item.source_line, item.url]
    if item.updated_line:
        lines.append(item.updated_line)
    return "\n".join(lines)


def render_text(digest: Digest) -> str:
    """Return the whole digest in the seeds' text shape."""
    header = [DIGEST_NAME, "", digest.title, "", f"{digest.date_label} · {digest.count_label}", ""]
    header += [digest.intro, ""]
    body = "\n".join(render_item_text(item) for item in digest.items)
    return "\n".join(header) + "\n" + body + "\n"


def render_markdown(digest: Digest) -> str:
    """Return the digest as Markdown (linked titles, bold difficulty, bulleted takeaways)."""
    parts = [
        f"# {DIGEST_NAME}: {digest.title}",
        f"*{digest.date_label} · {digest.count_label}*",
        digest.intro,
    ]
    for item in digest.items:
        block = [f"## {item.position}. [{item.title}]({item.url})", f"**{item.difficulty.label}**"]
        if item.authors:
            block.append(f"_{', '.join(item.authors)}_")
        block.append(item.summary)
        if item.note:
            block.append(f"> {item.note}")
        block.append("**Takeaways**\n" + "\n".join(f"- {t}" for t in item.takeaways))
        block.append(item.source_line)
        if item.updated_line:
            block.append(f"*{item.updated_line}*")
        parts.append("\n\n".join(block))
    return "\n\n".join(parts) + "\n"


def digest_json(digest: Digest) -> dict[str, object]:
    """Return the digest as the JSON object of DESIGN.md §4 (extra keys allowed)."""
    return {
        "id": digest.id,
        "date": digest.date.isoformat(),
        "title": digest.title,
        "intro": digest.intro,
        "offline": digest.offline,
        "items": [
            {
                "position": item.position,
                "title": item.title,
                "url": item.url,
                "difficulty": item.difficulty.value,
                "authors": list(item.authors),
                "summary": item.summary,
                "takeaways": list(item.takeaways),
                "source": item.source,
                "arxiv_id": item.arxiv_id,
                "citations": item.citations if item.citations is not None else 0,
                "source_line": item.source_line,
                "note": item.note,
                "updated": item.updated.isoformat() if item.updated else None,
            }
            for item in digest.items
        ],
    }


def render_json(digest: Digest) -> str:
    """Return the digest as one JSON object."""
    return json.dumps(digest_json(digest), ensure_ascii=False, indent=2)


def split_text(text: str, limit: int) -> list[str]:
    """Split ``text`` into pieces of at most ``limit`` characters, never mid-word.

    Pieces end at paragraph breaks first, then sentence ends, then spaces; a single word
    longer than ``limit`` (a very long link) is the only thing ever cut, since nothing else
    could fit.
    """
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = window.rfind("\n\n")
        if cut < limit // 3:
            ends = [m.end() for m in _SENTENCE_BREAK.finditer(window)]
            cut = ends[-1] if ends and ends[-1] >= limit // 3 else window.rfind(" ")
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces
