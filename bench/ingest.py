"""Benchmark: ingest the 200-feed corpus into SQLite, next to bare feedparser on the same files.

Run: ``.venv/bin/python bench/ingest.py [CORPUS_DIR]``. Each side runs in its own process so
that its peak RSS is its own. "Ours" is the whole ingest through the real code: FeedSource
(served from memory by httpx.MockTransport), parsing, HTML to text, canonical ids, the SQLite
upsert and the run records. Goal: ours >= 0.75x bare feedparser's entries/s; peak RSS <= 200 MB.
"""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared/fixtures/real/feeds/corpus"


def peak_rss_mb() -> float:
    """Return this process's peak resident set size in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load(corpus: Path) -> list[tuple[str, bytes]]:
    """Return (name, bytes) of every file in the corpus, sorted by name."""
    return [(path.name, path.read_bytes()) for path in sorted(corpus.iterdir()) if path.is_file()]


def bare_feedparser(corpus: Path) -> dict[str, float]:
    """Parse every file with feedparser's defaults; count entries."""
    import feedparser

    files = load(corpus)
    started = time.perf_counter()
    entries = sum(len(feedparser.parse(content).entries) for _, content in files)
    elapsed = time.perf_counter() - started
    return {"entries": entries, "seconds": elapsed, "rss_mb": peak_rss_mb()}


async def _ours(corpus: Path, files: list[str]) -> dict[str, float]:
    import httpx

    from adapters.sources.feeds import FeedSource
    from bot.clock import SystemClock
    from bot.ingest.ingester import Ingester
    from storage.store import Store

    # Each feed is read when it is asked for, as a network would deliver it: the corpus is
    # not held in memory by the benchmark itself.

    def serve(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=(corpus / request.url.path.strip("/")).read_bytes())

    with tempfile.TemporaryDirectory() as folder:
        store = await Store.open(f"sqlite:///{folder}/bench.db")
        try:
            async with httpx.AsyncClient(transport=httpx.MockTransport(serve)) as client:
                sources = [
                    FeedSource(
                        f"f{index}", f"https://corpus.test/{name}", client, max_entries=100_000
                    )
                    for index, name in enumerate(files)
                ]
                ingester = Ingester(store, SystemClock(), concurrency=4)
                started = time.perf_counter()
                report = await ingester.run(sources)
                elapsed = time.perf_counter() - started
            stored = await store.count_items()
        finally:
            await store.aclose()
    return {
        "sightings": sum(run.fetched for run in report.runs),
        "stored_items": stored,
        "failed_sources": len(report.failed),
        "seconds": elapsed,
        "rss_mb": peak_rss_mb(),
    }


def measure(mode: str, corpus: Path) -> dict[str, float]:
    """Run one side in this process."""
    if mode == "feedparser":
        return bare_feedparser(corpus)
    return asyncio.run(_ours(corpus, sorted(p.name for p in corpus.iterdir() if p.is_file())))


def in_subprocess(mode: str, corpus: Path) -> dict[str, float]:
    """Run one side in a fresh interpreter and return its figures."""
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, __file__, "--mode", mode, str(corpus)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    figures: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    """Print both sides' figures and the ratio against the goals."""
    args = sys.argv[1:]
    if args[:1] == ["--mode"]:
        print(json.dumps(measure(args[1], Path(args[2]))))
        return
    corpus = Path(args[0]) if args else DEFAULT_CORPUS
    if not corpus.is_dir():
        sys.exit(f"corpus not found at {corpus}; pass its folder as the first argument")
    bare = in_subprocess("feedparser", corpus)
    ours = in_subprocess("ours", corpus)
    # Both sides read the same files: the rate of each is the same entries over its own time.
    bare_rate = bare["entries"] / bare["seconds"]
    our_rate = bare["entries"] / ours["seconds"]
    print(f"corpus: {corpus} ({sum(1 for p in corpus.iterdir() if p.is_file())} files)")
    print(
        f"bare feedparser : {bare['entries']:>6.0f} entries in {bare['seconds']:6.2f} s "
        f"= {bare_rate:7.0f} entries/s, peak RSS {bare['rss_mb']:.0f} MB"
    )
    print(
        f"our ingest      : {bare['entries']:>6.0f} entries in {ours['seconds']:6.2f} s "
        f"= {our_rate:7.0f} entries/s, peak RSS {ours['rss_mb']:.0f} MB; "
        f"{ours['sightings']:.0f} sightings, {ours['stored_items']:.0f} items stored, "
        f"{ours['failed_sources']:.0f} sources refused (not a feed)"
    )
    ratio = our_rate / bare_rate
    print(f"ratio           : {ratio:.2f}x bare feedparser (goal >= 0.75x)")
    print(f"peak RSS        : {ours['rss_mb']:.0f} MB (goal <= 200 MB)")


if __name__ == "__main__":
    main()
