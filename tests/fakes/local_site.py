"""Serve an aiohttp application on an ephemeral 127.0.0.1 port (shared by every fake)."""

from __future__ import annotations

from aiohttp import web


async def serve_locally(app: web.Application) -> tuple[web.AppRunner, int]:
    """Start ``app`` on 127.0.0.1 and return its runner and the port it got."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    if not sockets:
        await runner.cleanup()
        raise RuntimeError("the fake server did not bind a port")
    return runner, int(sockets[0].getsockname()[1])
