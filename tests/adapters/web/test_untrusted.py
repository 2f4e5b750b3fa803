"""Untrusted text (feeds, papers, model output) never becomes markup on a page or in the feed."""

from __future__ import annotations

import feedparser
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from bot.domain import (
    Difficulty,
    EditionEntry,
    IdentifiedSighting,
    ItemKind,
    ItemSummary,
    Sighting,
    SourceLabel,
)
from storage.store import Store
from tests.adapters.web.conftest import one, serve
from tests.builders import COMPOSED_AT, IN_WEEK, MONDAY

SCRIPT = "<script>alert('x')</script>"
HOSTILE_TITLE = f'Evil {SCRIPT} <img src=x onerror=alert(1)> "quoted" \u202etxt.exe'
HOSTILE_TEXT = (
    "[click](javascript:alert(1)) **bold** </p></article><h1>fake</h1> `code` "
    "<a href='javascript:alert(2)'>x</a> &amp; {{ 7*7 }} {% raw %} \x1b[31m\u2066"
)


async def hostile_edition(store: Store) -> None:
    sightings = [
        Sighting(
            source=SourceLabel.feed("evil"),
            url=url,
            title=f"{HOSTILE_TITLE} {n}",
            summary=HOSTILE_TEXT,
            authors=("<b>Mallory</b>", "Eve\u202e"),
            published_at=IN_WEEK,
        )
        for n, url in enumerate(["javascript:alert(document.cookie)", "https://ok.example/p"])
    ]
    # Ingest refuses a javascript: link as an identity; stored under another id, it must
    # still never become a link target.
    identified = [
        IdentifiedSighting(f"https://evil.example/{n}", ItemKind.PAPER, s)
        for n, s in enumerate(sightings)
    ]
    await store.upsert_sightings(identified, IN_WEEK)
    entries = []
    for n, found in enumerate(identified, 1):
        item = await store.get_item(found.canonical_id)
        assert item is not None
        summary = ItemSummary(
            HOSTILE_TEXT, Difficulty.ADVANCED, (SCRIPT, HOSTILE_TEXT, "plain"), "m", "v", False,
            note=SCRIPT,
        )  # fmt: skip
        entries.append(EditionEntry(n, item, summary))
    await store.save_edition(MONDAY, HOSTILE_TITLE, HOSTILE_TEXT, False, entries, COMPOSED_AT)


def assert_inert(html: str) -> None:
    page = HTMLParser(html)
    assert page.css("script") == []
    assert page.css("img") == []
    assert page.css("[onerror]") == []
    assert [h.text() for h in page.css("h1") if h.text() == "fake"] == []
    for link in page.css("a"):
        href = link.attributes.get("href") or ""
        assert not href.lower().lstrip().startswith(("javascript:", "data:")), href
        assert href.startswith(("/", "https://", "http://", "#", "../")), href
    for character in ("\u202e", "\u2066", "\x1b"):
        assert character not in html
    assert "49" not in page.text()  # no template ran on our text


async def test_hostile_titles_and_summaries_are_shown_as_text(store: Store) -> None:
    await hostile_edition(store)
    client = await serve(store)
    try:
        pages = {}
        for path in ("/", "/editions/2026-04-13", "/search?q=evil", "/editions/"):
            response = await client.get(path)
            assert response.status == 200, path
            pages[path] = await response.text()
        item_path = one(HTMLParser(pages["/"]), "a[href^='/items/']").attributes["href"]
        assert item_path is not None
        pages["item"] = await (await client.get(item_path)).text()
        atom = await (await client.get("/feed.atom")).text()
    finally:
        await client.close()
    for html in pages.values():
        assert_inert(html)
    edition = HTMLParser(pages["/editions/2026-04-13"])
    assert one(edition, "h1").text() == HOSTILE_TITLE.replace("\u202e", "")
    first, second = edition.css("article.item")
    assert first.css_first("h2 a") is None  # a javascript: link stays text
    assert one(second, "h2 a").attributes["href"] == "https://ok.example/p"
    assert SCRIPT in one(first, "ul.takeaways li").text()
    assert "[click](javascript:alert(1))" in one(first, "p.text").text()
    assert one(first, ".authors").text() == "<b>Mallory</b>, Eve"
    feed = feedparser.parse(atom)
    assert not feed.bozo, feed.get("bozo_exception")
    assert_inert(feed.entries[0].content[0].value)
    assert feed.entries[0].title.startswith("Evil <script>")  # text in the feed, not markup
