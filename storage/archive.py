"""The store's web archive reads: editions listed by page, the newest editions, an item's history.

What the archive and its feed show (``bot.web``) beyond what the commands already read: the
editions as headings (no entries loaded) newest first with their total, the newest editions in
full for the feed, and every edition entry of one item.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from bot.domain import Edition, EditionEntry, EditionHeading
from storage.base import StoreBase
from storage.models import EditionEntryRow, EditionRow, ItemRow
from storage.rows import edition_of, entry_of


class ArchivePart(StoreBase):
    """Reads for the web archive and its feed."""

    async def edition_headings(self, offset: int, limit: int) -> tuple[list[EditionHeading], int]:
        """Return one page of editions, newest first, without their entries, and the total."""

        def read(session: Session) -> tuple[list[EditionHeading], int]:
            total = session.scalar(select(func.count(EditionRow.id))) or 0
            counts = (
                select(EditionEntryRow.edition_id, func.count(EditionEntryRow.id).label("n"))
                .group_by(EditionEntryRow.edition_id)
                .subquery()
            )
            rows = session.execute(
                select(EditionRow, func.coalesce(counts.c.n, 0))
                .outerjoin(counts, counts.c.edition_id == EditionRow.id)
                .order_by(EditionRow.edition_date.desc())
                .offset(offset)
                .limit(limit)
            )
            headings = [
                EditionHeading(
                    id=row.id,
                    date=row.edition_date,
                    title=row.title,
                    intro=row.intro,
                    count=int(count),
                    imported=bool(row.imported),
                    created_at=row.created_at,
                )
                for row, count in rows
            ]
            return headings, int(total)

        return await self._run(read)

    async def newest_editions(self, limit: int) -> list[Edition]:
        """Return the ``limit`` newest editions in full (entries, items), newest first."""

        def read(session: Session) -> list[Edition]:
            rows = session.scalars(
                select(EditionRow)
                .options(
                    selectinload(EditionRow.entries)
                    .selectinload(EditionEntryRow.item)
                    .selectinload(ItemRow.sightings)
                )
                .order_by(EditionRow.edition_date.desc())
                .limit(limit)
            )
            return [edition_of(row) for row in rows]

        return await self._run(read)

    async def item_entries(self, canonical_id: str) -> list[tuple[date, str, EditionEntry]]:
        """Return every edition entry of an item: the edition's date and title, newest first."""

        def read(session: Session) -> list[tuple[date, str, EditionEntry]]:
            rows = session.execute(
                select(EditionEntryRow, EditionRow.edition_date, EditionRow.title)
                .join(EditionRow)
                .join(ItemRow, EditionEntryRow.item_id == ItemRow.id)
                .where(ItemRow.canonical_id == canonical_id)
                .order_by(EditionRow.edition_date.desc())
                .options(selectinload(EditionEntryRow.item).selectinload(ItemRow.sightings))
            )
            return [(day, title, entry_of(row)) for row, day, title in rows]

        return await self._run(read)
