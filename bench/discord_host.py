"""The fake Discord in a process of its own, for the fan-out benches.

The fake stamps each request as it handles it, against Discord's global limit (50 per
second in any second). Sharing the bench's process with a thousand Slack channels, or even
sharing its interpreter from a thread, a request waited for the fake up to a second on a
loaded machine (p99 0.84 s from the bot's send to the fake's stamp) and then counted in the
same second as the ones sent after it: bursts the bot never sent, answered 429. Discord's
edge stamps a request when it arrives, so the benches host the fake here, in its own
process, at a higher priority when allowed (root).

Run by `DiscordHost`; one JSON line per command on stdin and per answer on stdout:
``count`` answers the messages posted so far, ``report`` what the bench prints.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
from collections import Counter
from types import TracebackType
from typing import Any, Self

from tests.fakes.discord_server import FakeDiscord

NICENESS = -10


def report(fake: FakeDiscord, posted: list[float]) -> dict[str, Any]:
    """Return what the benches read back: each part's copies per channel, 429s, requests."""
    keys: Counter[str] = Counter()
    for channel in [c for c, info in fake.channels.items() if info["type"] == 0]:
        for where in [channel] + [t["id"] for t in fake.threads_of(channel)]:
            for message in fake.posts(where):
                keys[f"{channel}|{message['embeds'][-1]['footer']['text']}"] += 1
    calls = [c for c in fake.calls if not c[1].startswith(("/interactions/", "/webhooks/"))]
    return {
        "keys": dict(keys),
        "invalid_requests": fake.invalid_requests,
        "requests": len(calls),
        "first_post": posted[0] if posted else None,
        "last_post": posted[-1] if posted else None,
    }


async def serve(global_limit: int, channels: list[str]) -> None:
    """Serve the fake until stdin closes, answering the bench's commands."""
    with contextlib.suppress(PermissionError):
        os.setpriority(os.PRIO_PROCESS, 0, NICENESS)
    posted: list[float] = []
    async with FakeDiscord(global_limit_per_s=global_limit) as fake:
        fake.on_post = lambda channel: posted.append(time.monotonic())  # system-wide clock
        for channel in channels:
            fake.add_channel(channel, f"digest-{channel[-4:]}")
        print(json.dumps({"api_url": fake.api_url, "gateway_url": fake.gateway_url}), flush=True)
        loop = asyncio.get_running_loop()
        while line := (await loop.run_in_executor(None, sys.stdin.readline)).strip():
            answer = {"messages": len(posted)} if line == "count" else report(fake, posted)
            print(json.dumps(answer), flush=True)


class DiscordHost:
    """Starts the fake Discord in its own process; use with ``async with``."""

    def __init__(self, global_limit: int, channels: list[str]) -> None:
        self._args = ["--global-limit", str(global_limit), *channels]
        self._process: asyncio.subprocess.Process | None = None
        self.api_url = ""
        self.gateway_url = ""

    async def __aenter__(self) -> Self:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.discord_host", *self._args,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=2**26,
        )  # fmt: skip
        urls = await self._read()
        self.api_url, self.gateway_url = urls["api_url"], urls["gateway_url"]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._process is not None:
            assert self._process.stdin is not None
            self._process.stdin.close()
            await self._process.wait()

    async def _read(self) -> dict[str, Any]:
        assert self._process is not None
        assert self._process.stdout is not None
        line = await self._process.stdout.readline()
        if not line:
            raise RuntimeError("the fake Discord's process ended")
        answer: dict[str, Any] = json.loads(line)
        return answer

    async def ask(self, command: str) -> dict[str, Any]:
        """Send ``count`` or ``report``; return the answer."""
        assert self._process is not None
        assert self._process.stdin is not None
        self._process.stdin.write(command.encode() + b"\n")
        await self._process.stdin.drain()
        return await self._read()

    async def messages(self) -> int:
        """Return how many messages the bot has posted so far."""
        return int((await self.ask("count"))["messages"])


def main() -> None:
    """Parse the options and serve."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--global-limit", type=int, required=True)
    parser.add_argument("channels", nargs="*")
    args = parser.parse_args()
    asyncio.run(serve(args.global_limit, args.channels))


if __name__ == "__main__":
    main()
