"""Past editions read from files (``digestbot import``): the seeds' text shape or preview JSON.

A file is parsed whole before anything is stored: a malformed one raises `HistoryFormatError`
naming the file and the line, and nothing of it is imported. The text shape is the one
``digestbot preview`` prints and the seeds (../shared/seeds) are written in: the header
"LLM News Digest", the title, "Month D, YYYY · N papers", the intro, then per item its title,
its level, the title again, an optional authors line, the why paragraph, "Takeaways" and its
bullets, the "via <source>[ · arXiv:<id>]" line and, in some files, the item's URL.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from enum import StrEnum
from pathlib import Path

from bot.domain import Difficulty, IdentifiedSighting, ItemKind, Sighting, SourceLabel
from bot.ids import canonical_id, parse_arxiv_id

HEADER = "LLM News Digest"
_LEVELS = {d.label: d for d in Difficulty}
_DATE_LINE = re.compile(r"^([A-Z][a-z]+ \d{1,2}, \d{4})\s*·\s*(\d+)\s+(?:papers?|items?)$")
_VIA_LINE = re.compile(
    r"^(?:(?P<citations>\d+) citations? · )?via (?P<source>[\w.-]+)"
    r"(?: · arXiv:(?P<arxiv>\S+))?$"
)
_BULLET = re.compile(r"^\s*[•\-*]\s+(.+)$")
_URL = re.compile(r"^https?://\S+$")


class HistoryFormatError(ValueError):
    """A file that is not a past edition: says which file, which line, and what is wrong."""

    def __init__(self, path: str, line: int, problem: str) -> None:
        super().__init__(f"{path}:{line}: {problem}")
        self.path, self.line, self.problem = path, line, problem


@dataclass(frozen=True, slots=True)
class HistoryItem:
    """One item of a past edition, as its file tells it."""

    title: str
    difficulty: Difficulty
    why: str
    takeaways: tuple[str, ...]
    source: str
    authors: tuple[str, ...] = ()
    arxiv_id: str | None = None
    url: str | None = None
    citations: int | None = None

    @property
    def kind(self) -> ItemKind:
        """A paper when it has an arXiv id or authors; otherwise a post."""
        return ItemKind.PAPER if self.arxiv_id or self.authors else ItemKind.POST


@dataclass(frozen=True, slots=True)
class HistoryEdition:
    """A past edition read from a file: its date, title, intro, items and fingerprint."""

    path: str
    date: date
    title: str
    intro: str
    items: tuple[HistoryItem, ...]
    fingerprint: str


def normalised_title(title: str) -> str:
    """Return a title reduced for matching: case, accents, punctuation and spacing dropped."""
    folded = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().casefold()
    return " ".join(re.findall(r"[a-z0-9]+", folded))


def _fingerprint(text: str) -> str:
    # Line endings and trailing spaces are not content: the same edition saved on another
    # system is the same file.
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").strip().split("\n")]
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def read_history(path: Path) -> HistoryEdition:
    """Read one past edition from ``path`` (text or JSON); raise `HistoryFormatError`."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise HistoryFormatError(name, 0, f"cannot read it: {exc}") from exc
    return parse_history(text, name)


def parse_history(text: str, name: str = "<text>") -> HistoryEdition:
    """Parse a past edition in the seeds' text shape or the preview JSON shape."""
    if text.lstrip().startswith("{"):
        return _parse_json(text, name)
    return _parse_text(text, name)


# -- the text shape ------------------------------------------------------------------------


class _Lines:
    """The file's lines with a cursor; line numbers are 1-based as editors show them."""

    def __init__(self, text: str, name: str) -> None:
        self.lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
        self.name = name
        self.at = 0

    def skip_blank(self) -> None:
        while self.at < len(self.lines) and not self.lines[self.at].strip():
            self.at += 1

    def done(self) -> bool:
        self.skip_blank()
        return self.at >= len(self.lines)

    def peek(self, offset: int = 0) -> str:
        index = self.at + offset
        return self.lines[index].strip() if index < len(self.lines) else ""

    def take(self) -> str:
        line = self.peek()
        self.at += 1
        return line

    def fail(self, problem: str, line: int | None = None) -> HistoryFormatError:
        return HistoryFormatError(self.name, (self.at if line is None else line) + 1, problem)

    def paragraph(self) -> str:
        """Take the lines up to the next blank one, joined by spaces."""
        parts = []
        while self.at < len(self.lines) and self.lines[self.at].strip():
            parts.append(self.take())
        return " ".join(parts)

    def starts_item(self) -> bool:
        """Tell whether the cursor is on an item's title: a line followed by a level line."""
        return bool(self.peek()) and self.peek(1) in _LEVELS


def _parse_text(text: str, name: str) -> HistoryEdition:
    lines = _Lines(text, name)
    if lines.done() or lines.take() != HEADER:
        raise lines.fail(f'expected the header "{HEADER}"', max(0, lines.at - 1))
    lines.skip_blank()
    title = lines.paragraph()
    lines.skip_blank()
    date_at = lines.at
    match = _DATE_LINE.match(lines.take())
    if not title or match is None:
        raise lines.fail('expected a title, then a line like "April 13, 2026 · 12 papers"', date_at)
    try:
        day = datetime.strptime(match.group(1), "%B %d, %Y").date()
    except ValueError:
        raise lines.fail(f"{match.group(1)!r} is not a date", date_at) from None
    if day.weekday() != 0:
        raise lines.fail(f"{day} is a {day:%A}; editions are dated on Mondays", date_at)
    intro_parts = []
    while not lines.done() and not lines.starts_item():
        intro_parts.append(lines.paragraph())
    items = []
    while not lines.done():
        items.append(_parse_item(lines))
    if not items:
        raise lines.fail("no items: an item is a title line followed by its level line")
    if int(match.group(2)) != len(items):
        raise lines.fail(f"the header says {match.group(2)} but {len(items)} items follow", date_at)
    return HistoryEdition(
        name, day, title, "\n\n".join(intro_parts), tuple(items), _fingerprint(text)
    )


def _looks_like_authors(paragraph: str) -> bool:
    """Tell whether a paragraph is a list of names: commas, short parts, no full stop."""
    parts = [part.strip() for part in paragraph.split(",")]
    return (
        not paragraph.endswith((".", "!", "?", ":"))
        and all(0 < len(part.split()) <= 6 for part in parts)
        and (len(parts) > 1 or len(paragraph.split()) <= 4)
    )


def _parse_item(lines: _Lines) -> HistoryItem:
    if not lines.starts_item():
        raise lines.fail(f"expected an item's title then its level, found {lines.peek()[:60]!r}")
    start = lines.at
    title = lines.take()
    difficulty = _LEVELS[lines.take()]
    lines.skip_blank()
    if lines.peek() == title:
        lines.take()
    paragraphs: list[str] = []
    while not lines.done() and lines.peek() != "Takeaways":
        if lines.starts_item() or _VIA_LINE.match(lines.peek()):
            break
        paragraphs.append(lines.paragraph())
    if lines.peek() != "Takeaways":
        raise lines.fail(f'the item "{title[:60]}" (line {start + 1}) has no "Takeaways" line')
    authors: tuple[str, ...] = ()
    if len(paragraphs) >= 2 and _looks_like_authors(paragraphs[0]):
        authors = tuple(part.strip() for part in paragraphs[0].split(","))
        paragraphs = paragraphs[1:]
    if not paragraphs:
        raise lines.fail(f'the item "{title[:60]}" (line {start + 1}) has no summary')
    lines.take()
    takeaways = []
    while (bullet := _BULLET.match(lines.peek())) is not None:
        takeaways.append(bullet.group(1).strip())
        lines.take()
    if not takeaways:
        raise lines.fail("expected takeaways as bullets like '  • ...'")
    lines.skip_blank()
    via = _VIA_LINE.match(lines.peek())
    if via is None:
        raise lines.fail(f"expected 'via <source>[ · arXiv:<id>]', found {lines.peek()[:60]!r}")
    arxiv = None
    if via.group("arxiv"):
        parsed = parse_arxiv_id(via.group("arxiv"))
        if parsed is None:
            raise lines.fail(f"{via.group('arxiv')!r} is not an arXiv id")
        arxiv = parsed.id
    lines.take()
    lines.skip_blank()
    url = lines.take() if _URL.match(lines.peek()) else None
    citations = int(via.group("citations")) if via.group("citations") else None
    return HistoryItem(
        title=title,
        difficulty=difficulty,
        why=paragraphs[0],
        takeaways=tuple(takeaways),
        source=via.group("source"),
        authors=authors,
        arxiv_id=arxiv,
        url=url,
        citations=citations,
    )


# -- the preview JSON shape (DESIGN.md §4) -------------------------------------------------


def _line_of(text: str, needle: str) -> int:
    """Return the 1-based line where ``needle`` first appears (1 when it does not)."""
    index = text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else 1


def _parse_json(text: str, name: str) -> HistoryEdition:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise HistoryFormatError(name, exc.lineno, f"not valid JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise HistoryFormatError(name, 1, "expected one JSON object (as preview --format json)")

    def need_str(obj: dict[str, object], key: str, where: str) -> str:
        value = obj.get(key)
        if not isinstance(value, str) or not value.strip():
            raise HistoryFormatError(name, _line_of(text, f'"{key}"'), f"{where}: no {key!r} text")
        return value.strip()

    try:
        day = date.fromisoformat(need_str(data, "date", "the edition"))
    except ValueError:
        line = _line_of(text, '"date"')
        raise HistoryFormatError(name, line, "'date' must be YYYY-MM-DD") from None
    if day.weekday() != 0:
        raise HistoryFormatError(
            name, _line_of(text, '"date"'), f"{day} is a {day:%A}; editions are dated on Mondays"
        )
    raw_items = data.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        line = _line_of(text, '"items"')
        raise HistoryFormatError(name, line, "'items' must be a non-empty list")
    items = []
    for number, raw in enumerate(raw_items, start=1):
        where = f"item {number}"
        if not isinstance(raw, dict):
            raise HistoryFormatError(name, _line_of(text, '"items"'), f"{where} is not an object")
        title = need_str(raw, "title", where)
        line = _line_of(text, json.dumps(title, ensure_ascii=False)[1:-1])
        level = str(raw.get("difficulty", "")).strip().capitalize()
        if level not in _LEVELS:
            raise HistoryFormatError(name, line, f"{where}: difficulty {level!r} is not a level")
        takeaways = raw.get("takeaways")
        if not isinstance(takeaways, list) or not all(isinstance(t, str) for t in takeaways):
            raise HistoryFormatError(name, line, f"{where}: 'takeaways' must be a list of text")
        authors = raw.get("authors") or []
        arxiv_text = raw.get("arxiv_id")
        arxiv = parse_arxiv_id(arxiv_text) if isinstance(arxiv_text, str) and arxiv_text else None
        if arxiv_text and arxiv is None:
            raise HistoryFormatError(name, line, f"{where}: {arxiv_text!r} is not an arXiv id")
        url = raw.get("url")
        link = url if isinstance(url, str) and url.startswith(("http://", "https://")) else None
        citations = raw.get("citations")
        items.append(
            HistoryItem(
                title=title,
                difficulty=_LEVELS[level],
                why=need_str(raw, "summary", where),
                takeaways=tuple(t.strip() for t in takeaways),
                source=str(raw.get("source") or SourceLabel.MANUAL),
                authors=tuple(str(a) for a in authors) if isinstance(authors, list) else (),
                arxiv_id=arxiv.id if arxiv else None,
                url=link,
                citations=citations if isinstance(citations, int) and citations > 0 else None,
            )
        )
    return HistoryEdition(
        name,
        day,
        need_str(data, "title", "the edition"),
        str(data.get("intro") or ""),
        tuple(items),
        _fingerprint(text),
    )


class ImportStatus(StrEnum):
    """How importing one file ended."""

    IMPORTED = "imported"
    ALREADY = "already imported"
    REFUSED = "refused"
    MALFORMED = "malformed"


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """What importing one file did: how it ended, one line to show, how items were matched.

    ``matched`` counts the file's items by how they were found in the store (``arxiv``,
    ``url``, ``title``) or ``created`` from the file's own text.
    """

    status: ImportStatus
    message: str
    matched: Mapping[str, int] = field(default_factory=dict)


def sighting_of(item: HistoryItem, edition_date: date) -> IdentifiedSighting:
    """Return the sighting that stores an item no source brought, from the file's own text.

    It is dated on the edition's Monday, so it belongs to the week the editor featured it in;
    an item with neither an arXiv id nor a link is identified by its normalised title.
    """
    text = " ".join((item.why, *item.takeaways))
    sighting = Sighting(
        source=item.source,
        url=item.url or (f"https://arxiv.org/abs/{item.arxiv_id}" if item.arxiv_id else ""),
        title=item.title,
        summary=text,
        authors=item.authors,
        published_at=datetime.combine(edition_date, time(0), UTC),
        arxiv_id=item.arxiv_id,
        data={"imported": True},
    )
    if item.arxiv_id:
        return IdentifiedSighting(f"arxiv:{item.arxiv_id}", item.kind, sighting)
    if item.url:
        try:
            return IdentifiedSighting(canonical_id(item.url), item.kind, sighting)
        except ValueError:
            pass  # an unusable link: the title identifies it, as for an item with none
    digest = hashlib.sha256(normalised_title(item.title).encode()).hexdigest()[:16]
    return IdentifiedSighting(f"imported:{digest}", item.kind, sighting)
