"""``digestbot export --site``: the archive as static files whose relative links all resolve."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import feedparser
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from storage.store import Store
from tests.adapters.web.conftest import one
from tests.builders import MONDAY, an_edition, seed_editions
from tests.cli_process import clean_env, run_digestbot


def local_links(page: Path) -> list[str]:
    html = HTMLParser(page.read_text(encoding="utf-8"))
    hrefs = [a.attributes.get("href") or "" for a in html.css("a, link[rel=alternate]")]
    return [h for h in hrefs if not urlsplit(h).scheme and not h.startswith("#")]


async def test_export_writes_every_page_with_links_that_resolve(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'e.db'}"
    store = await Store.open(url)
    try:
        await seed_editions(store, 24, per_edition=2)
        edition = await an_edition(store)
        featured = {
            entry.item.content.canonical_id
            for day in await store.edition_dates()
            for entry in (await store.edition(edition_date=day) or edition).entries
        }
    finally:
        await store.aclose()
    site = tmp_path / "site"
    env = clean_env(DIGEST_DATABASE_URL=url, DIGEST_PUBLIC_URL="https://me.example/digest")
    code, stdout, stderr = await run_digestbot("export", "--site", str(site), env=env, cwd=tmp_path)
    assert code == 0, stderr
    assert "24 editions" in stdout
    index = HTMLParser((site / "index.html").read_text(encoding="utf-8"))
    assert one(index, "h1").text() == edition.title
    listed = [a.attributes["href"] for a in index.css("ul.editions a")]
    assert len(listed) == 23  # every other edition, from the one page any host serves
    assert (site / "editions" / "page-2.html").is_file()  # 20 a page by default
    pages = list(site.rglob("*.html"))
    assert len(pages) == 1 + 2 + 24 + len(featured)
    for page in pages:
        for href in local_links(page):
            target = (page.parent / href.split("#")[0]).resolve()
            assert target.is_file(), f"{page.relative_to(site)} links {href}"
    feed = feedparser.parse((site / "feed.atom").read_text(encoding="utf-8"))
    assert not feed.bozo
    assert feed.entries[0].link == f"https://me.example/digest/editions/{MONDAY}.html"
    assert len(feed.entries) == 20


async def test_export_refuses_a_file_as_the_folder(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("x")
    env = clean_env(DIGEST_DATABASE_URL=f"sqlite:///{tmp_path / 'e.db'}")
    code, _, stderr = await run_digestbot("export", "--site", "taken", env=env, cwd=tmp_path)
    assert code == 2
    assert stderr.strip() == "digestbot: --site taken is a file; give a folder"
