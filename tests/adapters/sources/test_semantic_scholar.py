"""Semantic Scholar citations: batches, nulls, 429 backoff, refused keys."""

from __future__ import annotations

import json

import httpx
import pytest

from adapters.sources.semantic_scholar import SemanticScholarCitations
from bot.ports import SourceError
from tests.conftest import data_file
from tests.fakes.clock import FakeClock
from tests.fakes.http_server import FakeHttpServer, RecordedRequest, Reply

JSON = "application/json"
BATCH = data_file("semanticscholar_batch_with_null.json").read_bytes()
TOO_MANY = Reply(
    status=429, body=data_file("semanticscholar_error_429.json").read_bytes(), content_type=JSON
)


def batch_ids() -> list[str]:
    """An id per paper of the recorded batch, in order (its arXiv id when it has one)."""
    papers = json.loads(BATCH)
    return [
        (p and (p.get("externalIds") or {}).get("ArXiv")) or f"0000.{n:05d}"
        for n, p in enumerate(papers)
    ]


async def test_a_recorded_batch_maps_counts_to_the_ids_asked(
    http_server: FakeHttpServer, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    url = http_server.route("/graph/v1/paper/batch", Reply(body=BATCH, content_type=JSON))
    ids = batch_ids()
    lookup = SemanticScholarCitations(
        client, clock, url=url.removesuffix("/paper/batch"), api_key="k-123"
    )
    counts = await lookup.citations(ids)

    papers = json.loads(BATCH)
    expected = {ids[n]: p["citationCount"] for n, p in enumerate(papers) if p is not None}
    assert counts == expected
    assert len(counts) == len(papers) - 1
    assert "0000.00000" not in counts  # the null: not known
    request = http_server.requests[0]
    assert request.method == "POST"
    assert request.query["fields"] == "citationCount,externalIds"
    assert json.loads(request.body)["ids"][0] == "ARXIV:0000.00000"
    assert request.headers["x-api-key"] == "k-123"


async def test_429_waits_then_succeeds(
    http_server: FakeHttpServer, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    answer = json.dumps(
        [{"paperId": "x", "externalIds": {"ArXiv": "2503.23674"}, "citationCount": 72}]
    ).encode()
    url = http_server.route(
        "/graph/v1/paper/batch",
        [
            TOO_MANY,
            Reply(status=429, headers={"Retry-After": "7"}),
            Reply(body=answer, content_type=JSON),
        ],
    )
    lookup = SemanticScholarCitations(
        client, clock, url=url.removesuffix("/paper/batch"), backoff_s=5.0
    )
    assert await lookup.citations(["2503.23674"]) == {"2503.23674": 72}
    assert clock.sleeps == [5.0, 7.0]
    assert "x-api-key" not in http_server.requests[0].headers


async def test_429_forever_is_reported_for_the_next_run(
    http_server: FakeHttpServer, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    url = http_server.route("/graph/v1/paper/batch", TOO_MANY)
    lookup = SemanticScholarCitations(
        client, clock, url=url.removesuffix("/paper/batch"), max_attempts=3
    )
    with pytest.raises(SourceError, match=r"rate limiting .*next run"):
        await lookup.citations(["2503.23674"])
    assert len(http_server.requests) == 3
    assert clock.sleeps == [5.0, 10.0]


async def test_a_refused_key_is_said_plainly(
    http_server: FakeHttpServer, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    body = data_file("semanticscholar_error_403_forbidden.json").read_bytes()
    url = http_server.route(
        "/graph/v1/paper/batch", Reply(status=403, body=body, content_type=JSON)
    )
    lookup = SemanticScholarCitations(
        client, clock, url=url.removesuffix("/paper/batch"), api_key="bad"
    )
    with pytest.raises(SourceError, match="refused the API key"):
        await lookup.citations(["2503.23674"])
    assert len(http_server.requests) == 1


async def test_large_requests_are_split_into_batches(
    http_server: FakeHttpServer, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    def answer(request: RecordedRequest) -> Reply:
        asked = json.loads(request.body)["ids"]
        papers = [
            {"externalIds": {"ArXiv": i.removeprefix("ARXIV:")}, "citationCount": 1} for i in asked
        ]
        return Reply(body=json.dumps(papers).encode(), content_type=JSON)

    url = http_server.route("/graph/v1/paper/batch", answer)
    ids = [f"2601.{n:05d}" for n in range(1, 1201)]
    counts = await SemanticScholarCitations(
        client, clock, url=url.removesuffix("/paper/batch")
    ).citations(ids)
    assert len(counts) == 1200
    assert [len(json.loads(r.body)["ids"]) for r in http_server.requests] == [500, 500, 200]


async def test_a_misaligned_answer_is_refused(
    http_server: FakeHttpServer, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    url = http_server.route("/graph/v1/paper/batch", Reply(body=b"[]", content_type=JSON))
    with pytest.raises(SourceError, match="does not match"):
        await SemanticScholarCitations(
            client, clock, url=url.removesuffix("/paper/batch")
        ).citations(["2503.23674"])
