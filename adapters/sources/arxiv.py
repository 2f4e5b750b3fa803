"""The arXiv API: recent papers for a query, and lookups by id, paced as arXiv asks.

arXiv asks for at least 3 seconds between requests and answers a plain-text "Rate exceeded."
when throttling; it answers a bad query with HTTP 400 and an Atom feed holding one "Error"
entry. Its Atom output changed during 2025 (three generations are in tests/data); feedparser
reads all of them.
"""

from __future__ import annotations

import asyncio
import calendar
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import feedparser
import httpx

from adapters.sources.http_fetch import FetchedBody, fetch_limited, host_of
from bot.domain import JsonValue, Sighting, SourceBatch, SourceLabel
from bot.ids import arxiv_id_from_url, parse_arxiv_id
from bot.ports import Clock, SourceError

_SPACES = re.compile(r"\s+")
_THROTTLED = b"rate exceeded"
_REJECTED = "arXiv rejected the query"


@dataclass(frozen=True, slots=True)
class ArxivPage:
    """One page of results: the total the query matches, where this page starts, its papers.

    ``entries`` counts every ``<entry>`` of the page, including the empty placeholders the
    2025-08 API sent for unknown ids; paging advances by it, not by the papers kept.
    """

    total_results: int
    start_index: int
    sightings: tuple[Sighting, ...]
    entries: int = 0


def _is_throttled(content: bytes) -> bool:
    """Whether arXiv answered with its plain-text "Rate exceeded." (sent as 503 or even 200)."""
    return content[:64].strip().lower().startswith(_THROTTLED)


def _clean(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _time(struct: Any) -> datetime | None:
    if not struct:
        return None
    return datetime.fromtimestamp(calendar.timegm(struct), tz=UTC)


def _int(value: object, default: int) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return default


def _paper_data(entry: Any) -> dict[str, JsonValue]:
    data: dict[str, JsonValue] = {}
    primary = entry.get("arxiv_primary_category") or {}
    if isinstance(primary, dict) and primary.get("term"):
        data["primary_category"] = str(primary["term"])
    categories: list[JsonValue] = [str(t["term"]) for t in entry.get("tags", ()) if t.get("term")]
    if categories:
        data["categories"] = categories
    for key, name in (("arxiv_comment", "comment"), ("arxiv_journal_ref", "journal_ref")):
        if entry.get(key):
            data[name] = _clean(str(entry[key]))
    if entry.get("arxiv_doi"):
        data["doi"] = str(entry["arxiv_doi"]).strip()
    updated = _time(entry.get("updated_parsed"))
    if updated:
        data["updated"] = updated.isoformat()
    return data


def _entry_to_sighting(entry: Any) -> Sighting | None:
    """Return the paper an entry describes, or ``None`` for an empty placeholder entry."""
    paper = parse_arxiv_id(str(entry.get("id", "")))
    # The pre-2025 API left the version off <id> but kept it on the links.
    if paper is None or paper.version is None:
        # The abstract page first: a DOI link could name a different paper's DataCite id.
        links = sorted(entry.get("links", ()), key=lambda link: link.get("rel") != "alternate")
        for link in links:
            linked = arxiv_id_from_url(str(link.get("href", "")))
            if linked and (paper is None or linked.id == paper.id):
                paper = linked
                break
    title = _clean(str(entry.get("title", "")))
    if paper is None or not title:
        return None
    authors = tuple(
        _clean(str(author.get("name", "")))
        for author in entry.get("authors", ())
        if _clean(str(author.get("name", "")))
    )
    return Sighting(
        source=SourceLabel.ARXIV,
        url=f"https://arxiv.org/abs/{paper.id}",
        title=title,
        summary=_clean(str(entry.get("summary", ""))),
        authors=authors,
        published_at=_time(entry.get("published_parsed")),
        arxiv_id=paper.id,
        arxiv_version=paper.version,
        data=_paper_data(entry),
    )


def _is_error_entry(entry: Any) -> bool:
    """Tell arXiv's error report (an entry from "arXiv api core") from a paper."""
    if "/api/errors" in str(entry.get("id", "")):
        return True
    authors = [str(author.get("name", "")) for author in entry.get("authors", ())]
    return _clean(str(entry.get("title", ""))) == "Error" and authors == ["arXiv api core"]


def parse_arxiv_feed(content: bytes) -> ArxivPage:
    """Parse one arXiv API response; raise `SourceError` for an error feed or non-Atom body."""
    parsed = feedparser.parse(content, sanitize_html=False, resolve_relative_uris=False)
    if not parsed.get("version") and not parsed.entries:
        raise SourceError("arXiv sent something that is not an Atom feed")
    for entry in parsed.entries:
        if _is_error_entry(entry):
            message = _clean(str(entry.get("summary", ""))) or "unknown error"
            raise SourceError(f"{_REJECTED}: {message}")
    feed = parsed.get("feed", {})
    sightings = [s for s in map(_entry_to_sighting, parsed.entries) if s is not None]
    return ArxivPage(
        total_results=_int(feed.get("opensearch_totalresults"), len(sightings)),
        start_index=_int(feed.get("opensearch_startindex"), 0),
        sightings=tuple(sightings),
        entries=len(parsed.entries),
    )


class ArxivSource:
    """Recent papers for a query (a `Source`) and papers by id (a `PaperLookup`)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        clock: Clock,
        *,
        url: str = "https://export.arxiv.org/api/query",
        query: str = "cat:cs.CL OR cat:cs.LG OR cat:cs.AI",
        page_size: int = 100,
        max_results: int = 300,
        lookback_days: int = 8,
        min_interval_s: float = 3.0,
        throttle_retries: int = 2,
        throttle_wait_s: float = 15.0,
        deadline_s: float = 60.0,
        max_bytes: int = 20 * 1024 * 1024,
    ) -> None:
        self._client = client
        self._clock = clock
        self._url = url
        self._query = query
        self._page_size = page_size
        self._max_results = max_results
        self._lookback = timedelta(days=lookback_days)
        self._min_interval_s = min_interval_s
        self._throttle_retries = throttle_retries
        self._throttle_wait_s = throttle_wait_s
        self._deadline_s = deadline_s
        self._max_bytes = max_bytes
        self._lock = asyncio.Lock()
        self._last_request: datetime | None = None

    @property
    def name(self) -> str:
        """The source's name on the command line."""
        return "arxiv"

    async def _pace(self) -> None:
        """Wait until ``min_interval_s`` has passed since the previous request started."""
        if self._last_request is not None:
            elapsed = (self._clock.now() - self._last_request).total_seconds()
            if elapsed < self._min_interval_s:
                await self._clock.sleep(self._min_interval_s - elapsed)
        self._last_request = self._clock.now()

    async def _get(self, params: Mapping[str, str | int]) -> ArxivPage:
        """Send one paced query, waiting out throttling, and parse the page it returns."""
        async with self._lock:  # one request at a time, whoever asks (fetch or lookup)
            for attempt in range(self._throttle_retries + 1):
                await self._pace()
                body = await fetch_limited(
                    self._client,
                    self._url,
                    params=params,
                    max_bytes=self._max_bytes,
                    deadline_s=self._deadline_s,
                )
                if not _is_throttled(body.content):
                    return await self._page_from(body)
                if attempt < self._throttle_retries:
                    await self._clock.sleep(self._throttle_wait_s)
        raise SourceError(
            "arXiv is throttling requests (Rate exceeded.); try again later", transient=True
        )

    async def _page_from(self, body: FetchedBody) -> ArxivPage:
        """Parse a 200 reply; turn any other status into a readable `SourceError`."""
        host = host_of(self._url)
        if body.status == 400:
            # arXiv explains a rejected query in an error feed: pass its words on.
            try:
                await asyncio.to_thread(parse_arxiv_feed, body.content)
            except SourceError as rejected:
                if rejected.reason.startswith(_REJECTED):
                    raise
            raise SourceError(f"HTTP 400 from {host}")
        if body.status != 200:
            # 429 and 5xx pass; anything else (404, 403) will answer the same tomorrow.
            passing = body.status == 429 or body.status >= 500
            raise SourceError(f"HTTP {body.status} from {host}", transient=passing)
        # Parsing a 20 MB page takes a while: keep the event loop free meanwhile.
        return await asyncio.to_thread(parse_arxiv_feed, body.content)

    async def fetch(self, state: Mapping[str, str]) -> SourceBatch:
        """Return the newest papers for the query, paging back to ``lookback_days``."""
        cutoff = self._clock.now() - self._lookback
        collected: list[Sighting] = []
        start = 0
        while len(collected) < self._max_results:
            size = min(self._page_size, self._max_results - len(collected))
            page = await self._get(
                {
                    "search_query": self._query,
                    "sortBy": "submittedDate",
                    "sortOrder": "descending",
                    "start": start,
                    "max_results": size,
                }
            )
            collected.extend(page.sightings)
            start += page.entries
            dates = [s.published_at for s in page.sightings if s.published_at]
            if not page.entries or start >= page.total_results or (dates and min(dates) < cutoff):
                break
        return SourceBatch(sightings=tuple(collected[: self._max_results]))

    async def fetch_days(self, first: date, last: date) -> SourceBatch:
        """Return the query's papers submitted from ``first`` to ``last`` (a backfill).

        arXiv's ``submittedDate:[YYYYMMDDHHMM TO YYYYMMDDHHMM]`` range (GMT) is added to the
        configured query; paging stops at ``max_results`` as for a normal fetch.
        """
        window = f"submittedDate:[{first:%Y%m%d}0000 TO {last:%Y%m%d}2359]"
        query = f"({self._query}) AND {window}"
        collected: list[Sighting] = []
        start = 0
        while len(collected) < self._max_results:
            size = min(self._page_size, self._max_results - len(collected))
            page = await self._get(
                {
                    "search_query": query,
                    "sortBy": "submittedDate",
                    "sortOrder": "descending",
                    "start": start,
                    "max_results": size,
                }
            )
            collected.extend(page.sightings)
            start += page.entries
            if not page.entries or start >= page.total_results:
                break
        return SourceBatch(sightings=tuple(collected[: self._max_results]))

    async def lookup(self, arxiv_ids: Sequence[str]) -> list[Sighting]:
        """Return the papers arXiv knows among ``arxiv_ids`` (unknown ids are left out)."""
        found: list[Sighting] = []
        ids = list(dict.fromkeys(arxiv_ids))
        for start in range(0, len(ids), self._page_size):
            chunk = ids[start : start + self._page_size]
            page = await self._get({"id_list": ",".join(chunk), "max_results": len(chunk)})
            found.extend(page.sightings)
        return found
