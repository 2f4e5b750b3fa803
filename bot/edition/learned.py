"""A ranker that learns the team's taste from what it featured, picked and liked.

Positives are the items of past editions (imported or composed), editors' picks and items
with more 👍 than 👎; negatives are the candidates of composed weeks that were not picked, and
items with more 👎. Imported weeks bring no candidates, so when explicit negatives are few the
store's other items (never featured, not this week's candidates) stand in as background, and
in a first week, when the store holds little else, this week's candidates too (never as
positives): an archive imported on day one teaches the ranker at once.

Two class-balanced logistic regressions (scikit-learn, nothing downloaded) learn it:

- **words**: TF-IDF of word unigrams and bigrams of the title and the start of the text. It
  learns any theme, the profile's or not, but needs many examples: tens of thousands of
  features against a few dozen positives also learn how past picks were *worded* (imported
  editions hold an editor's prose, the week's candidates abstracts).
- **topics**: how often the item names each of the profile's topics and fields ranked low
  (`EditorialProfile.counts`). A dozen features learn from a few dozen positives which of the
  profile's threads this team favours over the stream it reads from ("security and coding,
  less multimodal"), whatever the wording.

The taste is the mean of the two probabilities, blended with the profile fit; the blend
weight grows with the number of positives (0 up to 5, 0.6 from 50), so with little history
the profile carries the score. Each candidate also gets the titles of its two nearest past
positives and the favoured topics it names, so its reason says what it resembles, and the
team's leanings are said in a line (`LearnedTaste.describe`) for ``digestbot candidates``.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence, Set
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from bot.domain import Item
from bot.edition.ports import TasteStore
from bot.edition.profile import EditorialProfile
from bot.edition.select import Taste
from bot.edition.weeks import DEFAULT_FRESHNESS_DAYS, edition_week

MIN_POSITIVES = 5
"""Up to this many positives the model is not trusted at all: the profile scores alone."""
FULL_POSITIVES = 50
MAX_WEIGHT = 0.6
"""The blend weight at ``FULL_POSITIVES`` and beyond; the profile always keeps the rest."""
TEXT_CHARS = 300
"""How much of an item's text is read: the title and an abstract's opening carry the topic,
and reading more would cost time for little."""
MAX_NEGATIVES = 3000
"""Negatives trained on at most (explicit ones first, then the most recent background): past
that, more of them add time (the 1 s bound) and little the model does not already know."""
BACKGROUND_PER_POSITIVE = 8
BACKGROUND_MIN, BACKGROUND_MAX = 200, 5000
"""How many never-featured stored items stand in as negatives when explicit ones are few."""
TOPIC_NEGATIVES = 1000
"""Negatives the topics model trains on at most: a dozen features need far fewer examples
than the words, and counting terms in whole texts costs time."""
NEAREST, LEANING = 2, 2
SAID_TOPICS, SAID_AT_LEAST = 3, 0.1
"""How many topics the team's summary names each way, and how far from neutral (a model
coefficient) a topic must be to be named."""
VOTES_SINCE = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class TasteHistory:
    """What the team liked (positives) and passed over or disliked (negatives)."""

    positives: tuple[Item, ...]
    negatives: tuple[Item, ...]


@dataclass(frozen=True, slots=True)
class LearnedTaste:
    """What was learned from the history: each candidate's taste and the team's leanings.

    ``more`` and ``less`` name the profile's topics and fields the team's picks name more,
    or less, often than the stream they were picked from, strongest first.
    """

    tastes: dict[int, Taste]
    positives: int
    negatives: int
    more: tuple[str, ...] = ()
    less: tuple[str, ...] = ()

    def describe(self) -> str:
        """Say in a line what the ranker learned, or why it learned nothing."""
        if not self.tastes:
            picks = f"{self.positives} past pick{'' if self.positives == 1 else 's'}"
            if blend_weight(self.positives) == 0:
                why = f"No taste learned yet: {picks} (it learns from {MIN_POSITIVES + 1} on)"
            else:
                why = f"No taste learned: {picks} but no other stored items to contrast them with"
            return why + "; the profile alone ranks."
        line = (
            f"Taste learned from {self.positives} past picks against {self.negatives} others "
            f"(weight {blend_weight(self.positives):.2f})"
        )
        leanings = [
            f"{word} {', '.join(names)}"
            for word, names in (("more", self.more), ("less", self.less))
            if names
        ]
        return line + (": " + "; ".join(leanings) if leanings else "") + "."


def blend_weight(positives: int) -> float:
    """Return how much the learned taste counts against the profile fit (0 to MAX_WEIGHT).

    Logarithmic between MIN_POSITIVES and FULL_POSITIVES: each doubling of the history adds
    about as much trust as the one before.
    """
    if positives < MIN_POSITIVES:
        return 0.0
    ramp = math.log(positives / MIN_POSITIVES) / math.log(FULL_POSITIVES / MIN_POSITIVES)
    return round(MAX_WEIGHT * min(1.0, ramp), 4)


def _text(item: Item) -> str:
    content = item.content
    return f"{content.title}. {content.summary[:TEXT_CHARS]}"


def learn_taste(
    history: TasteHistory, candidates: Sequence[Item], profile: EditorialProfile
) -> LearnedTaste:
    """Train on ``history``; return each candidate's taste (by item id) and the leanings.

    No tastes when the history is too small to trust (the profile then carries the score) or
    has no negatives to contrast with.
    """
    weight = blend_weight(len(history.positives))
    if weight == 0 or not history.negatives or not candidates:
        return LearnedTaste({}, len(history.positives), len(history.negatives))
    # Imported here, not at the top: numpy, scipy and scikit-learn take about a second and
    # 60 MB to load, and only a compose with enough history trains.
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    negatives = history.negatives[:MAX_NEGATIVES]
    known = [*history.positives, *negatives]
    # Fitted on the history and the candidates together: the vocabulary and IDF describe the
    # texts actually compared (no labels are read from the candidates). Rows are unit-length,
    # so a dot product is a cosine similarity.
    words = TfidfVectorizer(
        ngram_range=(1, 2), stop_words="english", sublinear_tf=True, min_df=2, dtype=np.float32
    )
    matrix = words.fit_transform([_text(item) for item in (*known, *candidates)]).tocsr()
    train, ranked = matrix[: len(known)], matrix[len(known) :]
    labels = np.array([1] * len(history.positives) + [0] * len(negatives))
    by_words = LogisticRegression(C=4.0, class_weight="balanced", max_iter=200, solver="liblinear")
    by_words.fit(train, labels)
    liked_words = by_words.predict_proba(ranked)[:, 1]

    def topic_counts(items: Sequence[Item]) -> Any:
        counts = [profile.counts(item.content.title, item.content.summary) for item in items]
        return np.log1p(np.array(counts, dtype=np.float64).reshape(len(items), -1))

    topic_negatives = negatives[:TOPIC_NEGATIVES]
    by_topics = LogisticRegression(class_weight="balanced", max_iter=200, solver="liblinear")
    by_topics.fit(
        topic_counts([*history.positives, *topic_negatives]),
        np.array([1] * len(history.positives) + [0] * len(topic_negatives)),
    )
    counted = topic_counts(candidates)
    liked_topics = by_topics.predict_proba(counted)[:, 1]
    # What each named topic adds to the liking: its weight times how often the item names it.
    leaning = counted * by_topics.coef_[0]

    similarity = (ranked @ train[: len(history.positives)].T).toarray()
    count = min(NEAREST, similarity.shape[1])
    nearest = np.argsort(-similarity, axis=1)[:, :count]
    titles = [item.content.title for item in history.positives]
    names = profile.threads
    tastes = {}
    for n, item in enumerate(candidates):
        favoured = sorted(
            (j for j in range(len(names)) if leaning[n, j] > 0), key=lambda j: -leaning[n, j]
        )
        tastes[item.id] = Taste(
            score=round(float(liked_words[n] + liked_topics[n]) / 2, 4),
            weight=weight,
            nearest=tuple(titles[j] for j in nearest[n] if similarity[n, j] > 0),
            leaning=tuple(names[j] for j in favoured[:LEANING]),
        )
    coefficients = sorted(zip(by_topics.coef_[0], names, strict=True), reverse=True)
    return LearnedTaste(
        tastes,
        len(history.positives),
        len(negatives),
        more=tuple(name for c, name in coefficients[:SAID_TOPICS] if c >= SAID_AT_LEAST),
        less=tuple(name for c, name in coefficients[::-1][:SAID_TOPICS] if c <= -SAID_AT_LEAST),
    )


async def gather_history(
    store: TasteStore,
    monday: date,
    pool: Sequence[Item],
    *,
    window_days: int = 7,
    freshness_days: int = DEFAULT_FRESHNESS_DAYS,
) -> TasteHistory:
    """Read the team's history from the store, leaving out the week being ranked.

    A candidate of this week is never a positive, whatever else it is; it is background only
    when the store has too little else (`BACKGROUND_MIN`).
    """
    in_pool: Set[int] = {item.id for item in pool}
    positives: dict[int, Item] = {}
    negatives: dict[int, Item] = {}
    for day in await store.edition_dates():
        edition = await store.edition(edition_date=day) if day != monday else None
        if edition is None:
            continue
        featured = {entry.item.id for entry in edition.entries}
        positives.update((entry.item.id, entry.item) for entry in edition.entries)
        if not edition.imported:  # an imported week's other candidates are unknown
            window = edition_week(day, window_days, freshness_days)
            for item in await store.week_candidates(window):
                if item.id not in featured:
                    negatives[item.id] = item
    positives.update((item.id, item) for item in await store.editor_pick_items())
    votes = await store.item_votes(VOTES_SINCE)
    liked = [key for key, (up, down) in votes.items() if up > down]
    disliked = [key for key, (up, down) in votes.items() if down > up]
    positives.update((item.id, item) for item in await store.items_by_canonical_ids(liked))
    for item in await store.items_by_canonical_ids(disliked):
        positives.pop(item.id, None)  # a 👎 outweighs having been featured
        negatives[item.id] = item
    kept_pos = {k: v for k, v in positives.items() if k not in in_pool}
    kept_neg = {k: v for k, v in negatives.items() if k not in in_pool and k not in kept_pos}
    wanted = min(BACKGROUND_MAX, max(BACKGROUND_MIN, BACKGROUND_PER_POSITIVE * len(kept_pos)))
    if len(kept_neg) < wanted:
        for item in await store.recent_items(BACKGROUND_MAX + len(in_pool) + len(kept_pos)):
            if len(kept_neg) >= wanted:
                break
            if item.id not in in_pool and item.id not in kept_pos:
                kept_neg.setdefault(item.id, item)
    if len(kept_neg) < BACKGROUND_MIN:
        # A first week: the store holds little but this week's candidates. They stand in as
        # unlabelled background (most of any week goes unpicked), so an imported archive
        # teaches the ranker on day one; a candidate is never a positive.
        kept_neg.update((item.id, item) for item in pool if item.id not in kept_pos)
    return TasteHistory(tuple(kept_pos.values()), tuple(kept_neg.values()))


async def week_tastes(
    store: TasteStore,
    monday: date,
    pool: Sequence[Item],
    profile: EditorialProfile,
    *,
    window_days: int = 7,
    freshness_days: int = DEFAULT_FRESHNESS_DAYS,
) -> LearnedTaste:
    """Learn the team's taste and apply it to the week's candidates (none with little history).

    Training runs in a worker thread: up to a second of CPU must not stall the bot's loop.
    """
    history = await gather_history(
        store, monday, pool, window_days=window_days, freshness_days=freshness_days
    )
    return await asyncio.to_thread(learn_taste, history, pool, profile)
