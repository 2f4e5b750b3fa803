"""``digestbot export --site DIR``: the web archive as static files, linked relatively.

The same pages as the served archive (jinja2 templates of `adapters.web`), as ``.html`` files
that work on GitHub Pages, S3 or from the disk: ``index.html`` (the latest edition and every
edition), ``editions/index.html`` (and ``page-N.html``), ``editions/DATE.html``,
``items/<slug>.html``, ``feed.atom`` and ``feed.json``. A static site has no search.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from adapters.web.render import SiteRenderer
from bot.domain import EditionEntry
from bot.web.links import Links, item_slug
from bot.web.pages import (
    FEED_EDITIONS,
    EditionsView,
    EditionView,
    HomeView,
    heading_of,
    inert_digest,
    item_view_of,
)
from bot.web.ports import ArchiveStore

TOP = Links(base="", static=True)
BELOW = Links(base="../", static=True)  # editions/… and items/… are one folder down


@dataclass(frozen=True, slots=True)
class ExportReport:
    """What an export wrote."""

    editions: int
    items: int
    files: int


def _write(folder: Path, relative: str, text: str) -> None:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


async def export_site(
    store: ArchiveStore, folder: Path, *, page_size: int, public_url: str | None = None
) -> ExportReport:
    """Write every page of the archive under ``folder``; the feed absolute under ``public_url``."""
    site = SiteRenderer()
    dates = await store.edition_dates()
    editions = [e for d in dates if (e := await store.edition(edition_date=d)) is not None]
    views = [EditionView(inert_digest(e), e.imported) for e in editions]
    for index, view in enumerate(views):
        newer = views[index - 1].digest.date if index > 0 else None
        older = views[index + 1].digest.date if index + 1 < len(views) else None
        views[index] = EditionView(view.digest, view.imported, newer, older)
    headings = tuple(heading_of(e) for e in editions)
    files = 0

    def write(relative: str, text: str) -> None:
        nonlocal files
        _write(folder, relative, text)
        files += 1

    latest = next((v for v, e in zip(views, editions, strict=True) if not e.imported), None)
    latest = latest or (views[0] if views else None)
    others = tuple(h for h in headings if latest is None or h.date != latest.digest.date)
    write("index.html", site.home(HomeView(latest, others), TOP))
    pages = max(1, -(-len(headings) // page_size))
    for number in range(1, pages + 1):
        chunk = headings[(number - 1) * page_size : number * page_size]
        listing = EditionsView(chunk, number, pages, len(headings))
        name = "index.html" if number == 1 else f"page-{number}.html"
        write(f"editions/{name}", site.editions(listing, BELOW))
    for view in views:
        write(f"editions/{view.digest.date.isoformat()}.html", site.edition(view, BELOW))
    seen: dict[str, list[tuple[date, str, EditionEntry]]] = defaultdict(list)
    for edition in editions:  # newest first, as an item page lists them
        for entry in edition.entries:
            seen[entry.item.content.canonical_id].append((edition.date, edition.title, entry))
    for canonical_id, found in seen.items():
        item = item_view_of(found)
        if item is not None:
            write(f"items/{item_slug(canonical_id)}.html", site.item(item, BELOW))
    feed_links = Links(base=public_url.rstrip("/") + "/", static=True) if public_url else TOP
    newest = views[:FEED_EDITIONS]
    write("feed.atom", site.atom(newest, feed_links))
    write("feed.json", site.json_feed(newest, feed_links))
    return ExportReport(len(views), len(seen), files)
