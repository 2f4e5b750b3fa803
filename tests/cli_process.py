"""Run ``digestbot`` as a real process with a clean environment (no stdin, our variables only)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

ENTRY = "from bot.cli import main; main()"


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
