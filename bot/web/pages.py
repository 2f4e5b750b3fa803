"""What each page of the web archive shows, read from the store: pure view models, no HTML.

``/`` the latest edition, ``/editions/`` every edition by page, ``/editions/DATE`` one edition
in the seeds' shape, ``/items/ID`` one item with the editions it was in, ``/search`` the same
search as ``/paper <words>`` with difficulty and topic filters, and the feed's newest editions.
Every text from a feed, a paper or a model passes through `inert` on the way: no control or
bidirectional-override character reaches a page (escaping is the templates' job).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date

from bot.commands.digest import MAX_WORD_LENGTH, MAX_WORDS, search_words
from bot.domain import Difficulty, Edition, EditionEntry, EditionHeading
from bot.edition.profile import EditorialProfile
from bot.edition.render import Digest, DigestItem, to_digest, to_digest_item
from bot.web.ports import ArchiveStore

SEARCH_LIMIT = 20
FEED_EDITIONS = 20
# Controls (but tab and newline), and the bidirectional embeddings, overrides and isolates
# (U+202A-U+202E, U+2066-U+2069): an RLO in a title would reverse the text after it.
_INERT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


class BadRequestError(ValueError):
    """A page was asked for with a wrong parameter; the message is one line for the reader."""


def inert(text: str) -> str:
    """Return ``text`` without control and bidirectional-override characters."""
    return _INERT.sub("", text)


def inert_item(item: DigestItem) -> DigestItem:
    """Return ``item`` with every text from outside made inert."""
    return replace(
        item,
        title=inert(item.title),
        url=inert(item.url),
        authors=tuple(inert(a) for a in item.authors),
        summary=inert(item.summary),
        takeaways=tuple(inert(t) for t in item.takeaways),
        source=inert(item.source),
        arxiv_id=inert(item.arxiv_id) if item.arxiv_id else None,
        note=inert(item.note),
    )


def inert_digest(edition: Edition) -> Digest:
    """Return ``edition`` as a Digest whose texts are inert."""
    digest = to_digest(edition)
    return replace(
        digest,
        title=inert(digest.title),
        intro=inert(digest.intro),
        items=tuple(inert_item(item) for item in digest.items),
    )


@dataclass(frozen=True, slots=True)
class EditionView:
    """One edition as its page shows it, with the dates of its neighbours."""

    digest: Digest
    imported: bool
    newer: date | None = None
    older: date | None = None


@dataclass(frozen=True, slots=True)
class HomeView:
    """The latest edition and the few before it."""

    latest: EditionView | None
    recent: tuple[EditionHeading, ...]


@dataclass(frozen=True, slots=True)
class EditionsView:
    """One page of the list of editions, newest first."""

    headings: tuple[EditionHeading, ...]
    page: int
    pages: int
    total: int


@dataclass(frozen=True, slots=True)
class Appearance:
    """An edition an item appeared in."""

    date: date
    title: str
    position: int


@dataclass(frozen=True, slots=True)
class ItemView:
    """One item's card (as its latest edition wrote it) and every edition it was in."""

    card: DigestItem
    appearances: tuple[Appearance, ...]


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A search result: the item's card and the edition it was in."""

    date: date
    card: DigestItem


@dataclass(frozen=True, slots=True)
class SearchView:
    """The search form as asked, and what it found (or why it could not look)."""

    query: str
    difficulty: str
    topic: str
    hits: tuple[SearchHit, ...]
    topics: tuple[str, ...]
    asked: bool
    problem: str = ""


def _neighbours(dates: list[date], day: date) -> tuple[date | None, date | None]:
    """Return the editions just newer and just older than ``day`` (``dates`` newest first)."""
    newer = [d for d in dates if d > day]
    older = [d for d in dates if d < day]
    return (newer[-1] if newer else None), (older[0] if older else None)


async def edition_view(store: ArchiveStore, day: date) -> EditionView | None:
    """Return the page of the edition of ``day``, or None when there is none."""
    edition = await store.edition(edition_date=day)
    if edition is None:
        return None
    newer, older = _neighbours(await store.edition_dates(), edition.date)
    return EditionView(inert_digest(edition), edition.imported, newer, older)


async def home_view(store: ArchiveStore, recent: int = 5) -> HomeView:
    """Return the home page: the latest composed edition (else the newest one) and others."""
    edition = await store.edition()
    headings, _ = await store.edition_headings(0, recent + 1)
    if edition is None and headings:
        edition = await store.edition(edition_id=headings[0].id)
    if edition is None:
        return HomeView(None, ())
    newer, older = _neighbours(await store.edition_dates(), edition.date)
    latest = EditionView(inert_digest(edition), edition.imported, newer, older)
    others = tuple(inert_heading(h) for h in headings if h.id != edition.id)[:recent]
    return HomeView(latest, others)


def heading_of(edition: Edition) -> EditionHeading:
    """Return an edition's heading (for a listing built from whole editions)."""
    return EditionHeading(
        edition.id,
        edition.date,
        inert(edition.title),
        inert(edition.intro),
        len(edition.entries),
        edition.imported,
        edition.created_at,
    )


def inert_heading(heading: EditionHeading) -> EditionHeading:
    """Return ``heading`` with its texts made inert."""
    return replace(heading, title=inert(heading.title), intro=inert(heading.intro))


def parse_page(text: str | None) -> int:
    """Parse ``?page=``: a whole number from 1; `BadRequestError` otherwise."""
    if text is None or text == "":
        return 1
    if not text.isdigit() or len(text) > 6 or int(text) < 1:
        raise BadRequestError(f"page must be a whole number from 1, not “{inert(text)[:20]}”")
    return int(text)


async def editions_view(store: ArchiveStore, page: int, page_size: int) -> EditionsView | None:
    """Return one page of the editions, newest first; None past the last page."""
    headings, total = await store.edition_headings((page - 1) * page_size, page_size)
    pages = max(1, -(-total // page_size))
    if page > pages:
        return None
    return EditionsView(tuple(inert_heading(h) for h in headings), page, pages, total)


async def item_view(store: ArchiveStore, canonical_id: str) -> ItemView | None:
    """Return an item's page, or None when no edition featured it."""
    return item_view_of(await store.item_entries(canonical_id))


def item_view_of(found: list[tuple[date, str, EditionEntry]]) -> ItemView | None:
    """Return an item's page from its entries, newest first (None for none)."""
    if not found:
        return None
    _, _, latest = found[0]
    appearances = tuple(Appearance(day, inert(title), e.position) for day, title, e in found)
    return ItemView(inert_item(to_digest_item(latest)), appearances)


def parse_difficulty(text: str) -> Difficulty | None:
    """Parse ``?difficulty=`` (empty: any); `BadRequestError` for an unknown level."""
    if not text:
        return None
    try:
        return Difficulty(text.lower())
    except ValueError:
        valid = ", ".join(d.value for d in Difficulty)
        raise BadRequestError(
            f"unknown difficulty “{inert(text)[:20]}”; use one of: {valid}"
        ) from None


async def search_view(
    store: ArchiveStore, profile: EditorialProfile, query: str, difficulty: str, topic: str
) -> SearchView:
    """Search featured items as ``/paper <words>`` does, filtered by level and topic.

    A topic keeps the items where the profile's topic terms occur as whole words in the title
    or summary: the store narrows by substring first, the profile's pattern decides.
    """
    query = inert(query)[: MAX_WORDS * (MAX_WORD_LENGTH + 1)]
    topics = tuple(t.name for t in profile.topics)
    view = SearchView(
        query, difficulty, topic, (), topics, asked=bool(query or difficulty or topic)
    )
    if not view.asked:
        return view
    level = parse_difficulty(difficulty)
    chosen = next((t for t in profile.topics if t.name == topic.lower()), None)
    if topic and chosen is None:
        raise BadRequestError(
            f"unknown topic “{inert(topic)[:20]}”; use one of: {', '.join(topics)}"
        )
    words = search_words(query)
    if query and not words:
        return replace(view, problem="give some words to search for (two letters or more)")
    found = await store.search_featured(
        words,
        SEARCH_LIMIT * 2 if chosen else SEARCH_LIMIT,
        difficulty=level.value if level else None,
        any_of=chosen.terms if chosen else (),
    )
    hits = tuple(
        SearchHit(day, inert_item(to_digest_item(entry)))
        for day, entry in found
        if chosen is None
        or chosen.pattern.search(f"{entry.item.content.title}\n{entry.summary.why}".lower())
    )[:SEARCH_LIMIT]
    return replace(view, hits=hits, difficulty=level.value if level else "", topic=topic.lower())


async def feed_views(store: ArchiveStore, limit: int = FEED_EDITIONS) -> list[EditionView]:
    """Return the newest editions for the feed, newest first."""
    return [
        EditionView(inert_digest(edition), edition.imported)
        for edition in await store.newest_editions(limit)
    ]
