"""Hugging Face daily papers: the community's picks of the week, with popularity signals.

``GET /api/daily_papers?week=YYYY-Www&limit=N&p=K`` (or ``date=YYYY-MM-DD``) returns a JSON
array of items, each with a ``paper`` (an arXiv paper, id without version) and HF's own data:
upvotes, comments, and on newer items an AI summary, keywords, a GitHub repo and its stars.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from adapters.sources.http_fetch import fetch_limited, host_of
from bot.domain import JsonValue, Sighting, SourceBatch, SourceLabel
from bot.ids import parse_arxiv_id
from bot.ports import Clock, SourceError

_SPACES = re.compile(r"\s+")


def _clean(value: object) -> str:
    return _SPACES.sub(" ", value).strip() if isinstance(value, str) else ""


def _timestamp(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _number(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    # Python's json accepts NaN and Infinity, which no count can be.
    return int(value) if math.isfinite(value) else None


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _hf_data(item: Mapping[str, Any], paper: Mapping[str, Any]) -> dict[str, JsonValue]:
    data: dict[str, JsonValue] = {}
    for key, value in (
        ("upvotes", _number(paper.get("upvotes"))),
        ("comments", _number(item.get("numComments"))),
        ("github_stars", _number(paper.get("githubStars"))),
    ):
        if value is not None:
            data[key] = value
    for key, text in (
        ("hf_summary", _clean(paper.get("ai_summary"))),
        ("github_repo", _clean(paper.get("githubRepo"))),
        ("project_page", _clean(paper.get("projectPage"))),
    ):
        if text:
            data[key] = text
    keywords: list[JsonValue] = [_clean(k) for k in _list(paper.get("ai_keywords")) if _clean(k)]
    if keywords:
        data["hf_keywords"] = keywords
    organization = paper.get("organization") or item.get("organization")
    if isinstance(organization, dict) and _clean(
        organization.get("fullname") or organization.get("name")
    ):
        data["organization"] = _clean(organization.get("fullname") or organization.get("name"))
    # The item's publishedAt is when the paper was put on Daily Papers (paper.publishedAt is
    # arXiv's date); submittedOnDailyAt says the same on newer items.
    listed = _timestamp(item.get("publishedAt")) or _timestamp(paper.get("submittedOnDailyAt"))
    if listed:
        data["hf_published_at"] = listed.isoformat()
    return data


def _item_to_sighting(item: object) -> Sighting | None:
    if not isinstance(item, dict) or not isinstance(item.get("paper"), dict):
        return None
    paper = item["paper"]
    arxiv = parse_arxiv_id(str(paper.get("id", "")))
    title = _clean(item.get("title")) or _clean(paper.get("title"))
    if arxiv is None or not title:
        return None
    authors = tuple(
        name
        for name in (
            _clean(a.get("name")) for a in _list(paper.get("authors")) if isinstance(a, dict)
        )
        if name
    )
    return Sighting(
        source=SourceLabel.HF,
        url=f"https://huggingface.co/papers/{arxiv.id}",
        title=title,
        summary=_clean(paper.get("summary")),
        authors=authors,
        published_at=_timestamp(paper.get("publishedAt")),
        arxiv_id=arxiv.id,
        arxiv_version=arxiv.version,
        data=_hf_data(item, paper),
    )


def parse_daily_papers(content: bytes) -> list[Sighting]:
    """Parse one response into sightings, skipping items without a valid arXiv id or title.

    Raises `SourceError` when the body is not a JSON array.
    """
    sightings, _ = _parse_counted(content)
    return sightings


def _parse_counted(content: bytes) -> tuple[list[Sighting], int]:
    """Parse one response; also return how many of its items were unusable."""
    try:
        items = json.loads(content)
    except json.JSONDecodeError as exc:
        raise SourceError(f"Hugging Face sent something that is not JSON ({exc.msg})") from None
    except UnicodeDecodeError:
        raise SourceError("Hugging Face sent a body that is not UTF-8 JSON") from None
    except RecursionError:
        raise SourceError("Hugging Face sent JSON nested too deeply to read") from None
    if not isinstance(items, list):
        raise SourceError("Hugging Face sent JSON that is not a list of papers")
    sightings = [s for s in map(_item_to_sighting, items) if s is not None]
    return sightings, len(items) - len(sightings)


def _rate_limited(host: str, retry_after: str) -> str:
    """Say that ``host`` throttled us and when it asks to be tried again, if it said."""
    reason = f"rate limited by {host} (HTTP 429)"
    retry_after = retry_after.strip()
    if retry_after.isdigit():
        return f"{reason}; it asks to retry after {retry_after} s"
    if retry_after:  # the HTTP-date form
        return f"{reason}; it asks to retry after {retry_after}"
    return reason


def iso_week(day: date) -> str:
    """Return the ISO week of ``day`` as HF expects it: ``YYYY-Www``."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


class HfPapersSource:
    """Hugging Face daily papers of the last few ISO weeks (implements `Source`)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        clock: Clock,
        *,
        url: str = "https://huggingface.co/api/daily_papers",
        weeks: int = 2,
        page_size: int = 50,
        max_pages: int = 10,
        deadline_s: float = 30.0,
        max_bytes: int = 20 * 1024 * 1024,
    ) -> None:
        self._client = client
        self._clock = clock
        self._url = url
        self._weeks = weeks
        self._page_size = page_size
        self._max_pages = max_pages
        self._deadline_s = deadline_s
        self._max_bytes = max_bytes

    @property
    def name(self) -> str:
        """The source's name on the command line."""
        return "hf"

    async def _pages(self, selector: Mapping[str, str]) -> tuple[list[Sighting], int]:
        found: list[Sighting] = []
        skipped = 0
        for page in range(self._max_pages):
            params: dict[str, str | int] = {**selector, "limit": self._page_size, "p": page}
            body = await fetch_limited(
                self._client,
                self._url,
                params=params,
                headers={"Accept": "application/json"},
                max_bytes=self._max_bytes,
                deadline_s=self._deadline_s,
            )
            host = host_of(self._url)
            if body.status == 429:
                raise SourceError(_rate_limited(host, body.headers.get("retry-after", "")))
            if body.status != 200:
                raise SourceError(f"HTTP {body.status} from {host}")
            sightings, unusable = _parse_counted(body.content)
            found.extend(sightings)
            skipped += unusable
            if len(sightings) + unusable < self._page_size:
                break
        return found, skipped

    async def fetch(self, state: Mapping[str, str]) -> SourceBatch:
        """Fetch the current ISO week and the ``weeks - 1`` before it, all pages."""
        today = self._clock.now().date()
        best: dict[str, Sighting] = {}
        skipped = 0
        for back in range(self._weeks):
            week = iso_week(today - timedelta(weeks=back))
            sightings, unusable = await self._pages({"week": week})
            skipped += unusable
            for sighting in sightings:
                key = sighting.arxiv_id or sighting.url
                kept = best.get(key)
                if kept is None or _upvotes(sighting) > _upvotes(kept):
                    best[key] = sighting
        warnings = (
            (f"skipped {skipped} items without a valid paper id or title",) if skipped else ()
        )
        return SourceBatch(sightings=tuple(best.values()), warnings=warnings)

    async def fetch_date(self, day: date) -> list[Sighting]:
        """Return the daily papers HF listed on ``day`` (``?date=``), all pages.

        A paper's listing day is the day asked for when the item does not say it itself:
        that day is the paper's source date (bot.ingest.merge.sighting_date).
        """
        sightings, _ = await self._pages({"date": day.isoformat()})
        listed = datetime.combine(day, datetime.min.time(), UTC).isoformat()
        return [
            s
            if "hf_published_at" in s.data
            else replace(s, data={**s.data, "hf_published_at": listed})
            for s in sightings
        ]

    async def fetch_days(self, first: date, last: date) -> SourceBatch:
        """Fetch the lists of every day from ``first`` to ``last`` (a backfill)."""
        best: dict[str, Sighting] = {}
        day = first
        while day <= last:
            for sighting in await self.fetch_date(day):
                # A paper listed on two days keeps its first listing: that is when it was news.
                best.setdefault(sighting.arxiv_id or sighting.url, sighting)
            day += timedelta(days=1)
        return SourceBatch(sightings=tuple(best.values()))


def _upvotes(sighting: Sighting) -> int:
    value = sighting.data.get("upvotes")
    return value if isinstance(value, int) else 0
