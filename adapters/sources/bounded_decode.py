"""Content-Encoding decoded under a byte limit, however many layers a server stacks.

httpx decodes a gzip body one network chunk at a time with no bound on what a chunk expands
to, so 1.8 KB of nested ``Content-Encoding: gzip, gzip`` became 2 GB in one call. Here every
layer is a zlib decompressor asked for at most the bytes still allowed, so a bomb is refused
at the limit with only the limit held in memory.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

# zlib's wbits: gzip framing; zlib framing or raw deflate (both are sent as "deflate").
_GZIP = 16 + zlib.MAX_WBITS
_DEFLATE_AUTO = 32 + zlib.MAX_WBITS  # zlib or gzip header, detected
_RAW_DEFLATE = -zlib.MAX_WBITS
IDENTITY = frozenset({"", "identity"})
SUPPORTED = frozenset({"gzip", "x-gzip", "deflate"})


class OversizedBody(Exception):
    """The decoded body passed the limit (in some layer)."""


class UnsupportedEncoding(Exception):
    """The server used a content coding we do not decode."""


def codings(header: str) -> list[str]:
    """Return the codings of a ``Content-Encoding`` header in the order they were applied."""
    return [c.strip().lower() for c in header.split(",") if c.strip().lower() not in IDENTITY]


class _Layer:
    """One coding's decompressor, bounded by the bytes still allowed."""

    def __init__(self, coding: str) -> None:
        self._coding = coding
        self._decoder = zlib.decompressobj(_GZIP if coding in ("gzip", "x-gzip") else _DEFLATE_AUTO)
        self._raw_fallback = coding == "deflate"
        self.produced = 0

    def feed(self, data: bytes, limit: int) -> bytes:
        """Decode ``data``; raise `OversizedBody` once this layer's output passes ``limit``."""
        try:
            out = self._decoder.decompress(data, limit - self.produced + 1)
        except zlib.error:
            if not (self._raw_fallback and self.produced == 0):
                raise
            # Some servers send raw deflate without the zlib header.
            self._decoder = zlib.decompressobj(_RAW_DEFLATE)
            self._raw_fallback = False
            out = self._decoder.decompress(data, limit - self.produced + 1)
        self.produced += len(out)
        if self.produced > limit or self._decoder.unconsumed_tail:
            raise OversizedBody
        return out


class BoundedDecoder:
    """Decodes a body's stacked codings chunk by chunk; no layer may exceed ``limit`` bytes."""

    def __init__(self, applied: Sequence[str], limit: int) -> None:
        unknown = [c for c in applied if c not in SUPPORTED]
        if unknown:
            raise UnsupportedEncoding(unknown[0])
        # Decoding undoes the last coding applied first.
        self._layers = [_Layer(c) for c in reversed(applied)]
        self._limit = limit
        self.size = 0

    def feed(self, raw: bytes) -> bytes:
        """Return the fully decoded bytes that ``raw`` adds to the body."""
        data = raw
        for layer in self._layers:
            data = layer.feed(data, self._limit)
        self.size += len(data)
        if self.size > self._limit:
            raise OversizedBody
        return data
