"""Where each page of the archive lives, served or exported, and which outside links are safe.

Served, pages are root-relative paths (``/editions/2026-04-13``), or absolute under the public
URL (``DIGEST_PUBLIC_URL``) for the feed and the chat messages. Exported as static files
(``digestbot export --site``), every page is a ``.html`` file linked relatively, so the folder
works on GitHub Pages, S3 or straight from the disk. A link target is only ever our own base
plus an escaped path, or an item's own http(s) link: text from feeds, papers or a model never
becomes a link target otherwise.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from datetime import date
from urllib.parse import quote, urlencode, urlsplit

from bot.commands.reply import Reply
from bot.edition.render import Digest, DigestItem

_URL_SAFE = ":/?#[]@!$&'()*+,;=%~-._"
_SLUG_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_href(url: str) -> str | None:
    """Return ``url`` as a link target when it is an absolute http(s) URL, else None.

    Whitespace and control characters are refused rather than trimmed: a browser would trim
    them and might then see another scheme than the one checked here.
    """
    if not url or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return quote(url, safe=_URL_SAFE)


def item_slug(canonical_id: str) -> str:
    """Return an item's file name in an exported site: readable, unique, stable."""
    readable = _SLUG_UNSAFE.sub("-", canonical_id).strip("-.")[:60] or "item"
    if canonical_id.startswith("arxiv:"):
        return readable  # arxiv-2604.31415: already unique
    digest = hashlib.sha256(canonical_id.encode()).hexdigest()[:10]
    return f"{readable}-{digest}"


@dataclass(frozen=True, slots=True)
class Links:
    """The paths of the archive's pages, for one way of publishing it.

    ``base``: prefix of every link ("" for root-relative, the public URL for absolute links,
    "../" or "" for a static page's relative links). ``static``: the exported file layout.
    """

    base: str = ""
    static: bool = False

    def home(self) -> str:
        """Return the latest edition."""
        return f"{self.base}index.html" if self.static else f"{self.base}/"

    def editions(self, page: int = 1) -> str:
        """Return every edition, newest first, one page of them."""
        if self.static:
            return (
                f"{self.base}editions/index.html"
                if page == 1
                else (f"{self.base}editions/page-{page}.html")
            )
        return f"{self.base}/editions/" + (f"?page={page}" if page > 1 else "")

    def edition(self, day: date) -> str:
        """Return one edition."""
        if self.static:
            return f"{self.base}editions/{day.isoformat()}.html"
        return f"{self.base}/editions/{day.isoformat()}"

    def item(self, canonical_id: str) -> str:
        """Return one item's card and the editions it appeared in."""
        if self.static:
            return f"{self.base}items/{item_slug(canonical_id)}.html"
        return f"{self.base}/items/{quote(canonical_id, safe=':')}"

    def search(self, query: str = "", difficulty: str = "", topic: str = "") -> str | None:
        """Return the search page with these filters (None in a static site: it has no search)."""
        if self.static:
            return None
        params = {
            k: v for k, v in (("q", query), ("difficulty", difficulty), ("topic", topic)) if v
        }
        return f"{self.base}/search" + (f"?{urlencode(params)}" if params else "")

    def feed_atom(self) -> str:
        """Return the Atom feed."""
        return f"{self.base}feed.atom" if self.static else f"{self.base}/feed.atom"

    def feed_json(self) -> str:
        """Return the JSON Feed."""
        return f"{self.base}feed.json" if self.static else f"{self.base}/feed.json"


def public_links(public_url: str) -> Links:
    """Return absolute links under the public base URL (trailing slashes ignored)."""
    return Links(base=public_url.rstrip("/"))


def with_web_link(digest: Digest, links: Links) -> Digest:
    """Return ``digest`` with its web page and each item's page set (for chat messages)."""
    return replace(
        digest,
        web_url=links.edition(digest.date),
        items=tuple(linked_item(item, links) for item in digest.items),
    )


def linked_item(item: DigestItem, links: Links) -> DigestItem:
    """Return ``item`` with its page set, when it has a canonical id."""
    return replace(item, web_url=links.item(item.canonical_id)) if item.canonical_id else item


def with_item_links(reply: Reply, links: Links) -> Reply:
    """Return a command's reply with each item's page set (``/paper`` answers)."""
    if not reply.items:
        return reply
    return replace(reply, items=tuple(linked_item(item, links) for item in reply.items))
