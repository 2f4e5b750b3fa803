"""Editors' picks: paper links become the paper, other links their page's metadata."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx
import pytest

from adapters.sources.arxiv import ArxivSource
from adapters.sources.manual import ManualResolver, extract_page_meta
from adapters.sources.safe_fetch import AddressPolicy
from bot.domain import Sighting, SourceLabel
from bot.ports import SourceError
from tests.conftest import data_file
from tests.fakes.clock import FakeClock
from tests.fakes.http_server import FakeHttpServer, Reply

ARTICLE = b"""<!doctype html><html><head>
<title>Fallback title</title>
<meta property="og:title" content="Parts of a Code Review Bot &amp; Friends">
<meta property="og:description"
 content="Diffs, tests and style rules: what makes a review bot useful.">
<meta property="og:site_name" content="Example Magazine">
<meta property="article:published_time" content="2026-04-08T12:00:00Z">
<link rel="canonical" href="/p/parts-of-a-code-review-bot">
<script>window.track()</script>
</head><body><h1>Heading</h1><p>Short.</p></body></html>"""

PLAIN = b"""<html><head><title> A   plain page </title></head><body>
<p>Too short.</p><p>This paragraph is long enough to serve as the description of the page when
nothing better is declared in its metadata by the author.</p></body></html>"""


@dataclass
class KnownPapers:
    """Our PaperLookup port answered from a table, recording what was asked."""

    papers: dict[str, Sighting]
    asked: list[list[str]] = field(default_factory=list)

    async def lookup(self, arxiv_ids: Sequence[str]) -> list[Sighting]:
        self.asked.append(list(arxiv_ids))
        return [self.papers[i] for i in arxiv_ids if i in self.papers]


PAPER = Sighting(
    source=SourceLabel.ARXIV,
    url="https://arxiv.org/abs/2604.31415",
    title="Ledgerline",
    summary="Agent evaluation.",
    authors=("Ada Moreau",),
    arxiv_id="2604.31415",
    arxiv_version=2,
)


def test_page_metadata_prefers_open_graph() -> None:
    meta = extract_page_meta(ARTICLE.decode(), base_url="https://magazine.example/p/x?utm_source=y")
    assert meta.title == "Parts of a Code Review Bot & Friends"
    assert meta.description == "Diffs, tests and style rules: what makes a review bot useful."
    assert meta.canonical_url == "https://magazine.example/p/parts-of-a-code-review-bot"
    assert meta.site_name == "Example Magazine"
    assert meta.published_at is not None
    assert meta.published_at.isoformat() == "2026-04-08T12:00:00+00:00"


def test_page_metadata_falls_back_to_title_and_first_real_paragraph() -> None:
    meta = extract_page_meta(PLAIN.decode(), base_url="https://plain.example/")
    assert meta.title == "A plain page"
    assert meta.description.startswith("This paragraph is long enough")
    assert meta.canonical_url is None


@pytest.mark.parametrize(
    "link",
    [
        "https://arxiv.org/abs/2604.31415",
        "https://arxiv.org/pdf/2604.31415v1.pdf",
        "https://huggingface.co/papers/2604.31415",
        "https://doi.org/10.48550/arXiv.2604.31415",
    ],
)
async def test_paper_links_resolve_to_the_paper(client: httpx.AsyncClient, link: str) -> None:
    papers = KnownPapers({"2604.31415": PAPER})
    sighting = await ManualResolver(client, papers).resolve(link)
    assert sighting.source == "manual"
    assert (sighting.arxiv_id, sighting.title, sighting.authors) == (
        "2604.31415",
        "Ledgerline",
        ("Ada Moreau",),
    )
    assert sighting.data["submitted_url"] == link
    assert papers.asked == [["2604.31415"]]


async def test_an_unknown_paper_is_a_clear_failure(client: httpx.AsyncClient) -> None:
    with pytest.raises(SourceError, match=r"arXiv has no paper 2604\.99999"):
        await ManualResolver(client, KnownPapers({})).resolve("https://arxiv.org/abs/2604.99999")


async def test_a_paper_link_through_the_real_arxiv_adapter(
    http_server: FakeHttpServer, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    url = http_server.route(
        "/api/query", Reply(body=data_file("arxiv_idlist_2104.12255v1.atom").read_bytes())
    )
    resolver = ManualResolver(client, ArxivSource(client, clock, url=url))
    sighting = await resolver.resolve("https://arxiv.org/abs/2104.12255v1")
    assert (sighting.source, sighting.arxiv_id, sighting.authors) == (
        "manual",
        "2104.12255",
        ("Quan Thoi Minh Nguyen",),
    )
    assert http_server.requests[0].query["id_list"] == "2104.12255"


async def test_a_web_page_becomes_its_title_and_description(
    http_server: FakeHttpServer, client: httpx.AsyncClient
) -> None:
    url = http_server.route("/p/x", Reply(body=ARTICLE, content_type="text/html; charset=utf-8"))
    resolver = ManualResolver(client, KnownPapers({}), policy=AddressPolicy(allow_private=True))
    sighting = await resolver.resolve(url + "?utm_source=newsletter")
    assert sighting.source == "manual"
    assert sighting.title == "Parts of a Code Review Bot & Friends"
    assert sighting.summary.startswith("Diffs, tests and style rules")
    assert sighting.url == http_server.url("/p/parts-of-a-code-review-bot")
    assert sighting.data["site_name"] == "Example Magazine"


async def test_pages_are_refused_on_private_addresses_in_production(
    http_server: FakeHttpServer, client: httpx.AsyncClient
) -> None:
    url = http_server.route("/p/x", Reply(body=ARTICLE, content_type="text/html"))
    with pytest.raises(SourceError, match="loopback"):
        await ManualResolver(client, KnownPapers({})).resolve(url)


async def test_an_empty_page_or_a_bad_link_is_refused(
    http_server: FakeHttpServer, client: httpx.AsyncClient
) -> None:
    url = http_server.route(
        "/empty", Reply(body=b"<html><body><p>x</p></body></html>", content_type="text/html")
    )
    resolver = ManualResolver(client, KnownPapers({}), policy=AddressPolicy(allow_private=True))
    with pytest.raises(SourceError, match="neither a title nor a description"):
        await resolver.resolve(url)
    with pytest.raises(SourceError, match="only http and https"):
        await resolver.resolve("file:///etc/passwd")
