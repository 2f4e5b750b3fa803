"""The web archive over aiohttp: its pages and feeds on the bot's HTTP server.

``/``, ``/editions/``, ``/editions/YYYY-MM-DD``, ``/items/<canonical id>``, ``/search``,
``/feed.atom`` and ``/feed.json``. A wrong parameter is a 400 page and a missing page a 404
page, each with one line that says why; no page needs JavaScript, and the Content Security
Policy lets none run.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import date

from aiohttp import web

from adapters.web.render import SiteRenderer
from bot.edition.profile import EditorialProfile
from bot.web.links import Links
from bot.web.pages import (
    FEED_EDITIONS,
    BadRequestError,
    edition_view,
    editions_view,
    feed_views,
    home_view,
    item_view,
    parse_page,
    search_view,
)
from bot.web.ports import ArchiveStore

HTML = "text/html"
HEADERS = {
    # No script may run, nothing is framed, forms go back to us only.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cache-Control": "public, max-age=60",
}
MAX_QUERY = 400
FEED_TTL_S = 60.0
Handler = Callable[[web.Request], Awaitable[web.Response]]


def add_web_routes(
    app: web.Application,
    store: ArchiveStore,
    profile: EditorialProfile,
    *,
    page_size: int,
    feed_links: Links,
    renderer: SiteRenderer | None = None,
) -> None:
    """Add the archive's pages and feeds to ``app``.

    Pages link root-relatively; the feeds use ``feed_links`` (absolute under
    DIGEST_PUBLIC_URL when it is set).
    """
    site = renderer or SiteRenderer()
    links = Links()

    def page(text: str, status: int = 200, content_type: str = HTML) -> web.Response:
        return web.Response(
            text=text, status=status, content_type=content_type, charset="utf-8", headers=HEADERS
        )

    def problem(status: int, message: str) -> web.Response:
        heading = "Not found" if status == 404 else "Cannot show that"
        return page(site.error(heading, message, links), status)

    def guarded(handler: Handler) -> Handler:
        async def run(request: web.Request) -> web.Response:
            try:
                return await handler(request)
            except BadRequestError as exc:
                return problem(400, str(exc))

        return run

    async def home(_: web.Request) -> web.Response:
        return page(site.home(await home_view(store), links))

    async def editions(request: web.Request) -> web.Response:
        number = parse_page(request.query.get("page"))
        view = await editions_view(store, number, page_size)
        if view is None:
            return problem(404, f"there is no page {number} of editions")
        return page(site.editions(view, links))

    async def edition(request: web.Request) -> web.Response:
        text = request.match_info["day"]
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return problem(404, "an edition's address ends with its date, like 2026-04-13")
        view = await edition_view(store, day)
        if view is None:
            return problem(404, f"there is no edition of {day.isoformat()}")
        return page(site.edition(view, links))

    async def item(request: web.Request) -> web.Response:
        canonical_id = request.match_info["canonical_id"]
        view = await item_view(store, canonical_id[:2000])
        if view is None:
            return problem(404, "no edition featured that item")
        return page(site.item(view, links))

    async def search(request: web.Request) -> web.Response:
        query = request.query
        view = await search_view(
            store,
            profile,
            query.get("q", "")[:MAX_QUERY],
            query.get("difficulty", "")[:40],
            query.get("topic", "")[:40],
        )
        return page(site.search(view, links))

    # The feeds change only with the newest editions: kept while their headings are the same
    # (one cheap query), for at most FEED_TTL_S (a rewrite changes no heading).
    feeds: dict[str, tuple[float, object, str]] = {}

    async def cached_feed(kind: str) -> str:
        headings, _ = await store.edition_headings(0, FEED_EDITIONS)
        key = tuple((h.id, h.created_at, h.count) for h in headings)
        now = time.monotonic()
        kept = feeds.get(kind)
        if kept is not None and kept[1] == key and now - kept[0] < FEED_TTL_S:
            return kept[2]
        views = await feed_views(store)
        text = site.atom(views, feed_links) if kind == "atom" else site.json_feed(views, feed_links)
        feeds[kind] = (now, key, text)
        return text

    async def atom(_: web.Request) -> web.Response:
        return page(await cached_feed("atom"), content_type="application/atom+xml")

    async def json_feed(_: web.Request) -> web.Response:
        return page(await cached_feed("json"), content_type="application/feed+json")

    async def to_listing(_: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently("/editions/")

    app.router.add_get("/", guarded(home))
    app.router.add_get("/editions", to_listing)
    app.router.add_get("/editions/", guarded(editions))
    app.router.add_get("/editions/{day}", guarded(edition))
    app.router.add_get("/items/{canonical_id:.+}", guarded(item))
    app.router.add_get("/search", guarded(search))
    app.router.add_get("/feed.atom", guarded(atom))
    app.router.add_get("/feed.json", guarded(json_feed))
