"""Run ``digestbot`` as a real process with a clean environment (no stdin, our variables only)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

from tests.fakes import discord_server, slack_server
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.slack_server import FakeSlack

ENTRY = "from bot.app.cli import main; main()"


def clean_env(**settings: str) -> dict[str, str]:
    """Return this environment minus every digest, chat or OpenAI variable, plus ``settings``.

    Health listens on a free port (tests run in parallel), and the schedule is off unless a
    test turns it on: it would ingest from the real sources at once.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DIGEST_", "OPENAI_", "SLACK_", "DISCORD_"))
    }
    defaults = {"DIGEST_HTTP_PORT": "0", "DIGEST_SCHEDULE__ENABLED": "false"}
    return env | defaults | settings


def slack_env(slack: FakeSlack) -> dict[str, str]:
    """Return the variables that connect the bot to the fake Slack in Socket Mode."""
    return {
        "SLACK_BOT_TOKEN": slack_server.BOT_TOKEN,
        "SLACK_APP_TOKEN": slack_server.APP_TOKEN,
        "SLACK_API_URL": slack.api_url,
    }


def both_platforms_env(slack: FakeSlack, discord: FakeDiscord) -> dict[str, str]:
    """Return the variables that connect ``run`` to the fake Slack (Socket Mode) and Discord."""
    return {
        **slack_env(slack),
        "DISCORD_BOT_TOKEN": discord_server.BOT_TOKEN,
        "DISCORD_API_URL": discord.api_url,
        "DISCORD_GATEWAY_URL": discord.gateway_url,
        "DIGEST_DISCORD__GUILD_READY_TIMEOUT_S": "0.05",
    }


async def start_digestbot(*args: str, env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    """Start ``digestbot <args>`` without waiting for it."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        ENTRY,
        *args,
        cwd=cwd,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def run_digestbot(
    *args: str, env: dict[str, str], cwd: Path, limit_s: float = 120
) -> tuple[int, str, str]:
    """Run ``digestbot <args>`` to its end; return its exit code, stdout and stderr."""
    process = await start_digestbot(*args, env=env, cwd=cwd)
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=limit_s)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def stop_digestbot(
    process: asyncio.subprocess.Process, limit_s: float = 10
) -> tuple[int | None, str, str, float]:
    """Send SIGTERM and wait; return the exit code, stdout, stderr and seconds it took."""
    process.send_signal(signal.SIGTERM)
    started = time.perf_counter()
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=limit_s)
    return process.returncode, stdout.decode(), stderr.decode(), time.perf_counter() - started
