"""``run_until`` serves the archive beside Slack's HTTP mode, or alone; or not when turned off."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import httpx
import pytest

from bot.app.run import NothingToRunError, run_until
from bot.app.wiring import open_app
from bot.config import load_settings
from storage.store import Store
from tests.builders import an_edition
from tests.fakes.clock import FakeClock
from tests.fakes.slack_server import BOT_TOKEN, FakeSlack


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def serve_and_get(env: dict[str, str], paths: list[str]) -> tuple[list[int], list[str]]:
    """Run the bot until each path answered; return the statuses and what ran."""
    port = free_port()
    settings = load_settings(env | {"DIGEST_HTTP_PORT": str(port), "DIGEST_CONFIG": ""})
    stop = asyncio.Event()
    async with open_app(settings, FakeClock()) as app:
        running = asyncio.create_task(run_until(app, stop))
        statuses = []
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            async with asyncio.timeout(30):
                while True:
                    try:
                        await http.get("/healthz")
                        break
                    except httpx.ConnectError:
                        await asyncio.sleep(0.05)
            for path in paths:
                statuses.append((await http.get(path)).status_code)
        stop.set()
        ran = await running
    return statuses, ran


async def test_slack_http_mode_serves_the_archive_on_its_server(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'run.db'}"
    async with await Store.open(url) as store:
        await an_edition(store)
    async with FakeSlack() as slack:
        env = {
            "DIGEST_DATABASE_URL": url,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": "s3cret",
            "SLACK_API_URL": slack.api_url,
            "DIGEST_SCHEDULE__ENABLED": "false",
        }
        statuses, ran = await serve_and_get(env, ["/editions/2026-04-13", "/feed.atom"])
    assert statuses == [200, 200]
    assert ran == ["slack"]


async def test_without_a_platform_the_archive_runs_alone_unless_turned_off(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'alone.db'}"
    env = {"DIGEST_DATABASE_URL": url, "DIGEST_SCHEDULE__ENABLED": "false"}
    statuses, ran = await serve_and_get(env, ["/", "/editions/"])
    assert statuses == [200, 200]
    assert ran == ["web"]
    off = load_settings(env | {"DIGEST_WEB__ENABLED": "false", "DIGEST_CONFIG": ""})
    async with open_app(off, FakeClock()) as app:
        with pytest.raises(NothingToRunError, match="or leave DIGEST_WEB__ENABLED on"):
            await run_until(app, asyncio.Event())
