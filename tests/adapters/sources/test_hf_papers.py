"""Hugging Face daily papers: both recorded response shapes, week paging, failures."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import httpx
import pytest

from adapters.sources.hf_papers import HfPapersSource, iso_week, parse_daily_papers
from adapters.sources.sample import api_item
from bot.ingest.merge import sighting_date
from bot.ports import SourceError
from tests.conftest import data_file
from tests.fakes.clock import FakeClock
from tests.fakes.http_server import FakeHttpServer, RecordedRequest, Reply

JSON = "application/json"
RESPONSE_2024 = data_file("hf_daily_papers.json").read_bytes()
ITEM_2026 = json.loads(data_file("hf_daily_papers_item_2026-03.json").read_bytes())


def test_the_2024_response_shape() -> None:
    sightings = parse_daily_papers(RESPONSE_2024)
    assert [s.arxiv_id for s in sightings] == [
        "2410.17243",
        "2410.16251",
        "2410.18533",
        "2410.18693",
    ]
    first = sightings[0]
    assert first.source == "api-hf"
    assert first.arxiv_version is None
    assert first.url == "https://huggingface.co/papers/2410.17243"
    # The item's title has arXiv's hard line breaks removed; paper.title still has them.
    assert first.title == (
        "Breaking the Memory Barrier: Near Infinite Batch Size Scaling for Contrastive Loss"
    )
    assert first.authors[:2] == ("Zesen Cheng", "Hang Zhang")
    assert first.published_at == datetime(2024, 10, 22, 17, 59, 30, tzinfo=UTC)
    assert "\n" not in first.summary
    assert first.summary == first.summary.strip()
    assert dict(first.data) == {
        "upvotes": 64,
        "comments": 3,
        "hf_published_at": "2024-10-25T00:57:09.392000+00:00",
    }
    assert [s.data["upvotes"] for s in sightings] == [64, 41, 37, 35]


def test_the_2026_item_with_hf_summary_keywords_and_github() -> None:
    (paper,) = parse_daily_papers(json.dumps([ITEM_2026]).encode())
    assert paper.arxiv_id == "2602.23229"
    assert paper.title == "Large Multimodal Models as General In-Context Classifiers"
    assert paper.authors == (
        "Marco Garosi",
        "Matteo Farina",
        "Alessandro Conti",
        "Massimiliano Mancini",
        "Elisa Ricci",
    )
    assert paper.published_at == datetime(2026, 2, 26, 17, 8, 18, tzinfo=UTC)
    assert paper.summary.startswith("Which multimodal model should we use for classification?")
    data = dict(paper.data)
    assert data["upvotes"] == 10
    assert data["comments"] == 1
    assert data["github_repo"] == "https://github.com/marco-garosi/CIRCLE"
    assert data["github_stars"] == 9
    assert data["project_page"] == "https://circle-lmm.github.io/"
    assert str(data["hf_summary"]).startswith("Large Multimodal Models demonstrate")
    assert data["hf_keywords"] == ITEM_2026["paper"]["ai_keywords"]
    assert data["organization"] == "Multimedia and Human Understanding Group"
    # When it was put on Daily Papers, not arXiv's date.
    assert data["hf_published_at"] == "2026-02-26T12:08:18+00:00"
    assert json.loads(json.dumps(data)) == data


def test_the_listing_date_falls_back_to_submitted_on_daily_at() -> None:
    item = json.loads(json.dumps(ITEM_2026))
    del item["publishedAt"]
    (paper,) = parse_daily_papers(json.dumps([item]).encode())
    assert paper.data["hf_published_at"] == "2026-03-06T03:55:12.777000+00:00"


def test_unusable_items_are_skipped() -> None:
    no_title = json.loads(json.dumps(ITEM_2026))
    no_title["title"] = no_title["paper"]["title"] = "  "
    broken = [
        {"paper": {"id": "not-an-id", "title": "x"}},
        {"nopaper": 1},
        "text",
        no_title,
        ITEM_2026,
    ]
    assert [s.arxiv_id for s in parse_daily_papers(json.dumps(broken).encode())] == ["2602.23229"]


def test_odd_field_types_are_ignored_not_fatal() -> None:
    odd = json.loads(json.dumps(ITEM_2026))
    odd["paper"].update(authors=7, ai_keywords="one string", githubStars="nine")
    odd["numComments"] = None
    body = json.dumps([odd]).encode().replace(b'"upvotes": 10', b'"upvotes": NaN')
    (paper,) = parse_daily_papers(body)
    assert paper.authors == ()
    assert {"upvotes", "comments", "github_stars", "hf_keywords"}.isdisjoint(paper.data)
    assert paper.data["github_repo"] == "https://github.com/marco-garosi/CIRCLE"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<html>", "not JSON"),
        (b'{"error": "x"}', "not a list"),
        (b"\xff\xfe", "not"),
        (b"[" * 100_000, "nested too deeply|not JSON"),
    ],
)
def test_bodies_that_are_not_a_paper_list(body: bytes, reason: str) -> None:
    with pytest.raises(SourceError, match=reason):
        parse_daily_papers(body)


def test_iso_weeks() -> None:
    assert iso_week(date(2026, 4, 13)) == "2026-W16"
    assert iso_week(date(2027, 1, 1)) == "2026-W53"


async def test_weeks_are_paged_and_the_best_copy_of_a_paper_kept(
    http_server: FakeHttpServer, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    full_page = json.loads(RESPONSE_2024)
    more_upvotes = json.loads(json.dumps(full_page[0]))
    more_upvotes["paper"]["upvotes"] = 99

    def answer(request: RecordedRequest) -> Reply:
        if request.query["week"] == "2026-W16" and request.query["p"] == "0":
            return Reply(body=json.dumps(full_page).encode(), content_type=JSON)
        if request.query["week"] == "2026-W16":
            return Reply(body=json.dumps([ITEM_2026]).encode(), content_type=JSON)
        return Reply(body=json.dumps([more_upvotes]).encode(), content_type=JSON)

    url = http_server.route("/api/daily_papers", answer)
    batch = await HfPapersSource(client, clock, url=url, weeks=2, page_size=4).fetch({})

    asked = [(r.query["week"], r.query["p"], r.query["limit"]) for r in http_server.requests]
    assert asked == [("2026-W16", "0", "4"), ("2026-W16", "1", "4"), ("2026-W15", "0", "4")]
    assert len(batch.sightings) == 5
    kept = next(s for s in batch.sightings if s.arxiv_id == "2410.17243")
    assert kept.data["upvotes"] == 99
    assert batch.warnings == ()


async def test_paging_stops_at_max_pages_and_skipped_items_are_reported(
    http_server: FakeHttpServer, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    page = [*json.loads(RESPONSE_2024)[:3], {"paper": {"id": "nonsense"}}]
    url = http_server.route(
        "/api/daily_papers", Reply(body=json.dumps(page).encode(), content_type=JSON)
    )
    source = HfPapersSource(client, clock, url=url, weeks=1, page_size=4, max_pages=3)
    batch = await source.fetch({})
    assert [r.query["p"] for r in http_server.requests] == ["0", "1", "2"]
    assert len(batch.sightings) == 3  # the same papers on every page, kept once
    assert batch.warnings == ("skipped 3 items without a valid paper id or title",)


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Reply(status=429, headers={"Retry-After": "60"}, content_type=JSON), "HTTP 429.*60 s"),
        (Reply(status=429, content_type=JSON), r"rate limited by 127.0.0.1 \(HTTP 429\)$"),
        (Reply(status=500, body=b"oops", content_type="text/plain"), "HTTP 500 from 127.0.0.1"),
        (Reply(body=b"<!doctype html>", content_type="text/html"), "not JSON"),
    ],
)
async def test_failures_are_readable(
    http_server: FakeHttpServer,
    client: httpx.AsyncClient,
    clock: FakeClock,
    reply: Reply,
    reason: str,
) -> None:
    url = http_server.route("/api/daily_papers", reply)
    with pytest.raises(SourceError, match=reason):
        await HfPapersSource(client, clock, url=url).fetch({})


async def test_one_day(
    http_server: FakeHttpServer, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    url = http_server.route(
        "/api/daily_papers", Reply(body=json.dumps([ITEM_2026]).encode(), content_type=JSON)
    )
    papers = await HfPapersSource(client, clock, url=url).fetch_date(date(2026, 3, 6))
    assert [p.arxiv_id for p in papers] == ["2602.23229"]
    assert http_server.requests[0].query["date"] == "2026-03-06"


async def test_a_backfill_asks_hf_for_each_day_and_dates_papers_by_their_listing(
    http_server: FakeHttpServer, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    # A recorded day (its normalised records turned back into the API's items) and a day
    # whose item does not say when HF listed it.
    recorded = json.loads(data_file("hf_daily_papers_2026-04-08__senmo996.json").read_bytes())
    day_items = [api_item(record) for record in recorded["papers"]]
    undated = {**ITEM_2026, "publishedAt": None, "paper": {**ITEM_2026["paper"]}}
    undated["paper"].pop("submittedOnDailyAt", None)

    def by_date(request: RecordedRequest) -> Reply:
        items = {"2026-04-08": day_items, "2026-04-09": [undated]}.get(request.query["date"], [])
        return Reply(body=json.dumps(items).encode(), content_type=JSON)

    url = http_server.route("/api/daily_papers", by_date)
    batch = await HfPapersSource(client, clock, url=url).fetch_days(
        date(2026, 4, 7), date(2026, 4, 9)
    )
    assert [r.query["date"] for r in http_server.requests] == [
        "2026-04-07",
        "2026-04-08",
        "2026-04-09",
    ]
    assert all("week" not in r.query for r in http_server.requests)
    assert len(batch.sightings) == recorded["paper_count"] + 1
    listed = {s.arxiv_id: sighting_date(s) for s in batch.sightings}
    assert set(listed.values()) == {date(2026, 4, 8), date(2026, 4, 9)}
    assert listed[ITEM_2026["paper"]["id"]] == date(2026, 4, 9)
