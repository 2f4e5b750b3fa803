"""The ports of the edition stage: what selecting, summarizing and composing need.

The store (`storage.store.Store`) implements the caches and `EditionStore`; the offline and
model summarizers (`bot.edition.summarize`, `bot.edition.llm_summarize`) implement `Summarizer`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol

from bot.domain import (
    ComposeOutcome,
    Edition,
    EditionEntry,
    Item,
    ItemSummary,
    RewriteRecord,
    SummaryRevision,
    WeekWindow,
)
from bot.edition.history import HistoryEdition, ImportOutcome


class ComposeProgress(Protocol):
    """Told how composing goes (``digestbot compose`` shows "summaries 5/12" on a terminal)."""

    def step(self, name: str, done: int, total: int | None) -> None:
        """Say that ``done`` of ``total`` (None: unknown) of step ``name`` are finished."""
        ...


class Summarizer(Protocol):
    """Writes an item's summary."""

    @property
    def model(self) -> str:
        """The model name summaries are cached under."""
        ...

    @property
    def prompt_version(self) -> str:
        """The version of the prompt (or method) summaries are cached under."""
        ...

    async def summarize(self, item: Item, note: str = "") -> ItemSummary:
        """Return the summary of ``item``; ``note`` is an editor's guidance for a rewrite.

        A summarizer that cannot use a note (the offline one) still writes the summary anew.
        """
        ...


class SummaryCache(Protocol):
    """Where summaries are kept between composes (the store)."""

    async def cached_summary(
        self, content_hash: str, prompt_version: str, model: str
    ) -> ItemSummary | None:
        """Return a kept summary, if any."""
        ...

    async def save_summary(self, content_hash: str, summary: ItemSummary, at: datetime) -> None:
        """Keep a summary."""
        ...


class AnswerCache(Protocol):
    """Where validated answers are kept by what they were asked from (the store)."""

    async def llm_answers(
        self, keys: Sequence[str], prompt_version: str, model: str
    ) -> dict[str, dict[str, Any]]:
        """Return kept answers by key."""
        ...

    async def save_llm_answers(
        self,
        answers: Mapping[str, Mapping[str, Any]],
        prompt_version: str,
        model: str,
        at: datetime,
    ) -> None:
        """Keep answers by key."""
        ...


class TasteStore(Protocol):
    """What the learned ranker (bot.edition.learned) reads: the team's history."""

    async def week_candidates(self, window: WeekWindow) -> list[Item]:
        """Return the items ``window`` makes candidates (see bot.edition.weeks)."""
        ...

    async def edition(
        self, *, edition_id: int | None = None, edition_date: date | None = None
    ) -> Edition | None:
        """Return an edition by id or date, or the latest composed one."""
        ...

    async def edition_dates(self) -> list[date]:
        """Return the dates of every edition (imported ones too), newest first."""
        ...

    async def editor_pick_items(self) -> list[Item]:
        """Return every item an editor submitted."""
        ...

    async def item_votes(self, since: datetime) -> dict[str, tuple[int, int]]:
        """Return readers' (👍, 👎) totals per canonical id since ``since``."""
        ...

    async def items_by_canonical_ids(self, canonical_ids: Sequence[str]) -> list[Item]:
        """Return the stored items among ``canonical_ids``."""
        ...

    async def recent_items(self, limit: int) -> list[Item]:
        """Return the most recently first-seen items, newest first."""
        ...


class EditionStore(SummaryCache, TasteStore, Protocol):
    """The part of the store that composing reads and writes."""

    async def featured_item_ids(self, except_date: date | None = None) -> set[int]:
        """Return the ids of items already featured (except in ``except_date``'s edition)."""
        ...

    async def save_edition(
        self,
        edition_date: date,
        title: str,
        intro: str,
        offline: bool,
        entries: Sequence[EditionEntry],
        at: datetime,
    ) -> Edition:
        """Save (or replace) the edition of ``edition_date``."""
        ...

    async def save_new_edition(
        self,
        edition_date: date,
        title: str,
        intro: str,
        offline: bool,
        entries: Sequence[EditionEntry],
        at: datetime,
    ) -> Edition | None:
        """Save the edition of ``edition_date`` unless one exists (then None)."""
        ...

    async def record_compose(
        self,
        edition_date: date,
        outcome: ComposeOutcome,
        reason: str,
        at: datetime,
        edition_id: int | None,
    ) -> None:
        """Record how an attempt to compose ended."""
        ...

    async def record_llm_call(
        self,
        purpose: str,
        model: str,
        input_tokens: int,
        output_tokens: int,
        cost_usd: float,
        at: datetime,
    ) -> None:
        """Record one model call's tokens and cost."""
        ...


class FeaturedLookup(Protocol):
    """Where a featured item's latest entry is found (the store)."""

    async def featured_entry(self, canonical_id: str) -> tuple[date, EditionEntry] | None:
        """Return the latest edition entry of an item and its edition's date."""
        ...

    async def edition(
        self, *, edition_id: int | None = None, edition_date: date | None = None
    ) -> Edition | None:
        """Return an edition by id or date."""
        ...


class RewriteStore(FeaturedLookup, Protocol):
    """What rewriting one item's summary reads and writes (the store)."""

    async def rewrite_entry(
        self,
        edition_id: int,
        position: int,
        summary: ItemSummary,
        by: str,
        note: str,
        at: datetime,
    ) -> RewriteRecord:
        """Replace an entry's summary, keep the old one, enqueue edits; `LookupError` if gone."""
        ...

    async def summary_history(self, edition_id: int, position: int) -> list[SummaryRevision]:
        """Return the summaries an entry had before each rewrite, newest first."""


class HistoryStore(Protocol):
    """Where past editions read from files are kept (``digestbot import``)."""

    async def import_edition(self, edition: HistoryEdition, at: datetime) -> ImportOutcome:
        """Store ``edition`` as imported history; never replace an edition already there."""
        ...
