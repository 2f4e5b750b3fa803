"""Read a published edition's text and the recorded abstracts of its papers (for the benches).

An edition's text (``shared/seeds/*.txt``) lists items as: the title, the level
(Accessible/Intermediate/Advanced), a blank line, the title again, an optional authors line,
the "why" paragraph, "Takeaways" and its bullets, and a "via …" line that may end with
``arXiv:ID``. The abstracts come from the Hugging Face daily-papers records in
``shared/fixtures/real/hf_daily_2026-04`` (see its SOURCES.md), matched by arXiv id.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.domain import Item, ItemContent, ItemKind
from bot.edition.guard import source_text

SHARED = Path(__file__).resolve().parents[2] / "shared"
LEVELS = ("Accessible", "Intermediate", "Advanced")
_ARXIV = re.compile(r"arXiv:(\d{4}\.\d{4,5})")


@dataclass(frozen=True, slots=True)
class EditionItem:
    """One item of a published edition: what the reader saw."""

    title: str
    why: str
    takeaways: tuple[str, ...]
    arxiv_id: str | None


def parse_edition(text: str) -> list[EditionItem]:
    """Return the items of an edition's text, in order."""
    lines = text.splitlines()
    items: list[EditionItem] = []
    start = 0
    for index, line in enumerate(lines):
        if " via " not in f" {line.strip()}" or not re.search(r"(^|· )via ", line.strip()):
            continue
        block = [each.strip() for each in lines[start:index]]
        start = index + 1
        levels = [at for at, each in enumerate(block) if each in LEVELS]
        if not levels or "Takeaways" not in block:
            continue
        title = block[levels[0] - 1]
        marker = block.index("Takeaways")
        prose = [each for each in block[levels[0] + 1 : marker] if each and each != title]
        bullets = [each.lstrip("•").strip() for each in block[marker + 1 :] if each]
        found = _ARXIV.search(line)
        items.append(
            EditionItem(
                title=title,
                why=prose[-1] if prose else "",
                takeaways=tuple(bullets),
                arxiv_id=found.group(1) if found else None,
            )
        )
    return items


def _authors(value: object) -> tuple[str, ...]:
    """Return the authors of a record, stored as a list or as a list's repr."""
    if isinstance(value, list):
        return tuple(str(each) for each in value)
    if isinstance(value, str) and value.startswith("["):
        parsed = ast.literal_eval(value)
        return tuple(str(each) for each in parsed)
    return ()


def load_abstracts(folder: Path) -> dict[str, dict[str, object]]:
    """Return the recorded papers by arXiv id; complete records (with authors) win."""
    papers: dict[str, dict[str, object]] = {}
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        records = data["papers"] if isinstance(data, dict) else data
        for record in records:
            known = papers.get(record["id"])
            if known is None or (not known.get("authors") and record.get("authors")):
                papers[record["id"]] = record
    return papers


def source_for(record: dict[str, object]) -> str:
    """Return the text the summarizer's guard would be given for this paper."""
    content = ItemContent(
        canonical_id=f"arxiv:{record['id']}",
        kind=ItemKind.PAPER,
        title=str(record["title"]),
        url=f"https://arxiv.org/abs/{record['id']}",
        summary=str(record["summary"]),
        authors=_authors(record.get("authors")),
        published_at=None,
        arxiv_id=str(record["id"]),
        arxiv_version=None,
        data={},
        content_hash="",
    )
    moment = datetime(2026, 4, 13, tzinfo=UTC)
    return source_text(Item(0, content, ("api-hf",), moment, moment))


def checked_items(seed: Path, abstracts: Path) -> tuple[list[tuple[EditionItem, str]], int]:
    """Return (item, source) for items with a recorded abstract, and how many were skipped."""
    items = parse_edition(seed.read_text(encoding="utf-8"))
    papers = load_abstracts(abstracts)
    kept = [(item, source_for(papers[item.arxiv_id])) for item in items if item.arxiv_id in papers]
    return kept, len(items) - len(kept)
