"""Shared fixtures: recorded data, a fake clock and a local HTTP server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.fakes.clock import FakeClock
from tests.fakes.http_server import FakeHttpServer

DATA = Path(__file__).parent / "data"
SHARED_FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "real"


def data_file(name: str) -> Path:
    """Return a recorded file copied into tests/data."""
    return DATA / name


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def http_server() -> AsyncIterator[FakeHttpServer]:
    async with FakeHttpServer() as server:
        yield server


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """A real httpx client that follows redirects, as the app's shared client does."""
    async with httpx.AsyncClient(follow_redirects=True) as opened:
        yield opened
