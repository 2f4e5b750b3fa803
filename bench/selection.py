"""How close offline selection comes to the editor's: the week of 2026-04-13 (prints figures).

The recorded HF lists of the days around that week (../shared/fixtures/real/hf_daily_2026-04,
the complete per-day lists) are ingested through the real HF adapter as a backfill asks them
(``?date=``), via an in-process transport that turns each recorded record back into the API's
item shape. The edition dated 2026-04-13 is then composed offline, and the week's candidates
ranked as ``digestbot candidates`` ranks them. The editor's real picks are the ``via api-hf``
papers of the seed edition (../shared/seeds/000_*.txt), read at run time.

It runs three times: before, with no history; after, with the two other seed editions
(001_*.txt and 003_*.txt, later weeks) imported through ``digestbot import``'s code path, so
the learned ranker (bot.edition.learned) trains on their text; and after, as in a team's
first week, when the store holds nothing but that week's papers beside the imported ones.
Nothing of seed 000 is read but its picks' arXiv ids, to count them.

Run from the repository root: ``.venv/bin/python -m bench.selection``.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx

from adapters.sources.hf_papers import HfPapersSource
from adapters.sources.sample import api_item
from bot.edition.candidates import week_ranking
from bot.edition.compose import compose_edition
from bot.edition.imports import import_files
from bot.edition.profile import load_profile
from bot.edition.summarize import OfflineSummarizer
from bot.ingest.ingester import Ingester
from storage.store import Store
from tests.fakes.clock import FakeClock

SHARED = Path(__file__).resolve().parents[2] / "shared"
FIXTURES = SHARED / "fixtures/real/hf_daily_2026-04"
MONDAY = date(2026, 4, 13)
TOP = 40
RECORDED_AT = datetime(2026, 5, 28, 12, 0, tzinfo=UTC)
RECORDED_DAYS = (date(2026, 4, 1), date(2026, 4, 19))
FIRST_WEEK = (MONDAY - timedelta(days=6), MONDAY)
"""A team's first week: the store holds the week's papers and nothing before or after."""
HISTORY_SEEDS = ("001_", "003_")
"""The other seed editions, imported as the team's history (their text only)."""
_API_HF_LINE = re.compile(r"via api-hf · arXiv:(\S+)")


def editor_picks() -> list[str]:
    """Return the arXiv ids of the seed edition's ``via api-hf`` items."""
    (seed,) = sorted((SHARED / "seeds").glob("000_*.txt"))
    return _API_HF_LINE.findall(seed.read_text(encoding="utf-8"))


def recorded_transport() -> httpx.MockTransport:
    """Answer HF's ``?date=`` from the recorded day lists (page 0; later pages are empty)."""

    def answer(request: httpx.Request) -> httpx.Response:
        day = request.url.params.get("date", "")
        path = FIXTURES / f"hf_daily_papers_{day}__senmo996.json"
        if request.url.params.get("p", "0") != "0" or not path.is_file():
            return httpx.Response(200, json=[])
        records = json.loads(path.read_bytes())["papers"]
        return httpx.Response(200, json=[api_item(record) for record in records])

    return httpx.MockTransport(answer)


@dataclass(frozen=True)
class Figures:
    """One run's figures: the picks in the composed edition and in the top of the ranking."""

    label: str
    candidates: int
    in_edition: int
    in_top: int
    ranks: list[int]
    missing: int
    imported: list[str]
    taste: str


async def measure(
    folder: Path, label: str, history: list[Path], days: tuple[date, date] = RECORDED_DAYS
) -> Figures:
    """Ingest the recorded ``days``, import ``history``, compose, rank; return the figures."""
    picks = editor_picks()
    # A backfill run when the lists were recorded: nothing was first seen during the week, so
    # the week is exactly the papers HF listed in it.
    clock = FakeClock(RECORDED_AT)
    store = await Store.open(f"sqlite:///{folder / f'selection-{label}.db'}")
    profile = load_profile()
    try:
        async with httpx.AsyncClient(transport=recorded_transport()) as client:
            hf = HfPapersSource(client, clock, url="https://huggingface.co/api/daily_papers")
            first, last = days
            started = time.perf_counter()
            report = await Ingester(store, clock).run([hf], days=(first, last))
            ingest_s = time.perf_counter() - started
        # The other seed editions, their text only, through digestbot import's code path.
        outcomes = await import_files(store, history, clock.now())
        stored = await store.count_items()
        started = time.perf_counter()
        result = await compose_edition(
            store, clock, OfflineSummarizer(profile), profile, edition_date=MONDAY
        )
        compose_s = time.perf_counter() - started
        ranking = await week_ranking(store, profile, MONDAY)
    finally:
        await store.aclose()
    if result.edition is None:
        sys.exit(f"no edition: {result.message}")

    print(
        f"[{label}] HF days {first}..{last}: {report.runs[0].fetched} listings; "
        f"{stored} items stored; ingest {ingest_s:.2f} s, compose {compose_s:.2f} s (offline)"
    )
    ranked = ranking.candidates
    composed = {e.item.content.arxiv_id for e in result.edition.entries}
    rank_of = {c.choice.item.content.arxiv_id: c.rank for c in ranked}
    top = {c.choice.item.content.arxiv_id for c in ranked[:TOP]}
    in_week = [p for p in picks if p in rank_of]
    return Figures(
        label,
        len(ranked),
        len(set(picks) & composed),
        len(set(picks) & top),
        sorted(rank_of[p] for p in in_week),
        len(picks) - len(in_week),
        [o.message for o in outcomes],
        ranking.taste.describe(),
    )


def report(figures: Figures, picks: int) -> None:
    """Print one run's figures."""
    print(f"{figures.label}:")
    for message in figures.imported:
        print(f"  import: {message}")
    print(f"  {figures.taste}")
    print(f"  in the composed 12: {figures.in_edition} of {picks}")
    print(f"  in the top {TOP} of candidates: {figures.in_top} of {picks}")
    print(f"  their ranks among {figures.candidates}: {', '.join(map(str, figures.ranks))}")
    if figures.missing:
        print(f"  not candidates this week: {figures.missing}")


async def measure_both(folder: Path) -> None:
    """Measure without history, then with the two other seed editions imported (twice)."""
    seeds = sorted((SHARED / "seeds").glob("*.txt"))
    history = [p for p in seeds if p.name.startswith(HISTORY_SEEDS)]
    before = await measure(folder, "before (no history)", [])
    after = await measure(folder, "after (seeds 001 and 003 imported)", history)
    first = await measure(
        folder, "after, in a first week (only the week's papers stored)", history, FIRST_WEEK
    )
    picks = len(editor_picks())
    print(
        f"Week of {MONDAY} ({MONDAY - timedelta(days=6)}..{MONDAY}): "
        f"{before.candidates} candidates; the editor's via api-hf picks (seed 000): {picks}"
    )
    report(before, picks)
    report(after, picks)
    report(first, picks)


def main() -> None:
    """Print the figures."""
    if not FIXTURES.is_dir():
        sys.exit(f"recorded HF lists not found at {FIXTURES}")
    with tempfile.TemporaryDirectory(prefix="bench-selection-") as folder:
        asyncio.run(measure_both(Path(folder)))


if __name__ == "__main__":
    main()
