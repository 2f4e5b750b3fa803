"""A programmable HTTP server on 127.0.0.1 that serves recorded responses to the real clients.

Each path is given a `Reply`, a list of replies (served in turn, the last one repeated) or a
function of the request. Every request is recorded so that tests can assert what was asked
(conditional-GET headers, paging parameters, the pace of requests).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

from aiohttp import web

from tests.fakes.local_site import serve_locally


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake server saw it."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes
    at: float


@dataclass(frozen=True)
class Reply:
    """What the fake answers: status, body, headers; optionally slow or never-ending."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = "application/xml"
    delay_s: float = 0.0
    endless: bool = False
    chunk_delay_s: float = 0.0


Responder = Reply | list[Reply] | Callable[[RecordedRequest], Reply | Awaitable[Reply]]


class FakeHttpServer:
    """An aiohttp server on an ephemeral 127.0.0.1 port; use it with ``async with``."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._routes: dict[str, Responder] = {}
        self._served: dict[str, int] = {}
        self._runner: web.AppRunner | None = None
        self.port = 0

    def route(self, path: str, responder: Responder) -> str:
        """Serve ``responder`` at ``path`` and return the full URL of that path."""
        self._routes[path] = responder
        self._served[path] = 0
        return self.url(path)

    def url(self, path: str) -> str:
        """Return the absolute URL of ``path`` on this server."""
        return f"http://127.0.0.1:{self.port}{path}"

    def requests_to(self, path: str) -> list[RecordedRequest]:
        """Return the recorded requests for ``path``, oldest first."""
        return [request for request in self.requests if request.path == path]

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner, self.port = await serve_locally(app)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop serving and close every connection."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        recorded = RecordedRequest(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers=dict(request.headers),
            body=await request.read(),
            at=asyncio.get_running_loop().time(),
        )
        self.requests.append(recorded)
        responder = self._routes.get(request.path)
        if responder is None:
            return web.Response(status=404, text="no such fake route")
        reply = await self._pick(request.path, responder, recorded)
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        headers = {"Content-Type": reply.content_type, **reply.headers}
        if reply.endless:
            return await self._stream_forever(request, reply, headers)
        return web.Response(status=reply.status, body=reply.body, headers=headers)

    async def _pick(self, path: str, responder: Responder, recorded: RecordedRequest) -> Reply:
        if isinstance(responder, Reply):
            return responder
        if isinstance(responder, list):
            index = min(self._served[path], len(responder) - 1)
            self._served[path] += 1
            return responder[index]
        result = responder(recorded)
        if isinstance(result, Reply):
            return result
        return await result

    async def _stream_forever(
        self, request: web.Request, reply: Reply, headers: Mapping[str, str]
    ) -> web.StreamResponse:
        response = web.StreamResponse(status=reply.status, headers=headers)
        await response.prepare(request)
        chunk = reply.body or b"<rss><channel>" + b"<item><title>x</title></item>" * 2000
        try:
            while True:
                await response.write(chunk)
                await asyncio.sleep(reply.chunk_delay_s)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        return response
