"""Benchmark: the web archive's pages with 500 editions, served over HTTP on 127.0.0.1.

Run from the repository root: ``.venv/bin/python -m bench.web``. Seeds 500 weekly editions of
12 items (6,000 items) in a temporary SQLite database, serves the archive with aiohttp as
``digestbot run`` does, and requests each page many times with a real HTTP client: ``/``,
``/editions/`` (a middle page), one edition, a search, the Atom feed and an item page. Prints
p50 and p99 per page (the whole request: routing, SQL, view model, template), and the CPU
time this process spent per request (server and client), which other processes do not inflate.
Goal: p99 <= 50 ms for every page.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx
from aiohttp import web

from adapters.web.routes import add_web_routes
from bot.edition.profile import load_profile
from bot.web.links import Links
from storage.store import Store
from tests.builders import MONDAY, seed_editions

EDITIONS = 500
REQUESTS = 200
GOAL_MS = 50.0


async def main() -> None:
    """Seed, serve, measure, print."""
    with tempfile.TemporaryDirectory(prefix="bench-web-") as folder:
        store = await Store.open(f"sqlite:///{Path(folder) / 'web.db'}")
        started = time.perf_counter()
        await seed_editions(store, EDITIONS)
        print(f"seeded {EDITIONS} editions of 12 items in {time.perf_counter() - started:.1f} s")
        load = os.getloadavg()[0]
        print(f"load average {load:.1f} on {os.cpu_count()} CPUs (other work slows the wall times)")
        app = web.Application()
        add_web_routes(app, store, load_profile(), page_size=20, feed_links=Links())
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        pages = {
            "/": "/",
            "/editions/": "/editions/?page=12",
            "one edition": f"/editions/{(MONDAY - timedelta(weeks=260)).isoformat()}",
            "search": "/search?q=agents&difficulty=advanced",
            "search+topic": "/search?topic=inference",
            "feed.atom": "/feed.atom",
            "item": f"/items/https:%2F%2Farchive.example%2F{MONDAY.isoformat()}%2F3",
        }
        failed = False
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            print(f"{'page':<14}{'p50 ms':>9}{'p99 ms':>9}{'cpu ms':>9}{'KiB':>8}")
            for name, path in pages.items():
                first = await http.get(path)
                if first.status_code != 200:
                    print(f"{name:<14} answered {first.status_code}; the bench's data is wrong")
                    failed = True
                    continue
                times = []
                cpu_began = time.process_time()
                for _ in range(REQUESTS):
                    began = time.perf_counter()
                    answer = await http.get(path)
                    times.append((time.perf_counter() - began) * 1000)
                    assert answer.status_code == 200
                cpu = (time.process_time() - cpu_began) * 1000 / REQUESTS
                times.sort()
                p50 = statistics.median(times)
                p99 = times[int(len(times) * 0.99) - 1]
                failed |= p99 > GOAL_MS
                size = len(first.content) / 1024
                print(f"{name:<14}{p50:>9.1f}{p99:>9.1f}{cpu:>9.1f}{size:>8.0f}")
        print(f"goal: p99 <= {GOAL_MS:.0f} ms: {'missed' if failed else 'met'}")
        await runner.cleanup()
        await store.aclose()


if __name__ == "__main__":
    asyncio.run(main())
