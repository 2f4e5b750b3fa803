"""A real store with editions, and the archive served on 127.0.0.1 by aiohttp's test server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from selectolax.lexbor import LexborHTMLParser, LexborNode

from adapters.web.routes import add_web_routes
from bot.edition.profile import load_profile
from bot.web.links import Links
from storage.store import Store


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite:///{tmp_path / 'web.db'}")
    try:
        yield opened
    finally:
        await opened.aclose()


async def serve(
    store: Store, feed_links: Links | None = None
) -> TestClient[web.Request, web.Application]:
    """Return a client of the archive served from ``store`` (started; close it after)."""
    app = web.Application()
    add_web_routes(app, store, load_profile(), page_size=5, feed_links=feed_links or Links())
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return client


def one(parent: LexborHTMLParser | LexborNode, selector: str) -> LexborNode:
    """Return the first node ``selector`` finds under ``parent``; fail the test if none."""
    found = parent.css_first(selector)
    assert found is not None, f"nothing matches {selector}"
    return found
