"""The ports of the commands: what answering /digest, /paper, /digest-admin and status needs.

The store (`storage.store.Store`) implements them; tests plug in the real store on SQLite.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol

from bot.domain import (
    ComposeAttempt,
    DeliveryJob,
    Edition,
    EditionEntry,
    IdentifiedSighting,
    Item,
    JobState,
    LastDelivery,
    ModelSpend,
    SourceRun,
    Submission,
    Subscription,
    SubscriptionRecord,
    UpsertCounts,
)


class CommandStore(Protocol):
    """What answering commands reads from the store."""

    async def edition(
        self, *, edition_id: int | None = None, edition_date: date | None = None
    ) -> Edition | None:
        """Return an edition by id or date, or the latest."""
        ...

    async def edition_dates(self) -> list[date]:
        """Return every edition's date, newest first."""
        ...

    async def featured_entry(self, canonical_id: str) -> tuple[date, EditionEntry] | None:
        """Return the latest edition entry of an item."""
        ...

    async def get_item(self, canonical_id: str) -> Item | None:
        """Return a stored item."""
        ...

    async def search_featured(
        self, words: Sequence[str], limit: int
    ) -> list[tuple[date, EditionEntry]]:
        """Return featured entries matching every word."""
        ...


class PaperFetchStore(Protocol):
    """What fetching a paper on demand writes to and reads from."""

    async def upsert_sightings(
        self, sightings: Sequence[IdentifiedSighting], seen_at: datetime
    ) -> UpsertCounts:
        """Store the fetched paper."""
        ...

    async def get_item(self, canonical_id: str) -> Item | None:
        """Read it back."""
        ...


class StatusStore(Protocol):
    """What status reads."""

    async def last_source_runs(self) -> list[SourceRun]:
        """Return each source's latest run."""
        ...

    async def last_compose(self) -> ComposeAttempt | None:
        """Return the latest compose attempt."""
        ...

    async def imported_edition_dates(self) -> list[date]:
        """Return the dates of the imported editions, newest first."""
        ...

    async def subscription_records(self) -> list[SubscriptionRecord]:
        """Return every subscription with who created it and when."""
        ...

    async def last_deliveries(self) -> list[LastDelivery]:
        """Return each destination's latest delivery."""
        ...

    async def delivery_jobs(
        self, states: Sequence[JobState] | None = None, limit: int = 200
    ) -> list[DeliveryJob]:
        """Return delivery jobs (in some states), newest first."""
        ...

    async def count_delivery_jobs(self, states: Sequence[JobState]) -> int:
        """Return how many delivery jobs are in ``states``."""
        ...

    async def llm_spend_since(self, since: datetime) -> ModelSpend:
        """Return what the model cost since ``since``."""
        ...

    async def pending_submissions(self) -> list[Submission]:
        """Return the editors' picks not yet resolved."""
        ...

    async def item_votes(self, since: datetime) -> dict[str, tuple[int, int]]:
        """Return per item its (👍, 👎) totals of the votes cast since ``since``."""
        ...

    async def get_item(self, canonical_id: str) -> Item | None:
        """Return a stored item (the most liked one's title)."""
        ...


class AdminStore(StatusStore, Protocol):
    """What admin commands read and write (and status reads)."""

    async def subscribe(self, subscription: Subscription, by: str, at: datetime) -> bool:
        """Create or update a subscription."""
        ...

    async def unsubscribe(self, platform: str, workspace: str, channel: str) -> bool:
        """Remove a subscription."""
        ...

    async def subscriptions(self, platform: str | None = None) -> list[Subscription]:
        """List subscriptions."""
        ...

    async def add_submission(
        self, url: str, note: str, submitted_by: str, at: datetime
    ) -> Submission:
        """Queue an editor's pick."""
        ...

    async def resume_subscription(self, platform: str, channel: str, at: datetime) -> bool:
        """Make a paused subscription active again; True if it was paused."""
        ...

    async def featured_entry(self, canonical_id: str) -> tuple[date, EditionEntry] | None:
        """Return an item's latest edition entry (what ``rewrite`` would change)."""
        ...

    async def edition(
        self, *, edition_id: int | None = None, edition_date: date | None = None
    ) -> Edition | None:
        """Return an edition by id or date."""
        ...
