"""What the web archive needs from the store (implemented by `storage.store.Store`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol

from bot.domain import Edition, EditionEntry, EditionHeading


class ArchiveStore(Protocol):
    """The editions, their entries and the search of featured items, read-only."""

    async def edition(
        self, *, edition_id: int | None = None, edition_date: date | None = None
    ) -> Edition | None:
        """Return an edition by id or date; with neither, the latest one composed here."""
        ...

    async def edition_headings(self, offset: int, limit: int) -> tuple[list[EditionHeading], int]:
        """Return one page of editions, newest first, and how many there are."""
        ...

    async def newest_editions(self, limit: int) -> list[Edition]:
        """Return the newest editions in full, newest first."""
        ...

    async def edition_dates(self) -> list[date]:
        """Return the dates of every edition, newest first."""
        ...

    async def item_entries(self, canonical_id: str) -> list[tuple[date, str, EditionEntry]]:
        """Return every edition entry of an item with its edition's date and title."""
        ...

    async def search_featured(
        self,
        words: Sequence[str],
        limit: int,
        *,
        difficulty: str | None = None,
        any_of: Sequence[str] = (),
    ) -> list[tuple[date, EditionEntry]]:
        """Return featured entries holding every word (and the filters), newest first."""
        ...
