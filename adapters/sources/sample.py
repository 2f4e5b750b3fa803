"""An in-process transport that answers the sources' requests from the bundled sample data.

`digestbot demo` runs the real adapters (HF, arXiv, feeds, Semantic Scholar) against recorded
responses shipped in the package, so it works offline and without keys.
"""

from __future__ import annotations

import json
from importlib import resources

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
_S2_PAPER_FILE = "semanticscholar_paper.json"
_ATOM = "application/atom+xml; charset=utf-8"


def sample_bytes(name: str) -> bytes:
    """Return one bundled sample file."""
    return resources.files("bot").joinpath("sample_data", name).read_bytes()


def _arxiv(request: httpx.Request) -> httpx.Response:
    params = request.url.params
    if params.get("id_list"):
        ids = [part.strip().split("v")[0] for part in params["id_list"].split(",")]
        files = [_ARXIV_ID_FILES[i] for i in ids if i in _ARXIV_ID_FILES]
        name = files[0] if files else "arxiv_empty_result.atom"
    else:
        name = "arxiv_query.atom" if params.get("start", "0") == "0" else "arxiv_empty_result.atom"
    return httpx.Response(200, content=sample_bytes(name), headers={"content-type": _ATOM})


def _hugging_face(request: httpx.Request) -> httpx.Response:
    first_page = request.url.params.get("p", "0") == "0"
    body = sample_bytes("hf_daily_papers.json") if first_page else b"[]"
    return httpx.Response(200, content=body, headers={"content-type": "application/json"})


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
