"""HTML to clean, readable text for summarising, with links kept.

Feed entries and web pages carry HTML; the summarizer wants prose. Scripts, styles, forms and
embeds are dropped, block elements become paragraphs, list items become "- " lines, and every
link stays as "anchor (https://absolute.url)" so nothing the author pointed at is lost. Input
and output are capped: a summary never needs more than the first few thousand characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

_DROPPED = frozenset(
    {"script", "style", "noscript", "iframe", "svg", "form", "template", "object", "embed",
     "head", "button", "select", "textarea", "canvas", "video", "audio"}
)  # fmt: skip
_BLOCKS = frozenset(
    {"p", "div", "section", "article", "blockquote", "pre", "table", "tr", "ul", "ol", "dl",
     "h1", "h2", "h3", "h4", "h5", "h6", "header", "footer", "figure", "figcaption", "hr",
     "main", "aside", "details", "summary", "dd", "dt", "body", "html"}
)  # fmt: skip
_PARAGRAPH = "\u2029"  # a marker no HTML text contains, turned into a blank line at the end
_SPACES = re.compile(r"[ \t\r\n\f\v\u00a0\u200b]+")
_SENTENCE_END = re.compile(r"[.!?…][\"')\]]?\s")


@dataclass(frozen=True, slots=True)
class PlainText:
    """Readable text and the absolute links found in it, in order, without duplicates."""

    text: str
    links: tuple[str, ...]


def absolute_url(href: str, base_url: str) -> str | None:
    """Return ``href`` resolved against ``base_url`` if it is an http(s) link, else ``None``."""
    href = href.strip()
    if not href:
        return None
    try:
        url = urljoin(base_url, href) if base_url else href
        parts = urlsplit(url)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # malformed links are common in the wild ("http://[at McLaren]/")
        return None
    return url if usable else None


class _Writer:
    """Walks the DOM once, collecting text pieces and links."""

    def __init__(self, base_url: str, max_chars: int) -> None:
        self.base_url = base_url
        self.max_chars = max_chars
        self.pieces: list[str] = []
        self.size = 0
        self.links: dict[str, None] = {}

    def full(self) -> bool:
        return self.size > self.max_chars

    def add(self, text: str) -> None:
        self.pieces.append(text)
        self.size += len(text)

    def walk(self, node: LexborNode) -> None:
        child = node.child
        while child is not None and not self.full():
            self.visit(child)
            child = child.next

    def visit(self, node: LexborNode) -> None:
        tag = node.tag
        if tag == "-text":
            self.add(node.text_content or "")
            return
        if tag is None or tag.startswith("-") or tag in _DROPPED:
            return
        if tag == "br":
            self.add("\n")
            return
        if tag == "a":
            self.visit_link(node)
            return
        if tag == "img":
            alt = (node.attributes.get("alt") or "").strip()
            if alt:
                self.add(f" {alt} ")
            return
        if tag == "li":
            self.add(f"{_PARAGRAPH}- ")
            self.walk(node)
            return
        block = tag in _BLOCKS
        if block:
            self.add(_PARAGRAPH)
        self.walk(node)
        if block:
            self.add(_PARAGRAPH)

    def visit_link(self, node: LexborNode) -> None:
        url = absolute_url(node.attributes.get("href") or "", self.base_url)
        start = len(self.pieces)
        self.walk(node)
        anchor = _SPACES.sub(" ", "".join(self.pieces[start:])).strip()
        if url is None:
            return
        self.links.setdefault(url)
        if anchor and anchor != url and not anchor.startswith(("http://", "https://")):
            self.add(f" ({url})")
        elif not anchor:
            self.add(url)


def _tidy(raw: str) -> str:
    paragraphs = []
    for block in raw.split(_PARAGRAPH):
        lines = [_SPACES.sub(" ", line).strip() for line in block.split("\n")]
        text = "\n".join(line for line in lines if line)
        if text:
            paragraphs.append(text)
    return "\n\n".join(paragraphs)


def clip_text(text: str, max_chars: int) -> str:
    """Shorten ``text`` to at most ``max_chars``, never mid-word (nor mid-link).

    Cuts after the last sentence end in the final third when there is one, otherwise at the
    last space, and marks the cut with "…".
    """
    if len(text) <= max_chars:
        return text
    # Two characters are kept free for the " …" marker, so the result never exceeds the cap.
    window = text[: max(max_chars - 2, 0)]
    ends = [match.end() for match in _SENTENCE_END.finditer(window)]
    if ends and ends[-1] >= len(window) * 2 // 3:
        return window[: ends[-1]].rstrip() + " …"
    space = max(window.rfind(" "), window.rfind("\n"))
    # Text without any space (one long URL, CJK prose) can only be cut where the cap falls.
    cut = window[:space] if space > 0 else window
    return cut.rstrip(" ,;:-(") + "…"


def html_to_text(
    html: str, *, base_url: str = "", max_html_chars: int = 65536, max_text_chars: int = 6000
) -> PlainText:
    """Return the readable text of an HTML fragment or page, with its links made absolute."""
    if not html or not html.strip():
        return PlainText("", ())
    if "<" not in html and "&" not in html:  # plain text: nothing to parse
        return PlainText(clip_text(_tidy(html), max_text_chars), ())
    tree = LexborHTMLParser(html[:max_html_chars])
    root = tree.body or tree.root
    writer = _Writer(base_url, max_text_chars)
    if root is not None:
        writer.visit(root)
    text = clip_text(_tidy("".join(writer.pieces)), max_text_chars)
    return PlainText(text, tuple(writer.links))


def strip_tags(fragment: str) -> str:
    """Return a short HTML fragment (a title, say) as one line of plain text."""
    if "<" not in fragment and "&" not in fragment:
        return _SPACES.sub(" ", fragment).strip()
    return _SPACES.sub(" ", html_to_text(fragment, max_text_chars=10_000).text).strip()
