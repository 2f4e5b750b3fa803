"""The archive over HTTP (aiohttp on 127.0.0.1, a real store): pages, errors, the feeds."""

from __future__ import annotations

import json
from datetime import timedelta

import feedparser
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from bot.edition.render import long_date
from bot.web.links import public_links
from storage.store import Store
from tests.adapters.web.conftest import one, serve
from tests.builders import MONDAY, an_edition, seed_editions


async def test_the_pages_show_the_edition_in_the_seeds_shape(store: Store) -> None:
    edition = await an_edition(store)
    client = await serve(store)
    try:
        for path in ("/", "/editions/2026-04-13"):
            response = await client.get(path)
            assert response.status == 200
            assert response.content_type == "text/html"
            assert "script-src" not in response.headers["Content-Security-Policy"]
            page = HTMLParser(await response.text())
            assert one(page, "h1").text() == edition.title
            meta = one(page, "main p.meta time").text()
            assert meta == long_date(MONDAY)
            items = page.css("article.item")
            assert len(items) == len(edition.entries)
            first, entry = items[0], edition.entries[0]
            assert one(first, "h2 a").attributes["href"] == entry.item.content.url
            assert one(first, "h2").text() == entry.item.content.title
            assert one(first, ".level").text() == entry.summary.difficulty.label
            assert [li.text() for li in first.css("li")] == list(entry.summary.takeaways)
            assert "via " in one(first, ".source").text()
        item_link = one(first, "a[href^='/items/']").attributes["href"]
        assert item_link is not None
        item = await client.get(item_link)
        assert item.status == 200
        item_page = HTMLParser(await item.text())
        assert one(item_page, "h1").text() == entry.item.content.title
        assert one(item_page, "a[href^='/editions/2026-04-13']") is not None
    finally:
        await client.close()


async def test_the_listing_pages_and_wrong_addresses_say_why(store: Store) -> None:
    await seed_editions(store, 7, per_edition=1)
    client = await serve(store)  # five a page
    try:
        first = HTMLParser(await (await client.get("/editions/")).text())
        assert len(first.css("ul.editions li")) == 5
        assert one(first, "a[rel=next]").attributes["href"] == "/editions/?page=2"
        second = HTMLParser(await (await client.get("/editions/?page=2")).text())
        dates = [t.attributes["datetime"] for t in second.css("ul.editions time")]
        assert dates == [(MONDAY - timedelta(weeks=n)).isoformat() for n in (5, 6)]
        for path, status, line in (
            ("/editions/?page=9", 404, "there is no page 9 of editions"),
            ("/editions/?page=x", 400, "page must be a whole number from 1"),
            ("/editions/2019-01-07", 404, "there is no edition of 2019-01-07"),
            ("/editions/yesterday", 404, "ends with its date"),
            ("/items/arxiv:0000.00000", 404, "no edition featured that item"),
            ("/search?q=x&difficulty=expert", 400, "unknown difficulty"),
        ):
            response = await client.get(path)
            assert response.status == status, path
            assert line in one(HTMLParser(await response.text()), "main").text(), path
        assert (await client.get("/editions", allow_redirects=False)).status == 301
    finally:
        await client.close()


async def test_search_answers_with_cards_and_keeps_the_form(store: Store) -> None:
    await an_edition(store)
    client = await serve(store)
    try:
        response = await client.get("/search", params={"q": "ledgerline", "topic": "evaluation"})
        page = HTMLParser(await response.text())
        assert one(page, "#results").text() == "1 match"
        assert one(page, "article h2").text().startswith("Ledgerline")
        assert one(page, "input#q").attributes["value"] == "ledgerline"
        assert "selected" in one(page, "option[value=evaluation]").attributes
        empty = HTMLParser(await (await client.get("/search")).text())
        assert empty.css_first("#results") is None
        assert one(empty, "form").attributes["action"] == "/search"
    finally:
        await client.close()


async def test_the_atom_feed_has_one_full_entry_per_edition(store: Store) -> None:
    editions = await seed_editions(store, 3, per_edition=2)
    edition = await an_edition(store)  # replaces the newest (same Monday)
    client = await serve(store, public_links("https://digest.example/archive/"))
    try:
        response = await client.get("/feed.atom")
        assert response.content_type == "application/atom+xml"
        feed = feedparser.parse(await response.text())
        again = feedparser.parse(await (await client.get("/feed.atom")).text())
    finally:
        await client.close()
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert len(feed.entries) == 3
    newest = feed.entries[0]
    assert newest.title == f"{edition.title} ({long_date(MONDAY)})"
    assert newest.link == "https://digest.example/archive/editions/2026-04-13"
    content = HTMLParser(newest.content[0].value)
    titles = [h.text() for h in content.css("article h2")]
    assert titles == [e.item.content.title for e in edition.entries]
    assert [e.id for e in feed.entries] == [e.id for e in again.entries]
    assert len({e.id for e in feed.entries}) == 3
    assert feed.entries[2].link.endswith((editions[2].date).isoformat())


async def test_the_json_feed_mirrors_the_atom_feed(store: Store) -> None:
    edition = await an_edition(store)
    client = await serve(store)
    try:
        atom = feedparser.parse(await (await client.get("/feed.atom")).text())
        response = await client.get("/feed.json")
        assert response.content_type == "application/feed+json"
        feed = json.loads(await response.text())
    finally:
        await client.close()
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    (item,) = feed["items"]
    assert item["id"] == atom.entries[0].id
    assert item["url"] == "/editions/2026-04-13"
    assert edition.entries[0].item.content.title in item["content_html"]
