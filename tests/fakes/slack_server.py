"""A fake Slack Web API on 127.0.0.1 for the real slack_sdk clients.

It answers ``/api/<method>`` as Slack does: HTTP 200 with ``{"ok": true, ...}`` or
``{"ok": false, "error": "..."}``, arguments as query string, form or JSON body, the token in
``Authorization: Bearer``. ``chat.postMessage`` stores messages per channel with their thread
and metadata; ``conversations.replies`` reads a thread back. Tests can make any call answer
429 with Retry-After (the message is then not stored, as on Slack).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from aiohttp import web

BOT_TOKEN = "xoxb-fake-token"


@dataclass
class FakeSlack:
    """Channels, their messages, and every call; use with ``async with``."""

    channels: set[str] = field(default_factory=lambda: {"C0DIGEST"})
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    rate_limit_next: int = 0
    port: int = 0
    _clock: int = 0
    _runner: web.AppRunner | None = None

    @property
    def api_url(self) -> str:
        """The value for SLACK_API_URL."""
        return f"http://127.0.0.1:{self.port}/api/"

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = int(getattr(server, "sockets", [])[0].getsockname()[1])
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def thread(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """Return a thread's messages, parent first."""
        return [
            m for m in self.messages.get(channel, []) if m["ts"] == ts or m.get("thread_ts") == ts
        ]

    async def _args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            args.update(await request.json())
        elif request.can_read_body:
            args.update(dict(await request.post()))
        return args

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        self.calls.append((method, args))
        if request.headers.get("Authorization") != f"Bearer {BOT_TOKEN}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if self.rate_limit_next > 0:
            self.rate_limit_next -= 1
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "0"}
            )
        if method == "auth.test":
            return web.json_response(
                {"ok": True, "team_id": "T0FAKE", "user_id": "U0BOT", "bot_id": "B0BOT"}
            )
        if method == "chat.postMessage":
            return self._post(args)
        if method == "conversations.replies":
            channel, ts = str(args.get("channel")), str(args.get("ts"))
            if channel not in self.channels:
                return web.json_response({"ok": False, "error": "channel_not_found"})
            return web.json_response(
                {"ok": True, "messages": self.thread(channel, ts), "has_more": False}
            )
        return web.json_response({"ok": False, "error": "unknown_method"})

    def _post(self, args: dict[str, Any]) -> web.Response:
        channel = str(args.get("channel"))
        if channel not in self.channels:
            return web.json_response({"ok": False, "error": "channel_not_found"})
        thread_ts = args.get("thread_ts")
        if thread_ts and not self.thread(channel, str(thread_ts)):
            return web.json_response({"ok": False, "error": "thread_not_found"})
        self._clock += 1
        ts = f"1776000000.{self._clock:06d}"
        blocks = args.get("blocks")
        message = {
            "type": "message",
            "ts": ts,
            "text": args.get("text", ""),
            "blocks": json.loads(blocks) if isinstance(blocks, str) else blocks,
            "metadata": json.loads(args["metadata"])
            if isinstance(args.get("metadata"), str)
            else args.get("metadata"),
            "unfurl_links": args.get("unfurl_links"),
            "link_names": args.get("link_names"),
        }
        if thread_ts:
            message["thread_ts"] = str(thread_ts)
        self.messages.setdefault(channel, []).append(message)
        return web.json_response({"ok": True, "channel": channel, "ts": ts, "message": message})
