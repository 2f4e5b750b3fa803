"""An in-process transport that answers the sources' requests from the bundled sample data.

`digestbot demo` runs the real adapters (HF, arXiv, feeds, Semantic Scholar) against recorded
responses shipped in the package, so it works offline and without keys.

Hugging Face is answered from recorded per-day lists of April 2026 (the week of the seeds'
edition of 2026-04-13). They were recorded in a normalised shape, not the API's: each record
is turned back into the API's item shape here (`api_item`), and a paper of those days asked
of the arXiv API by id is answered with an Atom entry built from the same record.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from functools import cache
from importlib import resources
from typing import Any
from xml.sax.saxutils import escape

import httpx

SAMPLE_FEEDS = {
    "willison": "https://simonwillison.net/atom/everything/",
    "interconnects": "https://www.interconnects.ai/feed",
    "openai": "https://openai.com/news/rss.xml",
}
"""The feeds the sample data holds, by name, at their real URLs."""

_FEED_FILES = {
    "simonwillison.net/atom/everything/": "willison_atom.xml",
    "www.interconnects.ai/feed": "substack_interconnects_ai_rss.xml",
    "openai.com/news/rss.xml": "openai_news_rss.xml",
}
_ARXIV_ID_FILES = {"2104.12255": "arxiv_idlist_2104.12255v1.atom"}
HF_DAYS = tuple(date(2026, 4, day) for day in (7, 8, 9, 10, 13))
"""The days whose HF lists are bundled: the week of the edition of 2026-04-13, Tuesday to
Monday (the weekend's lists were empty)."""
_S2_PAPER_FILE = "semanticscholar_paper.json"
_ATOM = "application/atom+xml; charset=utf-8"


def sample_bytes(name: str) -> bytes:
    """Return one bundled sample file."""
    return resources.files("bot").joinpath("sample_data", name).read_bytes()


def hf_day_file(day: date) -> str:
    """Return the name of the bundled HF list of ``day``."""
    return f"hf_daily_papers_{day.isoformat()}__senmo996.json"


@cache
def hf_day(day: date) -> tuple[dict[str, Any], ...]:
    """Return the recorded records of one bundled day (none for a day not bundled)."""
    if day not in HF_DAYS:
        return ()
    return tuple(json.loads(sample_bytes(hf_day_file(day)))["papers"])


def api_item(record: Mapping[str, Any]) -> dict[str, Any]:
    """Turn one recorded (normalised) record back into the HF API's item shape.

    The item's ``publishedAt`` is when HF listed the paper; ``paper.publishedAt`` arXiv's date.
    """
    return {
        "paper": {
            "id": record["id"],
            "title": record["title"],
            "summary": record.get("summary") or "",
            "authors": [{"name": name} for name in record.get("authors") or []],
            "publishedAt": record.get("published_at"),
            "submittedOnDailyAt": record.get("submitted_on_daily_at"),
            "upvotes": record.get("upvotes"),
            "ai_keywords": record.get("ai_keywords") or [],
            "githubRepo": record.get("github_repo"),
            "projectPage": record.get("project_page"),
        },
        "publishedAt": record.get("submitted_on_daily_at"),
        "title": record["title"],
        "numComments": record.get("num_comments"),
    }


def _week_days(week: str) -> list[date]:
    year, number = week.split("-W")
    monday = date.fromisocalendar(int(year), int(number), 1)
    return [monday + timedelta(days=n) for n in range(7)]


def _hugging_face(request: httpx.Request) -> httpx.Response:
    params = request.url.params
    days: Sequence[date] = ()
    try:
        if params.get("date"):
            days = [date.fromisoformat(params["date"])]
        elif params.get("week"):
            days = _week_days(params["week"])
    except ValueError:
        return httpx.Response(400, json={"error": "bad date or week"})
    items = [api_item(record) for day in days for record in hf_day(day)]
    first_page = params.get("p", "0") == "0"
    return httpx.Response(200, json=items if first_page else [])


def _record_entry(record: Mapping[str, Any]) -> str:
    authors = "".join(
        f"<author><name>{escape(name)}</name></author>" for name in record.get("authors") or []
    )
    return (
        f"<entry><id>http://arxiv.org/abs/{escape(record['id'])}</id>"
        f"<published>{escape(record.get('published_at') or '')}</published>"
        f"<title>{escape(record['title'])}</title>"
        f"<summary>{escape(record.get('summary') or '')}</summary>{authors}"
        f'<link href="http://arxiv.org/abs/{escape(record["id"])}" rel="alternate"'
        ' type="text/html"/></entry>'
    )


def _recorded_papers(ids: Sequence[str]) -> bytes | None:
    """Return an arXiv Atom feed of the bundled HF days' papers among ``ids``, if any."""
    wanted = set(ids)
    records = {r["id"]: r for day in HF_DAYS for r in hf_day(day) if r["id"] in wanted}
    if not records:
        return None
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<feed xmlns="http://www.w3.org/2005/Atom"'
        ' xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">'
        "<title>arXiv Query (built from the bundled HF records)</title>"
        f"<opensearch:totalResults>{len(records)}</opensearch:totalResults>"
        "<opensearch:startIndex>0</opensearch:startIndex>"
        + "".join(_record_entry(record) for record in records.values())
        + "</feed>"
    ).encode()


def _arxiv(request: httpx.Request) -> httpx.Response:
    params = request.url.params
    if params.get("id_list"):
        ids = [part.strip().split("v")[0] for part in params["id_list"].split(",")]
        built = _recorded_papers(ids)
        if built is not None:
            return httpx.Response(200, content=built, headers={"content-type": _ATOM})
        files = [_ARXIV_ID_FILES[i] for i in ids if i in _ARXIV_ID_FILES]
        name = files[0] if files else "arxiv_empty_result.atom"
    else:
        name = "arxiv_query.atom" if params.get("start", "0") == "0" else "arxiv_empty_result.atom"
    return httpx.Response(200, content=sample_bytes(name), headers={"content-type": _ATOM})


def _semantic_scholar(request: httpx.Request) -> httpx.Response:
    known = json.loads(sample_bytes(_S2_PAPER_FILE))
    known_id = f"ARXIV:{known['externalIds']['ArXiv']}"
    asked = json.loads(request.content or b"{}").get("ids", [])
    answer = [known if paper_id == known_id else None for paper_id in asked]
    return httpx.Response(200, json=answer)


def _route(request: httpx.Request) -> httpx.Response:
    host, path = request.url.host, request.url.path
    if host == "export.arxiv.org" and path == "/api/query":
        return _arxiv(request)
    if host == "huggingface.co" and path == "/api/daily_papers":
        return _hugging_face(request)
    if host == "api.semanticscholar.org" and path.endswith("/paper/batch"):
        return _semantic_scholar(request)
    feed = _FEED_FILES.get(f"{host}{path}")
    if feed is not None:
        etag = f'"sample-{feed}"'
        if request.headers.get("if-none-match") == etag:
            return httpx.Response(304, headers={"etag": etag})
        return httpx.Response(
            200,
            content=sample_bytes(feed),
            headers={"content-type": "application/xml", "etag": etag},
        )
    return httpx.Response(404, text=f"{host}{path} is not in the bundled sample data")


def sample_transport() -> httpx.MockTransport:
    """Return a transport that serves the bundled sample data and 404s everything else."""
    return httpx.MockTransport(_route)
