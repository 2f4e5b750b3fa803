"""Bounded HTTP GETs for every source: a size cap, an overall deadline, readable failures.

httpx's timeouts are per operation, so a server that trickles a byte every few seconds would
never time out; the overall deadline here catches that. The size cap stops a 50 MB (or endless)
body before it is held in memory, and applies to the decoded bytes of every content-coding
layer (`adapters.sources.bounded_decode`), so a compression bomb is refused at the cap too.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from adapters.sources.bounded_decode import (
    BoundedDecoder,
    OversizedBody,
    UnsupportedEncoding,
    codings,
)
from bot.ports import SourceError

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_DEADLINE_S = 60.0


@dataclass(frozen=True, slots=True)
class FetchedBody:
    """A response read in full (within the limits)."""

    status: int
    headers: httpx.Headers
    content: bytes
    url: str

    @property
    def content_type(self) -> str:
        """Return the media type without parameters, lower-cased (``""`` when absent)."""
        media_type: str = self.headers.get("content-type", "")
        return media_type.split(";", 1)[0].strip().lower()

    def text(self) -> str:
        """Decode the body with the declared charset, falling back to UTF-8 with replacement."""
        charset = "utf-8"
        for part in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = part.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                charset = value.strip().strip('"')
        try:
            return self.content.decode(charset, errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")


def host_of(url: str) -> str:
    """Return the host of ``url`` for messages (never the query, which may hold a key)."""
    return urlsplit(url).hostname or url


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size} bytes"


async def fetch_limited(
    client: httpx.AsyncClient,
    url: str,
    *,
    method: str = "GET",
    params: Mapping[str, str | int] | None = None,
    headers: Mapping[str, str] | None = None,
    json_body: object = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    deadline_s: float = DEFAULT_DEADLINE_S,
    follow_redirects: bool | None = None,
    extensions: Mapping[str, object] | None = None,
) -> FetchedBody:
    """Send one request and read the whole body within ``max_bytes`` and ``deadline_s``.

    Any HTTP status is returned (callers decide what 304, 400 or 429 mean); transport
    failures, an exceeded deadline and an oversized body raise `SourceError`.
    ``follow_redirects`` overrides the client's setting (``None`` keeps it).
    """
    host = host_of(url)
    try:
        async with asyncio.timeout(deadline_s):
            request = client.build_request(
                method,
                url,
                params=params,
                # Only the codings BoundedDecoder undoes (httpx would offer br and zstd when
                # their packages happen to be installed).
                headers={"Accept-Encoding": "gzip, deflate", **(headers or {})},
                json=json_body,
                extensions=dict(extensions) if extensions else None,
            )
            redirects = client.follow_redirects if follow_redirects is None else follow_redirects
            response = await client.send(request, stream=True, follow_redirects=redirects)
            try:
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise SourceError(
                        f"response from {host} is {_megabytes(int(declared))}, "
                        f"over the {_megabytes(max_bytes)} limit"
                    )
                chunks = await _read_bounded(response, host, max_bytes)
            finally:
                await response.aclose()
    except TimeoutError:
        raise SourceError(
            f"{host} did not answer in full within {deadline_s:g} s", transient=True
        ) from None
    except httpx.TimeoutException:
        raise SourceError(f"{host} timed out", transient=True) from None
    except httpx.HTTPError as exc:
        raise SourceError(
            f"could not reach {host}: {type(exc).__name__}: {exc}", transient=True
        ) from None
    return FetchedBody(response.status_code, response.headers, b"".join(chunks), str(response.url))


async def _read_bounded(response: httpx.Response, host: str, max_bytes: int) -> list[bytes]:
    """Read the raw body and decode it ourselves, every layer bounded by ``max_bytes``."""
    if response.is_stream_consumed:
        # An in-process transport (httpx.MockTransport: the demo's sample data, benchmarks)
        # hands over a body it already holds; nothing came over a network to expand.
        if len(response.content) > max_bytes:
            raise SourceError(f"response from {host} exceeded the {_megabytes(max_bytes)} limit")
        return [response.content]
    try:
        decoder = BoundedDecoder(codings(response.headers.get("content-encoding", "")), max_bytes)
    except UnsupportedEncoding as exc:
        raise SourceError(f"{host} sent an unsupported content encoding ({exc})") from None
    chunks: list[bytes] = []
    raw_size = 0
    try:
        async for raw in response.aiter_raw():
            raw_size += len(raw)
            if raw_size > max_bytes:
                raise OversizedBody
            chunks.append(decoder.feed(raw))
    except OversizedBody:
        raise SourceError(
            f"response from {host} exceeded the {_megabytes(max_bytes)} limit"
        ) from None
    except zlib.error:
        raise SourceError(f"{host} sent a body that does not decode") from None
    return chunks


def retry_after_seconds(headers: httpx.Headers, default: float) -> float:
    """Return the server's Retry-After in seconds (delta form), or ``default``."""
    value = headers.get("retry-after", "").strip()
    if value.isdigit():
        return float(value)
    return default
