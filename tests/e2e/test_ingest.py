"""Ingest end to end: settings -> real adapters -> local HTTP server -> real store.

Everything the outside world would send is recorded data served on 127.0.0.1; nothing reaches
the network. Each failure mode of the issue is a feed of its own in one run, to show that no
failure stops the others and that each is recorded with a readable reason.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app.wiring import App, ingest, open_app
from bot.config import Settings, load_settings
from bot.domain import RunOutcome
from tests.conftest import data_file
from tests.fakes.clock import FakeClock
from tests.fakes.http_server import FakeHttpServer, Reply

ATOM = "application/atom+xml"
PAPER_ID = "2104.12255"


def hf_response_for(paper_id: str) -> bytes:
    """A real HF daily-papers item (2026 shape) re-pointed at ``paper_id``."""
    item = json.loads(data_file("hf_daily_papers_item_2026-03.json").read_bytes())
    item["paper"]["id"] = paper_id
    return json.dumps([item]).encode()


def blog_feed_linking(url: str) -> bytes:
    """A minimal Atom feed whose one entry is a link to ``url`` (a post that is a paper)."""
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Paper blog</title>
<link href="https://blog.example/" rel="alternate"/><id>https://blog.example/</id>
<updated>2026-04-10T10:00:00Z</updated>
<entry><title>Why zero is the funniest number</title><link href="{url}" rel="alternate"/>
<id>{url}</id><updated>2026-04-10T10:00:00Z</updated>
<summary type="html">&lt;p&gt;A &lt;a href="{url}"&gt;paper&lt;/a&gt; on BLS bugs.&lt;/p&gt;
</summary>
</entry></feed>""".encode()


def write_settings(tmp_path: Path, server: FakeHttpServer, feeds: dict[str, str]) -> Settings:
    feed_tables = "".join(
        f'[[sources.feeds]]\nname = "{name}"\nurl = "{server.url(path)}"\n'
        for name, path in feeds.items()
    )
    config = tmp_path / "digestbot.toml"
    config.write_text(
        f"""
database_url = "sqlite:///{tmp_path / "digest.db"}"
[sources]
timeout_s = 2.0
max_bytes = 2_000_000
[sources.hf]
url = "{server.url("/api/daily_papers")}"
weeks = 1
[sources.arxiv]
url = "{server.url("/api/query")}"
[sources.semantic_scholar]
url = "{server.url("/graph/v1")}"
{feed_tables}
""",
        encoding="utf-8",
    )
    return load_settings({"DIGEST_CONFIG": str(config)})


@pytest.fixture
async def app_and_server(tmp_path: Path) -> AsyncIterator[tuple[App, FakeHttpServer]]:
    async with FakeHttpServer() as server:
        server.route(
            "/api/daily_papers",
            Reply(body=hf_response_for(PAPER_ID), content_type="application/json"),
        )
        server.route(
            "/api/query",
            Reply(body=data_file("arxiv_idlist_2104.12255v1.atom").read_bytes(), content_type=ATOM),
        )
        server.route(
            "/graph/v1/paper/batch", Reply(body=b"[null]", content_type="application/json")
        )
        server.route(
            "/feeds/willison",
            Reply(body=data_file("feeds/willison_atom.xml").read_bytes(), headers={"ETag": '"w1"'}),
        )
        server.route(
            "/feeds/paperblog", Reply(body=blog_feed_linking(f"https://arxiv.org/abs/{PAPER_ID}"))
        )
        settings = write_settings(
            tmp_path, server, {"willison": "/feeds/willison", "paperblog": "/feeds/paperblog"}
        )
        async with open_app(settings, FakeClock()) as app:
            yield app, server


async def test_a_paper_from_four_sources_is_one_item_with_four_sightings(
    app_and_server: tuple[App, FakeHttpServer],
) -> None:
    app, _ = app_and_server
    await app.store.add_submission(
        f"https://arxiv.org/pdf/{PAPER_ID}v1", "Editors love zero", "U0EDITOR", app.clock.now()
    )
    report = await ingest(app)

    assert not report.failed, [run.reason for run in report.failed]
    item = await app.store.get_item(f"arxiv:{PAPER_ID}")
    assert item is not None
    assert item.sources == ("api-arxiv", "api-hf", "manual", "rss-paperblog")
    # arXiv is the most authoritative witness: its title and author win over HF's and the blog's.
    assert item.content.title == "0"
    assert item.content.authors == ("Quan Thoi Minh Nguyen",)
    assert item.content.url == f"https://arxiv.org/abs/{PAPER_ID}"
    assert item.content.data["note"] == "Editors love zero"


async def test_reingest_of_unchanged_sources_changes_nothing(
    app_and_server: tuple[App, FakeHttpServer],
) -> None:
    app, server = app_and_server
    first = await ingest(app)
    assert first.totals.new > 30  # willison's 30 posts, the paper, ...
    before = await app.store.count_items()

    again = await ingest(app)

    assert again.changed_nothing
    assert await app.store.count_items() == before
    # The feed with an ETag was asked conditionally and cost one 304-able request.
    second_request = server.requests_to("/feeds/willison")[1]
    assert second_request.headers.get("If-None-Match") == '"w1"'


async def test_every_failure_mode_is_recorded_and_stops_nothing(tmp_path: Path) -> None:
    html_page = b"<!doctype html><html><head><title>Login</title></head><body>Hi</body></html>"
    async with FakeHttpServer() as server:
        server.route(
            "/api/daily_papers",
            Reply(body=hf_response_for(PAPER_ID), content_type="application/json"),
        )
        server.route(
            "/api/query", Reply(status=503, body=b"Service Unavailable", content_type="text/plain")
        )
        server.route(
            "/graph/v1/paper/batch",
            Reply(
                status=429,
                body=b'{"message": "Too Many Requests"}',
                content_type="application/json",
            ),
        )
        feeds = {
            "good": Reply(body=data_file("feeds/willison_atom.xml").read_bytes()),
            "slow": Reply(body=b"<rss/>", delay_s=5.0),
            "down": Reply(status=500, body=b"oops", content_type="text/plain"),
            "limited": Reply(status=429, headers={"Retry-After": "120"}, content_type="text/plain"),
            "html": Reply(body=html_page, content_type="text/html"),
            "broken": Reply(body=data_file("illformed/illformed__aaa_illformed.xml").read_bytes()),
            "huge": Reply(body=b"<rss>" + b" " * 50_000_000 + b"</rss>"),
            "endless": Reply(endless=True, content_type="application/rss+xml"),
        }
        for name, reply in feeds.items():
            server.route(f"/feeds/{name}", reply)
        settings = write_settings(tmp_path, server, {name: f"/feeds/{name}" for name in feeds})
        async with open_app(settings, FakeClock()) as app:
            report = await ingest(app)
            runs = {run.source: run for run in report.runs}
            recorded = {run.source: run for run in await app.store.last_source_runs()}

    assert runs["good"].outcome is RunOutcome.OK
    assert runs["good"].counts.new == 30
    assert runs["hf"].outcome is RunOutcome.OK
    expected_reasons = {
        "arxiv": "503",
        "slow": "within 2 s",
        "down": "HTTP 500",
        "limited": "120",
        "html": "HTML",
        "broken": "feed",
        "huge": "limit",
        "endless": "limit",
        "semantic_scholar": "429",
    }
    for name, fragment in expected_reasons.items():
        run = runs[name]
        assert run.outcome is RunOutcome.FAILED, name
        assert fragment in run.reason, (name, run.reason)
        assert "Traceback" not in run.reason
        assert recorded[name].reason == run.reason
