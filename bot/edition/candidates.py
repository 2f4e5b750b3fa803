"""A week's ranked candidates, as compose sees them, with a reason a person can read.

``digestbot candidates`` and bench/selection.py show them: the same pool compose draws from
(the week's items that no other edition featured) scored with the same offline scoring
(bot.edition.select, with the taste learned by bot.edition.learned), best first, each
marked when the week's stored edition holds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.domain import Item
from bot.edition.compose import week_window
from bot.edition.learned import LearnedTaste, week_tastes
from bot.edition.ports import EditionStore
from bot.edition.profile import EditorialProfile
from bot.edition.select import Choice, score_week
from bot.edition.weeks import DEFAULT_FRESHNESS_DAYS, edition_week


@dataclass(frozen=True, slots=True)
class Candidate:
    """One candidate: its place, its scored choice, why, and whether its edition holds it."""

    rank: int
    choice: Choice
    reason: str
    picked: bool

    @property
    def source_date(self) -> str | None:
        """The day its source dated it, as ``YYYY-MM-DD``."""
        day = self.choice.item.source_date
        return day.isoformat() if day else None


@dataclass(frozen=True, slots=True)
class WeekRanking:
    """A week's candidates, best first, and what the ranker learned from the history."""

    candidates: list[Candidate]
    taste: LearnedTaste


def _count(value: object, unit: str) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return None
    return f"{value} {unit}{'s' if value != 1 else ''}"


def readable_reason(choice: Choice) -> str:
    """Say why a candidate scores as it does: past picks it resembles, topics, popularity."""
    topics = [name for name, _ in choice.topics.most_common(3)]
    taste = choice.taste if choice.taste and choice.taste.weight > 0 else None
    parts = [part for part in (taste.close_to, taste.favoured) if part] if taste else []
    parts.append(f"topics: {', '.join(topics)}" if topics else "no profile topic")
    item: Item = choice.item
    signals = (
        _count(item.content.data.get("upvotes"), "upvote"),
        _count(item.content.data.get("github_stars"), "GitHub star"),
        _count(item.citations, "citation"),
    )
    parts.extend(signal for signal in signals if signal)
    if choice.is_pick:
        parts.append("editor's pick")
    return "; ".join(parts)


async def week_ranking(
    store: EditionStore,
    profile: EditorialProfile,
    monday: date,
    *,
    window_days: int = 7,
    freshness_days: int = DEFAULT_FRESHNESS_DAYS,
) -> WeekRanking:
    """Rank the candidates of the edition dated ``monday``, best score first."""
    window = edition_week(monday, window_days, freshness_days)
    end = week_window(monday)[1]  # recency measured as compose measures it
    featured = await store.featured_item_ids(except_date=monday)
    pool = [item for item in await store.week_candidates(window) if item.id not in featured]
    edition = await store.edition(edition_date=monday)
    in_edition = {entry.item.id for entry in edition.entries} if edition else set()
    learned = await week_tastes(
        store, monday, pool, profile, window_days=window_days, freshness_days=freshness_days
    )
    choices = score_week(pool, profile, end, tastes=learned.tastes)
    ranked = [
        Candidate(n, choice, readable_reason(choice), choice.item.id in in_edition)
        for n, choice in enumerate(choices, start=1)
    ]
    return WeekRanking(ranked, learned)
