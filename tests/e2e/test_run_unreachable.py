"""``digestbot run`` against a platform that refuses its token or cannot be reached.

A refused token stops start-up with one line naming the variable; an unreachable platform is
retried (``/healthz`` says degraded meanwhile) and SIGTERM still stops the bot within 10 s.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx

from tests.cli_process import clean_env, run_digestbot, start_digestbot, stop_digestbot
from tests.fakes import discord_server, slack_server
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.slack_server import FakeSlack

NOWHERE = "http://127.0.0.1:1"  # nothing listens on port 1: connections are refused at once


def database(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'digest.db'}"


async def health_port(process: asyncio.subprocess.Process) -> int:
    """Read stderr until the health server says where it listens."""
    assert process.stderr is not None
    async with asyncio.timeout(60):
        while True:
            line = (await process.stderr.readline()).decode()
            assert line, "digestbot ended before its health server started"
            found = re.search(r"health on http://127\.0\.0\.1:(\d+)/healthz", line)
            if found:
                return int(found.group(1))


async def health(port: int) -> dict[str, object]:
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"http://127.0.0.1:{port}/healthz")
    body: dict[str, object] = answer.json()
    return body


def assert_one_line(stderr: str, *wanted: str) -> None:
    assert "Traceback" not in stderr, stderr
    (line,) = [text for text in stderr.splitlines() if text.startswith("digestbot:")]
    for text in wanted:
        assert text in line, stderr


async def test_a_refused_slack_bot_token_stops_start_up_with_one_line(tmp_path: Path) -> None:
    async with FakeSlack() as slack:
        env = clean_env(
            DIGEST_DATABASE_URL=database(tmp_path),
            SLACK_BOT_TOKEN="xoxb-not-the-token",
            SLACK_APP_TOKEN=slack_server.APP_TOKEN,
            SLACK_API_URL=slack.api_url,
        )
        code, _, stderr = await run_digestbot("run", env=env, cwd=tmp_path, limit_s=60)
    assert code == 1
    assert_one_line(stderr, "SLACK_BOT_TOKEN", "invalid_auth")
    assert "xoxb-not-the-token" not in stderr


async def test_a_refused_slack_app_token_stops_start_up_with_one_line(tmp_path: Path) -> None:
    async with FakeSlack() as slack:
        env = clean_env(
            DIGEST_DATABASE_URL=database(tmp_path),
            SLACK_BOT_TOKEN=slack_server.BOT_TOKEN,
            SLACK_APP_TOKEN="xapp-not-the-token",
            SLACK_API_URL=slack.api_url,
        )
        code, _, stderr = await run_digestbot("run", env=env, cwd=tmp_path, limit_s=60)
    assert code == 1
    assert_one_line(stderr, "SLACK_APP_TOKEN")


async def test_an_unreachable_slack_is_retried_reported_and_sigterm_still_stops(
    tmp_path: Path,
) -> None:
    env = clean_env(
        DIGEST_DATABASE_URL=database(tmp_path),
        SLACK_BOT_TOKEN="xoxb-x",
        SLACK_APP_TOKEN="xapp-x",
        SLACK_API_URL=f"{NOWHERE}/api/",
    )
    process = await start_digestbot("run", env=env, cwd=tmp_path)
    try:
        port = await health_port(process)
        report = await health(port)
        assert report["status"] == "degraded"
        assert report["platforms"] == {"slack": False}
        await asyncio.sleep(2)  # a few attempts, each one line
    finally:
        code, _, stderr, took = await stop_digestbot(process)
    assert code == 0, stderr
    assert took < 10
    assert "Traceback" not in stderr, stderr
    assert "slack unreachable" in stderr


async def test_a_refused_discord_token_stops_start_up_with_one_line(tmp_path: Path) -> None:
    async with FakeDiscord() as discord:
        env = clean_env(
            DIGEST_DATABASE_URL=database(tmp_path),
            DISCORD_BOT_TOKEN="not.the.token",
            DISCORD_API_URL=discord.api_url,
            DISCORD_GATEWAY_URL=discord.gateway_url,
        )
        code, _, stderr = await run_digestbot("run", env=env, cwd=tmp_path, limit_s=60)
    assert code == 1
    assert_one_line(stderr, "DISCORD_BOT_TOKEN")
    assert "not.the.token" not in stderr


async def test_an_unreachable_discord_is_retried_and_sigterm_still_stops(tmp_path: Path) -> None:
    env = clean_env(
        DIGEST_DATABASE_URL=database(tmp_path),
        DISCORD_BOT_TOKEN=discord_server.BOT_TOKEN,
        DISCORD_API_URL=f"{NOWHERE}/api/v10",
        DISCORD_GATEWAY_URL="ws://127.0.0.1:1/",
    )
    process = await start_digestbot("run", env=env, cwd=tmp_path)
    try:
        port = await health_port(process)
        await asyncio.sleep(2)  # the first attempts fail; the bot stays up
        assert process.returncode is None
        report = await health(port)
        assert report["status"] == "degraded"
        assert report["platforms"] == {"discord": False}
    finally:
        code, _, stderr, took = await stop_digestbot(process)
    assert code == 0, stderr
    assert took < 10
    assert "Traceback" not in stderr, stderr
    assert "discord unreachable" in stderr
