"""Merge every sighting of one item into the item's readable content.

Sources disagree: a blog post that links a paper has the blog's title, HF strips arXiv's line
breaks, arXiv has the authoritative abstract and version. Each field therefore comes from the
most authoritative sighting that has it, so the result does not depend on the order in which
sources happened to run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from bot.domain import ItemContent, ItemKind, JsonValue, Sighting, SourceLabel

_SOURCE_RANK = {SourceLabel.ARXIV: 4, SourceLabel.HF: 3, SourceLabel.MANUAL: 2}
"""Higher wins. Feeds rank 1: a post about a paper is a weaker witness of the paper."""


def source_rank(source: str) -> int:
    """Return how authoritative ``source`` is for an item's title, abstract and authors."""
    return _SOURCE_RANK.get(source, 1)


def _by_authority(sightings: Iterable[Sighting]) -> list[Sighting]:
    # Ties (two feeds) break on the label so that the choice is stable across runs.
    return sorted(sightings, key=lambda s: (-source_rank(s.source), s.source))


def _first(values: Iterable[str]) -> str:
    return next((value for value in values if value), "")


EARLIEST_CREDIBLE_DATE = date(1991, 1, 1)
"""Older dates are placeholders (a feed's 1970 epoch), not when anything we carry appeared."""


def _day(value: object) -> date | None:
    """Return the UTC day of an ISO timestamp, or ``None`` for anything else."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC).date() if parsed.tzinfo else parsed.date()


def sighting_date(sighting: Sighting) -> date | None:
    """Return the day the source dated ``sighting``, or ``None`` when it gave no date.

    HF's date is the day it listed the paper (``hf_published_at``), not the arXiv date it
    repeats: a paper HF lists this week belongs to this week's HF picks. Every other source's
    date is its own published date (arXiv's first version, a feed entry's date).
    """
    if sighting.source == SourceLabel.HF:
        return _day(sighting.data.get("hf_published_at"))
    if sighting.published_at is None:
        return None
    return sighting.published_at.astimezone(UTC).date()


def source_date(sightings: Iterable[Sighting], first_seen: datetime, seen_at: datetime) -> date:
    """Return the item's source date: HF's listing day if HF listed it, else the earliest date.

    HF's listing day wins over an earlier arXiv date: HF lists papers days or weeks after their
    first version, and the week HF lists a paper is the week readers (and editors) meet it.
    A date before 1991 or after the day it was seen (plus one, for time zones) is not credible;
    an item no source dated belongs to the day it was first seen.
    """
    latest = seen_at.astimezone(UTC).date() + timedelta(days=1)
    dated = [
        (sighting.source == SourceLabel.HF, day)
        for sighting in sightings
        if (day := sighting_date(sighting)) is not None and EARLIEST_CREDIBLE_DATE <= day <= latest
    ]
    listed = [day for by_hf, day in dated if by_hf]
    return min(listed or [day for _, day in dated], default=first_seen.astimezone(UTC).date())


def arxiv_abs_url(arxiv_id: str) -> str:
    """Return the canonical abstract page of an arXiv paper."""
    return f"https://arxiv.org/abs/{arxiv_id}"


def merge_sightings(
    canonical_id: str, kind: ItemKind, sightings: Sequence[Sighting]
) -> ItemContent:
    """Return the item's content merged from ``sightings`` (at least one)."""
    if not sightings:
        raise ValueError("an item needs at least one sighting")
    ranked = _by_authority(sightings)
    arxiv_id = next((s.arxiv_id for s in ranked if s.arxiv_id), None)
    versions = [s.arxiv_version for s in ranked if s.arxiv_version is not None]
    published: list[datetime] = [s.published_at for s in ranked if s.published_at]
    authors = next((s.authors for s in ranked if s.authors), ())
    url = arxiv_abs_url(arxiv_id) if arxiv_id else _first(s.url for s in ranked)
    data: dict[str, JsonValue] = {}
    # Lower-ranked data first so that the more authoritative source wins a shared key.
    for sighting in reversed(ranked):
        data.update(sighting.data)
    content = ItemContent(
        canonical_id=canonical_id,
        kind=kind,
        title=_first(s.title for s in ranked),
        url=url,
        summary=_first(s.summary for s in ranked),
        authors=authors,
        published_at=published[0] if published else None,
        arxiv_id=arxiv_id,
        arxiv_version=max(versions) if versions else None,
        data=data,
        content_hash="",
    )
    return _with_hash(content)


def _with_hash(content: ItemContent) -> ItemContent:
    return replace(content, content_hash=content_hash(content))


def content_hash(content: ItemContent) -> str:
    """Return a hash of what a summary is written from: title, abstract, authors, version.

    Popularity data (upvotes, stars) is left out on purpose: a new upvote must not make a
    cached summary stale.
    """
    payload = json.dumps(
        [content.title, content.summary, list(content.authors), content.arxiv_version],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def sighting_fingerprint(sighting: Sighting) -> str:
    """Return a hash of everything a sighting says, to tell a changed report from a repeat."""
    payload = json.dumps(
        [
            sighting.source,
            sighting.url,
            sighting.title,
            sighting.summary,
            list(sighting.authors),
            sighting.published_at.isoformat() if sighting.published_at else None,
            sighting.arxiv_id,
            sighting.arxiv_version,
            list(sighting.links),
            sighting.data,
        ],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]
