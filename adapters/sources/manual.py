"""Editors' picks: an arXiv or HF link becomes the paper; any other link its page's metadata.

Paper links are resolved through the arXiv API (a `PaperLookup`), never by fetching the page.
Other pages are fetched once, safely (adapters.sources.safe_fetch), and reduced to a title and
a description from their Open Graph, Twitter or HTML metadata.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx
from selectolax.lexbor import LexborHTMLParser

from adapters.sources.html_text import absolute_url, clip_text, strip_tags
from adapters.sources.safe_fetch import PUBLIC_ONLY, AddressPolicy, Resolver, fetch_public_page
from bot.domain import JsonValue, Sighting, SourceLabel
from bot.ids import arxiv_id_from_url, canonical_url
from bot.ports import PaperLookup, SourceError

_MIN_PARAGRAPH = 80


@dataclass(frozen=True, slots=True)
class PageMeta:
    """What a page says about itself."""

    title: str
    description: str
    canonical_url: str | None
    site_name: str | None
    published_at: datetime | None


def _meta(tree: LexborHTMLParser, *selectors: str) -> str:
    for selector in selectors:
        node = tree.css_first(selector)
        if node is not None:
            value = strip_tags(node.attributes.get("content") or "")
            if value:
                return value
    return ""


def _text_of(tree: LexborHTMLParser, selector: str) -> str:
    node = tree.css_first(selector)
    return strip_tags(node.text(separator=" ")) if node is not None else ""


def _first_paragraph(tree: LexborHTMLParser) -> str:
    for node in tree.css("p"):
        text = strip_tags(node.text(separator=" "))
        if len(text) >= _MIN_PARAGRAPH:
            return text
    return ""


def _published(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def extract_page_meta(html: str, *, base_url: str) -> PageMeta:
    """Return a page's title, description, canonical link, site name and publication time."""
    tree = LexborHTMLParser(html[:1_000_000])
    title = (
        _meta(tree, 'meta[property="og:title"]', 'meta[name="twitter:title"]')
        or _text_of(tree, "title")
        or _text_of(tree, "h1")
    )
    description = _meta(
        tree,
        'meta[property="og:description"]',
        'meta[name="description"]',
        'meta[name="twitter:description"]',
    ) or _first_paragraph(tree)
    canonical_node = tree.css_first('link[rel="canonical"]')
    canonical = (
        absolute_url(canonical_node.attributes.get("href") or "", base_url)
        if canonical_node is not None
        else None
    )
    return PageMeta(
        title=clip_text(title, 300),
        description=clip_text(description, 600),
        canonical_url=canonical,
        site_name=_meta(tree, 'meta[property="og:site_name"]') or None,
        published_at=_published(_meta(tree, 'meta[property="article:published_time"]')),
    )


class ManualResolver:
    """Resolves an editor's link to a sighting labelled ``manual`` (implements `LinkResolver`)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        papers: PaperLookup,
        *,
        policy: AddressPolicy = PUBLIC_ONLY,
        resolver: Resolver | None = None,
        max_bytes: int = 2 * 1024 * 1024,
        deadline_s: float = 10.0,
    ) -> None:
        self._client = client
        self._papers = papers
        self._policy = policy
        self._resolver = resolver
        self._max_bytes = max_bytes
        self._deadline_s = deadline_s

    async def resolve(self, url: str) -> Sighting:
        """Return the paper or page ``url`` points at; raise `SourceError` when unusable."""
        try:
            canonical_url(url)
        except ValueError as exc:
            raise SourceError(f"refused: {exc}") from None
        paper = arxiv_id_from_url(url)
        if paper is not None:
            found = await self._papers.lookup([paper.id])
            if not found:
                raise SourceError(f"arXiv has no paper {paper.id}")
            sighting = found[0]
            return replace(
                sighting,
                source=SourceLabel.MANUAL,
                data={**sighting.data, "submitted_url": url},
            )
        return await self._page(url)

    async def _page(self, url: str) -> Sighting:
        body = await fetch_public_page(
            self._client,
            url,
            policy=self._policy,
            resolver=self._resolver,
            max_bytes=self._max_bytes,
            deadline_s=self._deadline_s,
        )
        meta = extract_page_meta(body.text(), base_url=body.url)
        if not meta.title and not meta.description:
            raise SourceError(
                f"{urlsplit(body.url).hostname} has neither a title nor a description"
            )
        same_site = (
            meta.canonical_url
            and urlsplit(meta.canonical_url).hostname == urlsplit(body.url).hostname
        )
        page_url = meta.canonical_url if same_site and meta.canonical_url else body.url
        data: dict[str, JsonValue] = {"submitted_url": url}
        if meta.site_name:
            data["site_name"] = meta.site_name
        return Sighting(
            source=SourceLabel.MANUAL,
            url=page_url,
            title=meta.title or page_url,
            summary=meta.description,
            published_at=meta.published_at,
            data=data,
        )
