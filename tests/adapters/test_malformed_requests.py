"""What anyone who reaches the HTTP port can send: at most one quiet line each, never a 500.

The health port (and Slack's HTTP mode, on the same kind of server) gets scanners, TLS on a
plain port and broken headers; Slack's own request timestamp may be anything.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from adapters.chat.slack_bot import SlackHttpBot, build_slack_app
from adapters.chat.slack_chat import web_client
from adapters.health import HealthServer
from bot.commands.health import HealthReport
from storage.store import Store
from tests.fakes.clock import FakeClock
from tests.fakes.slack_server import BOT_TOKEN, FakeSlack

MALFORMED = [
    b"GARBAGE\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\n\r\n",
    b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
]


async def send_raw(port: int, payload: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(payload)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(200), timeout=10)
    writer.close()
    return answer


async def test_malformed_requests_to_the_health_port_log_no_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def report() -> HealthReport:
        return HealthReport(datetime.now(UTC), True)

    server = HealthServer(report, "127.0.0.1", 0)
    await server.start()
    caplog.set_level(logging.DEBUG)
    try:
        for payload in MALFORMED:
            answer = await send_raw(server.port, payload)
            assert answer.startswith(b"HTTP/1.")
            assert b" 400 " in answer.split(b"\r\n")[0]
        async with httpx.AsyncClient() as http:  # the port still answers the probe
            assert (await http.get(f"http://127.0.0.1:{server.port}/healthz")).status_code == 200
    finally:
        await server.aclose()
    records = [r for r in caplog.records if r.name.startswith("aiohttp")]
    assert all(r.levelno <= logging.INFO for r in records), [r.getMessage() for r in records]
    assert all(r.exc_info is None for r in records)
    assert all("\n" not in r.getMessage() for r in records)


@pytest.mark.parametrize("stamp", ["not-a-number", "1e9", "", "-5", "9" * 40])
async def test_a_slack_request_with_a_bad_timestamp_is_401_without_a_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, stamp: str
) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'http.db'}")
    async with FakeSlack() as slack:
        app = build_slack_app(
            web_client(BOT_TOKEN, slack.api_url), store, FakeClock(), signing_secret="s3cret"
        )
        bot = SlackHttpBot(app, "127.0.0.1", 0)
        await bot.start()
        caplog.set_level(logging.DEBUG)
        try:
            body = b"command=%2Fdigest&text="
            base = f"v0:{stamp}:".encode() + body
            signature = "v0=" + hmac.new(b"s3cret", base, hashlib.sha256).hexdigest()
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": signature,
            }
            async with httpx.AsyncClient() as http:
                answer = await http.post(
                    f"http://127.0.0.1:{bot.port}/slack/events", content=body, headers=headers
                )
        finally:
            await bot.aclose()
            await store.aclose()
    assert answer.status_code == 401
    assert not [r for r in caplog.records if r.exc_info is not None or r.levelno >= logging.ERROR]


async def test_a_well_formed_timestamp_still_reaches_the_signature_check(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'http.db'}")
    async with FakeSlack() as slack:
        app = build_slack_app(
            web_client(BOT_TOKEN, slack.api_url), store, FakeClock(), signing_secret="s3cret"
        )
        bot = SlackHttpBot(app, "127.0.0.1", 0)
        await bot.start()
        try:
            stamp = str(int(time.time()))
            body = b"command=%2Fdigest&text="
            base = f"v0:{stamp}:".encode() + body
            signature = "v0=" + hmac.new(b"s3cret", base, hashlib.sha256).hexdigest()
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": signature,
            }
            async with httpx.AsyncClient() as http:
                answer = await http.post(
                    f"http://127.0.0.1:{bot.port}/slack/events", content=body, headers=headers
                )
        finally:
            await bot.aclose()
            await store.aclose()
    assert answer.status_code == 200
