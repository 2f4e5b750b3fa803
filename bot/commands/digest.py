"""Commands (DESIGN.md §6), platform-free: parse what a user typed, answer with a neutral Reply.

Slack passes free text (``difficulty:accessible edition:2026-04-13``, any order and case);
Discord passes typed options, which its adapter turns into the same text. Every error is one
short line that says what was wrong and what would be right.
"""

from __future__ import annotations

import re
from datetime import date

from bot.commands.ports import CommandStore, PaperFetchStore
from bot.commands.reply import Command, Reply, error, is_help, parse_options
from bot.domain import (
    Difficulty,
    EditionEntry,
)
from bot.edition.ports import Summarizer
from bot.edition.render import long_date, to_digest_item
from bot.ids import arxiv_id_from_url, parse_arxiv_id
from bot.ingest.ingester import identify
from bot.ports import Clock, PaperLookup, SourceError

DIGEST_KEYS = ("difficulty", "edition")
MAX_WORD_MATCHES = 5
# Searched words, and how much of each: no title word is longer, and an unbounded one is a
# LIKE pattern SQLite refuses ("too complex", past 50,000 bytes) or a slow scan elsewhere.
MAX_WORDS = 8
MAX_WORD_LENGTH = 40
_WORD = re.compile(r"[\w-]{2,}")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
DIGEST_USAGE = (
    "/digest [difficulty:accessible|intermediate|advanced] [edition:latest|YYYY-MM-DD]: "
    "the edition's items at a level.\n"
    "Options go in any order; the key may be left out: /digest accessible 2026-04-13.\n"
    "/paper <arXiv id, arXiv or HF link, or words>: an item's full card, or the best matches."
)
PAPER_USAGE = (
    "/paper <arXiv id, arXiv or HF link, or words>, e.g. /paper 2604.31415: the item's full "
    "card (an unknown paper is fetched and summarized), or the best matches for the words."
)


def digest_option(value: str) -> str | None:
    """Return the /digest option a bare value stands for: a level, ``latest`` or a date."""
    if value in {d.value for d in Difficulty}:
        return "difficulty"
    if value == "latest" or _DAY.fullmatch(value):
        return "edition"
    return None


def search_words(text: str) -> list[str]:
    """Return the words ``/paper <words>`` (and the web archive's search) looks for."""
    return [w.lower()[:MAX_WORD_LENGTH] for w in _WORD.findall(text)][:MAX_WORDS]


async def answer_digest(command: Command, store: CommandStore) -> Reply:
    """``/digest [difficulty:…] [edition:latest|YYYY-MM-DD]``: the edition's items at a level."""
    if is_help(command.text):
        return Reply(text=DIGEST_USAGE)
    parsed = parse_options(command.text, DIGEST_KEYS, digest_option)
    if isinstance(parsed, str):
        return error(parsed)
    if parsed.get("edition") == "help":  # Discord's typed option: /digest edition:help
        return Reply(text=DIGEST_USAGE)
    level: Difficulty | None = None
    if "difficulty" in parsed:
        try:
            level = Difficulty(parsed["difficulty"])
        except ValueError:
            valid = ", ".join(d.value for d in Difficulty)
            return error(f"unknown difficulty “{parsed['difficulty'][:20]}”; use one of: {valid}")
    wanted = parsed.get("edition", "latest")
    edition_date: date | None = None
    if wanted != "latest":
        try:
            edition_date = date.fromisoformat(wanted)
        except ValueError:
            return error(f"edition must be latest or a date like 2026-04-13, not “{wanted[:20]}”")
    edition = await store.edition(edition_date=edition_date)
    if edition is None:
        dates = await store.edition_dates()
        known = ", ".join(d.isoformat() for d in dates[:5]) or "none yet"
        return error(f"no edition for {wanted}; editions: {known}")
    items = tuple(
        to_digest_item(entry)
        for entry in edition.entries
        if level is None or entry.summary.difficulty is level
    )
    label = f"{level.label} items" if level else "Items"
    headline = f"{label} in the edition of {long_date(edition.date)}: {len(items)}"
    if edition.imported:
        headline += " (imported history)"
    if not items:
        headline += " (try another difficulty)"
    return Reply(text=headline, items=items)


async def answer_paper(command: Command, store: CommandStore) -> Reply:
    """``/paper <arXiv id | arXiv or HF URL | words>``: a stored item's card, or matches."""
    query = command.text.strip()
    if not query or is_help(query):
        return Reply(text=PAPER_USAGE)
    paper = arxiv_id_from_url(query) if "://" in query else parse_arxiv_id(query)
    if paper is not None:
        found = await store.featured_entry(paper.canonical)
        if found is not None:
            day, entry = found
            return Reply(
                text=f"From the edition of {long_date(day)}",
                items=(to_digest_item(entry),),
                full_cards=True,
            )
        item = await store.get_item(paper.canonical)
        if item is not None:
            return Reply(
                text=f"arXiv:{paper.id} “{item.content.title}” is stored but has not been "
                f"in an edition yet: {item.content.url}"
            )
        # Not stored: the adapter acknowledges with this line and fetches it on demand.
        return Reply(text=f"Fetching arXiv:{paper.id} and summarizing it…", fetch_arxiv_id=paper.id)
    words = search_words(query)
    if not words:
        return error("give an arXiv id, an arXiv or HF link, or some words to search for")
    matches = await store.search_featured(words, MAX_WORD_MATCHES)
    if not matches:
        return error(f"no featured item matches “{' '.join(words)[:60]}”")
    items = tuple(to_digest_item(entry) for _, entry in matches)
    return Reply(text=f"Best matches for “{' '.join(words)[:60]}”: {len(items)}", items=items)


async def answer(command: Command, store: CommandStore) -> Reply:
    """Answer any command; unknown commands get a line listing the known ones."""
    handlers = {"digest": answer_digest, "paper": answer_paper}
    handler = handlers.get(command.name.lstrip("/").lower())
    if handler is None:
        return error(f"unknown command /{command.name[:20]}; try /digest or /paper")
    return await handler(command, store)


async def fetch_paper(
    arxiv_id: str,
    papers: PaperLookup,
    store: PaperFetchStore,
    summarizer: Summarizer,
    clock: Clock,
) -> Reply:
    """Fetch an unknown paper from arXiv, store it, summarize it and answer with its card."""
    try:
        found = await papers.lookup([arxiv_id])
    except SourceError as exc:
        return error(f"could not fetch arXiv:{arxiv_id}: {exc.reason}")
    if not found:
        return error(f"arXiv has no paper {arxiv_id}; check the id")
    identified = identify(found[0])
    await store.upsert_sightings([identified], clock.now())
    item = await store.get_item(identified.canonical_id)
    if item is None:
        return error(f"arXiv:{arxiv_id} could not be stored; try again")
    summary = await summarizer.summarize(item)
    card = to_digest_item(EditionEntry(position=0, item=item, summary=summary))
    return Reply(text=f"arXiv:{arxiv_id}, fetched just now", items=(card,), full_cards=True)
