"""The arXiv API adapter: three Atom generations, paging, pacing, throttling, errors."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from datetime import UTC, date, datetime

import httpx
import pytest

from adapters.sources.arxiv import ArxivSource, parse_arxiv_feed
from bot.ports import SourceError
from tests.conftest import data_file
from tests.fakes.clock import FakeClock
from tests.fakes.http_server import FakeHttpServer, RecordedRequest, Reply

ATOM = "application/atom+xml; charset=utf-8"


def atom(name: str) -> bytes:
    return data_file(name).read_bytes()


def test_current_format() -> None:
    page = parse_arxiv_feed(atom("arxiv_query.atom"))
    assert (page.total_results, page.start_index, len(page.sightings)) == (214881, 0, 10)
    first = page.sightings[0]
    assert first.source == "api-arxiv"
    assert (first.arxiv_id, first.arxiv_version) == ("2202.12139", 1)
    assert (
        first.title
        == "Testing Deep Learning Models: A First Comparative Study of Multiple Testing Techniques"
    )
    assert first.url == "https://arxiv.org/abs/2202.12139"
    assert first.authors == ("Mohit Kumar Ahuja", "Arnaud Gotlieb", "Helge Spieker")
    assert first.published_at == datetime(2022, 2, 24, 15, 5, 19, tzinfo=UTC)
    assert first.summary.startswith("Deep Learning (DL) has revolutionized the capabilities")
    assert "\n" not in first.summary
    assert "  " not in first.summary
    assert first.data["primary_category"] == "cs.SE"
    assert first.data["categories"] == ["cs.SE", "cs.LG"]
    assert first.data["comment"] == (
        "Artificial Intelligence in Software Testing 2022 workshop @ ICST 2022"
    )
    assert first.data["doi"] == "10.1109/ICSTW55395.2022.00035"
    assert str(first.data["journal_ref"]).startswith("Artificial Intelligence in Software Testing")
    assert "Ramírez" in page.sightings[1].authors[0]
    # What only arXiv knows goes to the store as JSON.
    assert json.loads(json.dumps(dict(first.data))) == dict(first.data)


def test_transitional_2025_11_format_with_href_only_links() -> None:
    page = parse_arxiv_feed(atom("arxiv_query_2025-11.atom"))
    assert (page.total_results, len(page.sightings)) == (7432, 10)
    first = page.sightings[0]
    assert (first.arxiv_id, first.arxiv_version) == ("nucl-ex/0408020", 1)
    assert first.url == "https://arxiv.org/abs/nucl-ex/0408020"
    assert first.published_at == datetime(2004, 8, 18, 23, 13, 32, tzinfo=UTC)
    assert first.data["updated"] == "2005-09-17T15:04:24+00:00"
    assert first.data["primary_category"] == "nucl-ex"
    assert len(first.authors) == 9
    assert "journal_ref" not in first.data  # absent, not empty
    assert "doi" not in first.data
    assert all(s.title and s.summary and s.arxiv_id for s in page.sightings)


def test_legacy_2025_08_format_with_wrapped_titles() -> None:
    page = parse_arxiv_feed(atom("arxiv_query_legacy_format_2025-08.atom"))
    assert (page.total_results, len(page.sightings)) == (7370, 10)
    wrapped = page.sightings[1]
    assert (wrapped.arxiv_id, wrapped.arxiv_version) == ("hep-ph/9411242", 1)
    assert wrapped.title == (
        "Proton-ring and Electron-linac Collider (PRELC) as a (first) "
        "TeV-rangeelectron-proton or photon-proton collider"
    )
    assert wrapped.authors == ("Raimo Vuopionperä",)
    assert all("\n" not in s.title and "  " not in s.title for s in page.sightings)
    assert all("\n" not in s.summary and s.summary == s.summary.strip() for s in page.sightings)


def test_old_style_ids_non_ascii_authors_and_versions_from_links() -> None:
    old = parse_arxiv_feed(atom("arxiv_idlist_astro-ph_0601001.atom")).sightings[0]
    assert (old.arxiv_id, old.arxiv_version) == ("astro-ph/0601001", 1)
    assert old.url == "https://arxiv.org/abs/astro-ph/0601001"
    assert old.data["journal_ref"] == "ActaAstron.56:1-50,2006"
    assert old.authors[0] == "Andrew Gould"  # the affiliation is not part of the name
    assert old.summary.startswith("We derive the frequencies of hot Jupiters")
    many = parse_arxiv_feed(atom("arxiv_idlist_1707.08567_nonascii_author.atom")).sightings[0]
    assert len(many.authors) == 34
    assert many.authors[0] == "Kees A. Schouhamer Immink"
    assert "Dirk Wübben" in many.authors
    # The official example's <id> has no version; its links say v1.
    manual = parse_arxiv_feed(atom("arxiv_usermanual_response_example.atom")).sightings[0]
    assert (manual.arxiv_id, manual.arxiv_version) == ("hep-ex/0307015", 1)
    assert parse_arxiv_feed(atom("arxiv_idlist_2104.12255v1.atom")).sightings[0].title == "0"


def test_the_legacy_empty_entries_for_unknown_ids_are_skipped() -> None:
    page = parse_arxiv_feed(atom("arxiv_idlist_missing_ids_legacy_format_2025-08.atom"))
    assert (page.total_results, page.entries, len(page.sightings)) == (4, 4, 1)


def test_a_doctype_entity_bomb_is_not_expanded() -> None:
    levels = "".join(f'<!ENTITY e{n} "{f"&e{n - 1};" * 10}">' for n in range(1, 10))
    bomb = (
        f'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY e0 "boom">{levels}]>'
        '<feed xmlns="http://www.w3.org/2005/Atom"><entry>'
        "<id>http://arxiv.org/abs/2101.00001v1</id><title>&e9;</title></entry></feed>"
    ).encode()
    (paper,) = parse_arxiv_feed(bomb).sightings
    assert paper.arxiv_id == "2101.00001"
    assert len(paper.title) < 100


@pytest.mark.parametrize(
    ("name", "ids"),
    [
        ("arxiv_idlist_missing_ids_2025-11.atom", ["2201.13452"]),
        ("arxiv_idlist_missing_ids_legacy_format_2025-08.atom", ["2201.13452"]),
        ("arxiv_idlist_two_ids_one_missing.atom", ["1707.08567"]),
        ("arxiv_empty_result.atom", []),
    ],
)
def test_unknown_ids_are_left_out(name: str, ids: list[str]) -> None:
    assert [s.arxiv_id for s in parse_arxiv_feed(atom(name)).sightings] == ids


@pytest.mark.parametrize(
    "name", ["arxiv_error_http400_bad_id.atom", "arxiv_usermanual_error_example.atom"]
)
def test_error_feeds_become_readable_reasons(name: str) -> None:
    with pytest.raises(SourceError, match="arXiv rejected the query: incorrect id format"):
        parse_arxiv_feed(atom(name))


def paged_responder(pages: list[bytes], page_size: int = 10) -> Callable[[RecordedRequest], Reply]:
    def answer(request: RecordedRequest) -> Reply:
        index = int(request.query["start"]) // page_size
        body = pages[index] if index < len(pages) else atom("arxiv_empty_result.atom")
        return Reply(body=body, content_type=ATOM)

    return answer


async def test_fetch_pages_at_least_three_seconds_apart(
    http_server: FakeHttpServer, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    pages = [
        atom("arxiv_query.atom"),
        atom("arxiv_query_2025-11.atom"),
        atom("arxiv_query_legacy_format_2025-08.atom"),
    ]
    url = http_server.route("/api/query", paged_responder(pages))
    clock.current = datetime(1990, 1, 1, tzinfo=UTC)  # nothing is older than the look-back
    source = ArxivSource(client, clock, url=url, query="cat:cs.CL", page_size=10, max_results=25)

    batch = await source.fetch({})

    assert len(batch.sightings) == 25
    requests = http_server.requests_to("/api/query")
    assert [r.query["start"] for r in requests] == ["0", "10", "20"]
    assert [r.query["max_results"] for r in requests] == ["10", "10", "5"]
    assert requests[0].query["search_query"] == "cat:cs.CL"
    assert requests[0].query["sortBy"] == "submittedDate"
    assert clock.sleeps == [3.0, 3.0]


async def test_paging_stops_at_the_look_back_window(
    http_server: FakeHttpServer, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    url = http_server.route("/api/query", paged_responder([atom("arxiv_query.atom")] * 5))
    source = ArxivSource(client, clock, url=url, page_size=10, max_results=50)
    batch = await source.fetch({})
    assert len(http_server.requests_to("/api/query")) == 1  # its papers are from 2022
    assert len(batch.sightings) == 10
    assert batch.state is None  # arXiv has no conditional GET


async def test_paging_stops_at_an_empty_page_or_the_total(
    http_server: FakeHttpServer, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    clock.current = datetime(1990, 1, 1, tzinfo=UTC)
    pages = [atom("arxiv_query.atom"), atom("arxiv_query_2025-11.atom")]
    url = http_server.route("/api/query", paged_responder(pages))
    batch = await ArxivSource(client, clock, url=url, page_size=10, max_results=300).fetch({})
    assert len(batch.sightings) == 20
    assert [r.query["start"] for r in http_server.requests] == ["0", "10", "20"]

    one = http_server.route(
        "/one", Reply(body=atom("arxiv_idlist_missing_ids_2025-11.atom"), content_type=ATOM)
    )
    batch = await ArxivSource(client, clock, url=one, page_size=10, max_results=300).fetch({})
    assert [s.arxiv_id for s in batch.sightings] == ["2201.13452"]
    assert len(http_server.requests_to("/one")) == 1  # totalResults was 1


async def test_fetch_and_lookup_share_one_pace(
    http_server: FakeHttpServer, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    clock.current = datetime(1990, 1, 1, tzinfo=UTC)
    started: list[datetime] = []
    query_pages = paged_responder([atom("arxiv_query.atom"), atom("arxiv_query_2025-11.atom")])

    def answer(request: RecordedRequest) -> Reply:
        started.append(clock.now())
        if "id_list" in request.query:
            return Reply(body=atom("arxiv_idlist_2104.12255v1.atom"), content_type=ATOM)
        return query_pages(request)

    url = http_server.route("/api/query", answer)
    source = ArxivSource(client, clock, url=url, page_size=10, max_results=20)
    batch, found = await asyncio.gather(
        source.fetch({}), source.lookup(["2104.12255", "2104.12256", "2104.12257"])
    )

    assert len(batch.sightings) == 20
    assert [s.arxiv_id for s in found] == ["2104.12255"]
    assert len(started) == 3
    gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(started)]
    assert all(gap >= 3.0 for gap in gaps), gaps


async def test_throttling_is_waited_out(
    http_server: FakeHttpServer, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    throttled = Reply(status=503, body=b"Rate exceeded.", content_type="text/plain")
    url = http_server.route(
        "/api/query",
        [throttled, Reply(body=atom("arxiv_idlist_2104.12255v1.atom"), content_type=ATOM)],
    )
    source = ArxivSource(client, clock, url=url, throttle_wait_s=15.0)
    found = await source.lookup(["2104.12255"])
    assert [s.arxiv_id for s in found] == ["2104.12255"]
    assert clock.sleeps == [15.0]  # the 15 s wait also covers the 3 s spacing
    assert len(http_server.requests_to("/api/query")) == 2


async def test_throttling_that_does_not_end_is_reported(
    http_server: FakeHttpServer, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    url = http_server.route(
        "/api/query", Reply(status=200, body=b"Rate exceeded.\n", content_type="text/plain")
    )
    source = ArxivSource(client, clock, url=url, throttle_retries=2, throttle_wait_s=15.0)
    with pytest.raises(SourceError, match=r"throttling requests \(Rate exceeded\.\); try again"):
        await source.lookup(["2104.12255"])
    assert len(http_server.requests_to("/api/query")) == 3
    assert clock.sleeps == [15.0, 15.0]


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (
            Reply(status=400, body=atom("arxiv_error_http400_bad_id.atom"), content_type=ATOM),
            "incorrect id format for abc",
        ),
        (Reply(status=400, body=b"Bad Request", content_type="text/plain"), "HTTP 400"),
        (
            Reply(status=502, body=b"Bad gateway", content_type="text/plain"),
            "HTTP 502 from 127.0.0.1",
        ),
        (
            Reply(body=b"<html><body>Maintenance</body></html>", content_type="text/html"),
            "not an Atom feed",
        ),
    ],
)
async def test_errors_are_readable(
    http_server: FakeHttpServer,
    client: httpx.AsyncClient,
    clock: FakeClock,
    reply: Reply,
    reason: str,
) -> None:
    url = http_server.route("/api/query", reply)
    with pytest.raises(SourceError, match=reason):
        await ArxivSource(client, clock, url=url).fetch({})


async def test_lookup_asks_in_chunks_and_deduplicates(
    http_server: FakeHttpServer, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    def answer(request: RecordedRequest) -> Reply:
        known = "2104.12255" in request.query["id_list"].split(",")
        name = "arxiv_idlist_2104.12255v1.atom" if known else "arxiv_empty_result.atom"
        return Reply(body=atom(name), content_type=ATOM)

    url = http_server.route("/api/query", answer)
    source = ArxivSource(client, clock, url=url, page_size=2)
    found = await source.lookup(["2604.00001", "2604.00002", "2604.00001", "2104.12255"])
    assert [s.arxiv_id for s in found] == ["2104.12255"]
    requests = http_server.requests_to("/api/query")
    assert [r.query["id_list"] for r in requests] == ["2604.00001,2604.00002", "2104.12255"]
    assert [r.query["max_results"] for r in requests] == ["2", "1"]
    assert clock.sleeps == [3.0]


async def test_a_backfill_adds_a_submitted_date_range_to_the_query(
    http_server: FakeHttpServer, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    pages = [atom("arxiv_query.atom"), atom("arxiv_query_2025-11.atom")]
    url = http_server.route("/api/query", paged_responder(pages))
    source = ArxivSource(client, clock, url=url, query="cat:cs.CL OR cat:cs.AI", page_size=10)
    batch = await source.fetch_days(date(2026, 4, 7), date(2026, 4, 13))
    queries = {r.query["search_query"] for r in http_server.requests}
    assert queries == {"(cat:cs.CL OR cat:cs.AI) AND submittedDate:[202604070000 TO 202604132359]"}
    # No look-back cut-off: the range bounds a backfill (these pages are years old).
    assert len(batch.sightings) == 20
