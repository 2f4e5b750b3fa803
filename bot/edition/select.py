"""Select: rank a week's candidates and pick an edition's items.

Candidates are the items of the edition's week (bot.edition.weeks) that no earlier edition
featured. Each is scored on fit to the editorial profile (moved towards the learned taste of
bot.edition.learned, or replaced by the model's fit), popularity (HF upvotes, GitHub stars,
citations) and recency, each as the item's standing among the week's candidates. Editors' picks
are always in; caps per kind (papers, posts, pages) and per feed keep the edition a mix rather
than a week of one blog, and each next item is chosen for its score less its likeness to those
already in, so that it is not four papers on one benchmark either.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time

from bot.domain import Item, ItemKind, SourceLabel
from bot.edition.profile import EditorialProfile

FIT_WEIGHT, POPULARITY_WEIGHT, RECENCY_WEIGHT = 0.75, 0.15, 0.10
"""Fit leads. Popularity is HF's crowd (and GitHub's, and citations), not this audience: upvotes
alone put none of an editor's picks in a top 12. Recency only separates late arrivals."""
WEEK_DAYS, FADE_DAYS = 7, 21
DIVERSITY = 0.3
"""How much an item's likeness to those already chosen counts against its score in `choose`
(0: pure score order). 0.3 is the middle of the range maximal marginal relevance is usually
run with (0.1 to 0.5). On the one real week measured (bench/selection.py, with history) every
value from 0.1 to 0.4 put the same number of the editor's picks in the edition."""
_WORD = re.compile(r"[a-z][a-z-]{3,}")


@dataclass(frozen=True, slots=True)
class Taste:
    """What the learned ranker (bot.edition.learned) thinks of a candidate.

    ``score`` is the model's 0-1 liking, ``weight`` how much it counts against the profile
    fit (it grows with the history), ``nearest`` the titles of the closest past positives,
    ``leaning`` the topics it names that the team's history favours, strongest first.
    """

    score: float
    weight: float
    nearest: tuple[str, ...] = ()
    leaning: tuple[str, ...] = ()

    def blend(self, profile_fit: float) -> float:
        """Return the fit: the profile's, moved towards the model's by ``weight``."""
        return (1 - self.weight) * profile_fit + self.weight * self.score

    @property
    def close_to(self) -> str:
        """Say which past picks it resembles: ``close to: “A”; “B”`` (empty when none)."""
        if not self.nearest:
            return ""
        return "close to: " + "; ".join(f"“{_short(title)}”" for title in self.nearest)

    @property
    def favoured(self) -> str:
        """Say which favoured topics it names: ``the team favours: security, coding``."""
        return f"the team favours: {', '.join(self.leaning)}" if self.leaning else ""


def _short(title: str, limit: int = 70) -> str:
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


@dataclass(frozen=True, slots=True)
class Choice:
    """A candidate with its score, the topics it hit, and a readable reason."""

    item: Item
    score: float
    fit: float
    topics: Counter[str] = field(default_factory=Counter)
    reason: str = ""
    taste: Taste | None = None
    profile_fit: float = 0.0

    @property
    def is_pick(self) -> bool:
        """True when an editor submitted this item."""
        return SourceLabel.MANUAL in self.item.sources


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def popularity(item: Item) -> float:
    """Return 0 to 1 from HF upvotes, GitHub stars and citations (log-scaled, saturating)."""
    data = item.content.data
    signals = (
        math.log1p(_number(data.get("upvotes"))) / math.log1p(100),
        math.log1p(_number(data.get("github_stars"))) / math.log1p(2000),
        math.log1p(float(item.citations or 0)) / math.log1p(50),
    )
    return min(1.0, max(signals))


def recency(item: Item, now: datetime) -> float:
    """Return 1 for an item dated in the week ending ``now``, falling to 0 three weeks later.

    Every item of the edition's week is this week's news: a Monday paper is no fresher for
    the reader than Tuesday's, so the week is flat and only late arrivals lose. The source
    date (the day HF listed a paper) counts over the paper's own published date.
    """
    if item.source_date is not None:
        dated = datetime.combine(item.source_date, time(0), UTC)
    else:
        dated = item.content.published_at or item.first_seen
    age_days = max(0.0, (now - dated).total_seconds() / 86400)
    return max(0.0, min(1.0, 1.0 - (age_days - WEEK_DAYS) / FADE_DAYS))


def score(
    item: Item,
    profile: EditorialProfile,
    now: datetime,
    llm_fit: tuple[float, str] | None = None,
    taste: Taste | None = None,
) -> Choice:
    """Score one candidate: the model's fit when given, else the offline fit.

    The offline fit is the profile's, blended with the learned ``taste`` when there is one.
    The profile's topic hits are kept either way: they shape an offline title and intro.
    """
    offline_fit, topics = profile.fit(item.content.title, item.content.summary)
    if llm_fit is not None:
        fit, reason = llm_fit[0], f"LLM fit {llm_fit[0]:.1f}: {llm_fit[1]}"
    else:
        top = ", ".join(name for name, _ in topics.most_common(2)) or "no profile topic"
        fit, reason = offline_fit, f"fit {offline_fit:.2f} ({top})"
        if taste is not None and taste.weight > 0:
            fit = taste.blend(offline_fit)
            reason = f"fit {fit:.2f} (profile {offline_fit:.2f}: {top}; taste {taste.score:.2f})"
            for said in (taste.close_to, taste.favoured):
                if said:
                    reason += f"; {said}"
    total = (
        FIT_WEIGHT * fit
        + POPULARITY_WEIGHT * popularity(item)
        + RECENCY_WEIGHT * recency(item, now)
    )
    return Choice(
        item, round(total, 4), round(fit, 4), topics, reason, taste, round(offline_fit, 4)
    )


def standing(values: Sequence[float]) -> list[float]:
    """Return each value's place among ``values`` from 0 (lowest) to 1 (highest).

    Ties share their average place, so a dozen items at the upvote cap are not ordered by
    chance. A single value stands at 1.
    """
    if len(values) < 2:
        return [1.0] * len(values)
    order = sorted(range(len(values)), key=lambda n: values[n])
    places = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for n in order[start : end + 1]:
            places[n] = (start + end) / 2 / (len(values) - 1)
        start = end + 1
    return places


def score_week(
    items: Sequence[Item],
    profile: EditorialProfile,
    now: datetime,
    *,
    tastes: Mapping[int, Taste] | None = None,
    model_fits: Mapping[int, tuple[float, str]] | None = None,
) -> list[Choice]:
    """Score a week's candidates against each other; return them best first.

    The offline signals are weighed as each item's standing in the week, not as raw values:
    the profile fit saturates (most LLM papers fit 0.5 to 0.7), the learned taste's
    probabilities bunch together and upvotes pile up at the cap, so their scales say little
    and their order says what separates one candidate from another. The model's fit, where
    it ranked an item, is taken as it is: its rubric is what it is calibrated on.
    """
    tastes, model_fits = tastes or {}, model_fits or {}
    base = [
        score(item, profile, now, model_fits.get(item.id), tastes.get(item.id)) for item in items
    ]
    fits = standing([choice.profile_fit for choice in base])
    liked = standing([choice.taste.score if choice.taste else 0.0 for choice in base])
    popular = standing([popularity(choice.item) for choice in base])
    scored = []
    for n, choice in enumerate(base):
        fit = fits[n]
        if choice.item.id in model_fits:
            fit = choice.fit
        elif choice.taste is not None and choice.taste.weight > 0:
            fit = (1 - choice.taste.weight) * fits[n] + choice.taste.weight * liked[n]
        total = (
            FIT_WEIGHT * fit
            + POPULARITY_WEIGHT * popular[n]
            + RECENCY_WEIGHT * recency(choice.item, now)
        )
        scored.append(replace(choice, score=round(total, 4)))
    return sorted(scored, key=lambda c: (-c.score, c.item.content.canonical_id))


@dataclass(frozen=True, slots=True)
class Caps:
    """How many items of each kind, and from one feed, an edition may hold."""

    papers: int
    posts: int
    pages: int
    per_feed: int

    @classmethod
    def for_size(cls, size: int) -> Caps:
        """Default caps: at most two thirds papers, half posts, a quarter from one feed."""
        return cls(
            papers=math.ceil(size * 2 / 3),
            posts=math.ceil(size / 2),
            pages=math.ceil(size / 3),
            per_feed=max(1, math.ceil(size / 4)),
        )


def _feed_of(item: Item) -> str | None:
    feeds = [s for s in item.sources if s.startswith(SourceLabel.FEED_PREFIX)]
    return feeds[0] if feeds and item.content.kind is not ItemKind.PAPER else None


def _words(item: Item) -> frozenset[str]:
    """Return the words (four letters or more) of an item's title and text's start."""
    return frozenset(_WORD.findall(f"{item.content.title} {item.content.summary[:4000]}".lower()))


def overlap(a: frozenset[str], b: frozenset[str]) -> float:
    """Return how alike two items' words are: shared over all (Jaccard), 0 to 1."""
    return len(a & b) / len(a | b) if a or b else 0.0


def choose(
    choices: Sequence[Choice], size: int, caps: Caps | None = None, *, diversity: float = DIVERSITY
) -> list[Choice]:
    """Pick up to ``size`` items: editors' picks first, then the best that fit the caps.

    Each next item is the one whose score, less its likeness to what is already chosen (the
    words it shares with the closest, weighed by ``diversity``), is highest: maximal marginal
    relevance, so an edition does not run four papers on the same benchmark when good work
    on something else is close behind. Items with no fit to the profile are left out. If the
    caps leave slots empty, they are filled from what the caps held back, so a thin week
    still fills its edition.
    """
    limits = caps or Caps.for_size(size)
    by_kind = {
        ItemKind.PAPER: limits.papers,
        ItemKind.POST: limits.posts,
        ItemKind.PAGE: limits.pages,
    }
    picks = sorted((c for c in choices if c.is_pick), key=lambda c: -c.score)[:size]
    pool = sorted(
        (c for c in choices if not c.is_pick and c.fit > 0),
        key=lambda c: (-c.score, c.item.content.canonical_id),
    )
    chosen: list[Choice] = list(picks)
    kinds = Counter(c.item.content.kind for c in chosen)
    feeds = Counter(_feed_of(c.item) for c in chosen)
    words = [_words(c.item) for c in pool] if diversity > 0 else []
    # Each candidate's likeness to its closest chosen item, updated as items are chosen.
    likeness = [0.0] * len(pool)

    def note_chosen(new: frozenset[str]) -> None:
        for n, other in enumerate(words):  # empty without diversity
            likeness[n] = max(likeness[n], overlap(new, other))

    def within_caps(choice: Choice) -> bool:
        kind, feed = choice.item.content.kind, _feed_of(choice.item)
        return kinds[kind] < by_kind[kind] and (feed is None or feeds[feed] < limits.per_feed)

    for choice in picks:
        note_chosen(_words(choice.item))
    left = list(range(len(pool)))
    for capped in (True, False):  # first within the caps, then whatever they held back
        while len(chosen) < size:
            allowed = [n for n in left if not capped or within_caps(pool[n])]
            if not allowed:
                break
            best = max(
                allowed, key=lambda n: (1 - diversity) * pool[n].score - diversity * likeness[n]
            )
            left.remove(best)
            choice = pool[best]
            chosen.append(choice)
            kinds[choice.item.content.kind] += 1
            feeds[_feed_of(choice.item)] += 1
            if words:
                note_chosen(words[best])
    return chosen
