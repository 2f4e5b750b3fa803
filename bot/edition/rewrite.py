"""Rewrite: regenerate one featured item's summary, with an editor's note as guidance.

``digestbot rewrite ITEM [--note TEXT]`` and ``/digest-admin rewrite <id> [note]`` name an
item by arXiv id, link or canonical id. The latest edition featuring it gets a new summary
written from the source (bypassing the summary cache; the model sees the note as
``<editor_note>``, the offline writer cannot use it but writes anew). The store keeps the old
summary (who, when, the note, the old text) and enqueues an edit of every reply already
delivered, which `bot.delivery.edits` then applies in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.domain import EditionEntry, ItemSummary
from bot.edition.ports import FeaturedLookup, RewriteStore, Summarizer
from bot.ids import canonical_id, parse_arxiv_id
from bot.ports import Clock

NOTE_LIMIT = 500
"""The longest note kept (the model sees at most this much, `llm_summarize.NOTE_CHARS`)."""


class RewriteError(ValueError):
    """A rewrite that cannot be done; the message is one line saying what would be right."""


@dataclass(frozen=True, slots=True)
class Featured:
    """The entry a rewrite works on: its edition (id and date) and the entry itself."""

    edition_id: int
    edition_date: date
    entry: EditionEntry


@dataclass(frozen=True, slots=True)
class RewriteOutcome:
    """What a rewrite did: which entry, its new summary and version, what is to be edited."""

    featured: Featured
    summary: ItemSummary
    version: int
    destinations: tuple[str, ...]


def item_key(text: str) -> str | None:
    """Return the canonical id ITEM names (arXiv id, arXiv/HF link, other link), or ``None``."""
    text = text.strip()
    paper = parse_arxiv_id(text)
    if paper is not None:
        return paper.canonical
    if "://" not in text:
        return None
    try:
        return canonical_id(text)
    except ValueError:
        return None


async def find_featured(text: str, store: FeaturedLookup) -> Featured:
    """Return the latest edition entry of the item ``text`` names; `RewriteError` if none."""
    shown = text.strip()[:80]
    if not shown:
        raise RewriteError("name the item: an arXiv id (2604.31415), its link, or its canonical id")
    key = item_key(text)
    if key is None:
        raise RewriteError(
            f"“{shown}” is not an arXiv id, a link or a canonical id (e.g. 2604.31415)"
        )
    found = await store.featured_entry(key)
    edition = await store.edition(edition_date=found[0]) if found is not None else None
    if found is None or edition is None:
        raise RewriteError(f"{key[:80]} is in no edition; only featured items can be rewritten")
    return Featured(edition.id, edition.date, found[1])


async def rewrite_item(
    text: str,
    note: str,
    by: str,
    store: RewriteStore,
    summarizer: Summarizer,
    clock: Clock,
) -> RewriteOutcome:
    """Regenerate the summary of the item ``text`` names in the latest edition featuring it.

    Raises `RewriteError` (one line) when the item is unknown or not featured.
    """
    featured = await find_featured(text, store)
    guidance = " ".join(note.split())[:NOTE_LIMIT]  # one line: it is shown in the history
    summary = await summarizer.summarize(featured.entry.item, guidance)
    try:
        record = await store.rewrite_entry(
            featured.edition_id, featured.entry.position, summary, by, guidance, clock.now()
        )
    except LookupError:
        # The edition was rebuilt while the summary was written: nothing was changed.
        raise RewriteError(
            f"the edition of {featured.edition_date} changed meanwhile; run the rewrite again"
        ) from None
    return RewriteOutcome(featured, summary, record.version, record.destinations)
