"""Bounded fetches: compressed bodies are decoded under the size cap, layer by layer."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib

import httpx
import pytest

from adapters.sources.http_fetch import fetch_limited
from bot.ports import SourceError
from tests.fakes.http_server import FakeHttpServer, Reply

LIMIT = 1024 * 1024


def gzip_of_zeros(size: int) -> bytes:
    """Gzip ``size`` zero bytes without holding them (a compression bomb's payload)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1024 * 1024)
    parts = [packer.compress(block) for _ in range(size // len(block))]
    return b"".join([*parts, packer.flush()])


def encoded(body: bytes, encoding: str) -> Reply:
    return Reply(body=body, headers={"Content-Encoding": encoding}, content_type="text/plain")


async def fetch(reply: Reply) -> bytes:
    async with FakeHttpServer() as server, httpx.AsyncClient() as client:
        url = server.route("/body", reply)
        return (await fetch_limited(client, url, max_bytes=LIMIT)).content


async def test_a_nested_gzip_bomb_is_refused_at_the_limit_without_expanding() -> None:
    bomb = gzip.compress(gzip_of_zeros(200 * LIMIT), 9)  # 200 MB behind a few kilobytes
    assert len(bomb) < 64 * 1024
    tracemalloc.start()
    try:
        with pytest.raises(SourceError, match="exceeded the 1 MB limit"):
            await fetch(encoded(bomb, "gzip, gzip"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * LIMIT  # the old decoder held the whole 200 MB


async def test_a_single_gzip_bomb_is_refused_too() -> None:
    with pytest.raises(SourceError, match="exceeded"):
        await fetch(encoded(gzip_of_zeros(50 * LIMIT), "gzip"))


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, no zlib header
        ("gzip, gzip", lambda data: gzip.compress(gzip.compress(data))),
        ("identity", lambda data: data),
    ],
)
async def test_compressed_bodies_within_the_limit_decode_exactly(
    encoding: str, encode: object
) -> None:
    text = ("A feed entry about agents. " * 2000).encode()
    assert callable(encode)
    assert await fetch(encoded(encode(text), encoding)) == text


async def test_an_unknown_coding_is_one_clear_line() -> None:
    with pytest.raises(SourceError, match="unsupported content encoding \\(br\\)"):
        await fetch(encoded(b"\x0b\x01\x80", "br"))


async def test_a_body_that_does_not_decode_is_one_clear_line() -> None:
    with pytest.raises(SourceError, match="does not decode"):
        await fetch(encoded(b"not gzip at all", "gzip"))
