"""Compose: from a week of stored candidates to a saved edition with a title and an intro.

An edition is dated on its Monday and covers the items its sources dated in the week ending on
it (bot.edition.weeks). An empty week is never silent: it is recorded with its reason and
shown by ``digestbot status``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from bot.domain import ComposeOutcome, Edition, EditionEntry, Item, ItemSummary
from bot.edition import offline_intro
from bot.edition.learned import week_tastes
from bot.edition.llm_rank import LlmRanker
from bot.edition.llm_summarize import LlmEditor
from bot.edition.model import TokenBudget
from bot.edition.ports import ComposeProgress, EditionStore, Summarizer
from bot.edition.profile import EditorialProfile
from bot.edition.select import Choice, choose, score_week
from bot.edition.summarize import CachedSummarizer
from bot.edition.weeks import DEFAULT_FRESHNESS_DAYS, describe, edition_week
from bot.ports import Clock


@dataclass(frozen=True, slots=True)
class ComposeResult:
    """What composing did: the edition (or why there is none) and what it cost."""

    edition: Edition | None
    message: str
    candidates: int = 0
    summaries_written: int = 0
    summaries_reused: int = 0
    rebuilt: bool = False
    llm_calls: int = 0
    llm_tokens: int = 0
    offline_fallbacks: int = 0


def edition_monday(day: date) -> date:
    """Return the Monday an edition composed on ``day`` is dated: that day or the next Monday."""
    return day + timedelta(days=(7 - day.weekday()) % 7)


def edition_covering(moment: datetime) -> date:
    """Return the Monday of the edition whose week includes ``moment`` (the next Monday)."""
    day = moment.date()
    return day + timedelta(days=7 - day.weekday())


def week_window(monday: date, days: int = 7) -> tuple[datetime, datetime]:
    """Return the ``[start, end)`` of first-seen times an edition dated ``monday`` covers."""
    end = datetime.combine(monday, time(0), UTC)
    return end - timedelta(days=days), end


def _no_progress(name: str, done: int, total: int | None) -> None:
    return None


def offline_title_and_intro(profile: EditorialProfile, chosen: Sequence[Choice]) -> tuple[str, str]:
    """Write an edition title (two short clauses) and a 2-4 sentence intro from the items."""
    return offline_intro.title_and_intro(profile, chosen)


async def compose_edition(
    store: EditionStore,
    clock: Clock,
    summarizer: Summarizer,
    profile: EditorialProfile,
    *,
    edition_date: date | None = None,
    size: int = 12,
    window_days: int = 7,
    freshness_days: int = DEFAULT_FRESHNESS_DAYS,
    force: bool = False,
    editor: LlmEditor | None = None,
    ranker: LlmRanker | None = None,
    budget: TokenBudget | None = None,
    concurrency: int = 8,
    progress: ComposeProgress | None = None,
) -> ComposeResult:
    """Build the edition dated ``edition_date`` (default: the next edition's Monday).

    With an ``editor`` (and an LLM ``summarizer``) the title, intro and summaries are the
    model's, validated; without, everything is written offline. ``progress`` hears of each
    step (ranking, summaries one by one, title and intro).
    """
    step = progress.step if progress is not None else _no_progress
    now = clock.now()
    monday = edition_date or edition_monday(now.date())
    existing = await store.edition(edition_date=monday)
    if existing is not None and existing.imported:
        # An imported edition is what the editors published that week: never rebuilt here.
        return ComposeResult(existing, f"the edition of {monday} was imported; it is not rebuilt")
    if existing is not None and not force:
        return ComposeResult(
            existing, f"the edition of {monday} already exists; use --force to rebuild it"
        )
    window = edition_week(monday, window_days, freshness_days)
    end = week_window(monday)[1]  # recency is measured at the Monday's midnight
    candidates = await store.week_candidates(window)
    featured = await store.featured_item_ids(except_date=monday)
    pool = [item for item in candidates if item.id not in featured]
    # The team's taste, learned from past editions, picks and votes, moves the profile fit
    # (not at all while the history is small: bot.edition.learned).
    learned = await week_tastes(
        store, monday, pool, profile, window_days=window_days, freshness_days=freshness_days
    )
    tastes = learned.tastes
    offline_ranked = score_week(pool, profile, end, tastes=tastes)
    # The model ranks the offline scorer's best (its shortlist); the rest keep the offline fit.
    fits: dict[int, tuple[float, str]] = {}
    if ranker is not None and pool:
        step("ranking", 0, 1)
        fits = await ranker.fit([c.item for c in offline_ranked])
        step("ranking", 1, 1)
    ranked = (
        score_week(pool, profile, end, tastes=tastes, model_fits=fits) if fits else offline_ranked
    )
    chosen = choose(ranked, size)
    if not chosen:
        reason = (
            f"no edition for {monday}: {describe(window)}"
            if not pool
            else f"no edition for {monday}: none of the {len(pool)} new items fits the profile"
        )
        await store.record_compose(monday, ComposeOutcome.SKIPPED, reason, now, None)
        return ComposeResult(None, reason, candidates=len(pool))

    cached = CachedSummarizer(summarizer, store, clock)
    limit = asyncio.Semaphore(concurrency)

    finished = 0
    step("summaries", 0, len(chosen))

    async def summarize(item: Item) -> ItemSummary:
        nonlocal finished
        async with limit:
            summary = await cached.summarize(item)
        finished += 1
        step("summaries", finished, len(chosen))
        return summary

    summaries: list[ItemSummary] = list(
        await asyncio.gather(*(summarize(choice.item) for choice in chosen))
    )
    written = None
    if editor is not None:
        step("title and intro", 0, 1)
        written = await editor.title_and_intro(
            [(c.item.content.title, s.why) for c, s in zip(chosen, summaries, strict=True)]
        )
        step("title and intro", 1, 1)
    title, intro = written or offline_title_and_intro(profile, chosen)
    entries = [
        EditionEntry(position=n, item=c.item, summary=s, score=c.score, reason=c.reason)
        for n, (c, s) in enumerate(zip(chosen, summaries, strict=True), start=1)
    ]
    if budget is not None:
        for purpose, completion in budget.records:
            await store.record_llm_call(
                purpose,
                completion.model,
                completion.input_tokens,
                completion.output_tokens,
                budget.cost(completion),
                now,
            )
    fallbacks = sum(1 for summary in summaries if summary.offline) if editor else 0
    offline = written is None and all(summary.offline for summary in summaries)
    save = store.save_edition if existing is not None else store.save_new_edition
    edition = await save(monday, title, intro, offline, entries, now)
    if edition is None:
        # Another compose (another instance, a second `digestbot compose`) finished first:
        # its edition stands, and this one says so rather than silently replacing it.
        return ComposeResult(
            await store.edition(edition_date=monday),
            f"the edition of {monday} was composed by another run meanwhile; "
            "use --force to rebuild it",
        )
    message = f"edition of {monday}: {len(entries)} items chosen from {len(pool)} candidates"
    if fallbacks:
        message += f"; {fallbacks} summarized offline (see each item's note)"
    await store.record_compose(monday, ComposeOutcome.COMPOSED, message, now, edition.id)
    return ComposeResult(
        edition,
        message,
        candidates=len(pool),
        summaries_written=cached.fresh,
        summaries_reused=cached.reused,
        rebuilt=existing is not None,
        llm_calls=budget.calls if budget else 0,
        llm_tokens=budget.used if budget else 0,
        offline_fallbacks=fallbacks,
    )
