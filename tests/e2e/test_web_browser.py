"""The web archive in a real browser: headless Chromium against a running ``digestbot run``.

``digestbot run`` with no platform token serves the archive, its feed and health alone. The
browser loads the latest edition, one edition and a search; the test reads the DOM Chromium
built (items present, every local link answers 200, no console message) and keeps a phone-sized
screenshot of each page under the test's tmp_path. Skipped without Chromium, except in CI.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from pathlib import Path

import httpx
import pytest
from selectolax.lexbor import LexborHTMLParser

from storage.store import Store
from tests.builders import an_edition
from tests.cli_process import clean_env, start_digestbot, stop_digestbot


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run the browser test: install Debian's chromium package")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return found


async def browse(browser: str, url: str, profile: Path, screenshot: Path) -> tuple[str, str]:
    """Load ``url`` headless; return the DOM Chromium built and its console log lines."""
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        "--v=0",
        f"--user-data-dir={profile}",
    ]
    dump = await asyncio.create_subprocess_exec(
        browser, *flags, "--dump-dom", url,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    dom, log = await asyncio.wait_for(dump.communicate(), timeout=90)
    assert dump.returncode == 0, log.decode()[-2000:]
    shot = await asyncio.create_subprocess_exec(
        browser, *flags, "--window-size=412,915", f"--screenshot={screenshot}", url,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, shot_log = await asyncio.wait_for(shot.communicate(), timeout=90)
    assert shot.returncode == 0, shot_log.decode()[-2000:]
    console = [
        line
        for line in (log + shot_log).decode(errors="replace").splitlines()
        if ":CONSOLE" in line
    ]
    return dom.decode(), "\n".join(console)


async def archive_url(process: asyncio.subprocess.Process) -> str:
    """Read stderr until ``run`` says where the archive listens."""
    assert process.stderr is not None
    async with asyncio.timeout(60):
        while True:
            line = (await process.stderr.readline()).decode()
            assert line, "digestbot ended before it served the archive"
            found = re.search(r"web archive on (http://127\.0\.0\.1:\d+/)", line)
            if found:
                return found.group(1)


async def test_a_browser_reads_the_archive_served_by_run(tmp_path: Path) -> None:
    browser = chromium()
    url = f"sqlite:///{tmp_path / 'web.db'}"
    store = await Store.open(url)
    try:
        edition = await an_edition(store)
    finally:
        await store.aclose()
    titles = [entry.item.content.title for entry in edition.entries]
    process = await start_digestbot("run", env=clean_env(DIGEST_DATABASE_URL=url), cwd=tmp_path)
    try:
        base = await archive_url(process)
        pages = {
            "home": base,
            "edition": f"{base}editions/2026-04-13",
            "search": f"{base}search?q=ledgerline&difficulty=&topic=evaluation",
        }
        doms = {}
        for name, page in pages.items():
            screenshot = tmp_path / f"{name}.png"
            dom, console = await browse(browser, page, tmp_path / f"chrome-{name}", screenshot)
            assert console == "", console
            assert screenshot.stat().st_size > 1000
            doms[name] = LexborHTMLParser(dom)
        for name in ("home", "edition"):
            shown = [h.text() for h in doms[name].css("article.item h2")]
            assert shown == titles, name
        found = [h.text() for h in doms["search"].css("article.item h2")]
        assert found == [titles[0]]
        async with httpx.AsyncClient(base_url=base) as http:
            local = {
                link.attributes.get("href") or ""
                for dom in doms.values()
                for link in dom.css("a[href^='/']")
            }
            assert any(href.startswith("/items/") for href in local)
            for href in sorted(local):
                assert (await http.get(href)).status_code == 200, href
            assert (await http.get("/healthz")).status_code == 200
            assert "<feed" in (await http.get("/feed.atom")).text
    finally:
        code, stdout, stderr, _ = await stop_digestbot(process)
    assert code == 0, stderr
    assert "Stopped cleanly (web)." in stdout
    assert "Traceback" not in stderr
