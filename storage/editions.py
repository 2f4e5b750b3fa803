"""The store's editions: editions and their entries, the summaries cache, compose runs.

Also the search of featured items (items in some edition), for the bot's commands.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import QueryableAttribute, Session, selectinload

from bot.domain import ComposeAttempt, ComposeOutcome, Edition, EditionEntry, ItemSummary
from storage.base import StoreBase, chunks
from storage.models import ComposeRunRow, EditionEntryRow, EditionRow, ItemRow, SummaryRow
from storage.rows import edition_of, entry_of, summary_of

SEARCH_BATCH = 50
"""Editions searched at once, newest first (about 600 entries at 12 an edition)."""


class EditionsPart(StoreBase):
    """Editions, the summaries cache, compose runs and the search of featured items."""

    async def featured_item_ids(self, except_date: date | None = None) -> set[int]:
        """Return the ids of items already in an edition (other than ``except_date``'s)."""

        def read(session: Session) -> set[int]:
            query = select(EditionEntryRow.item_id).join(EditionRow)
            if except_date is not None:
                query = query.where(EditionRow.edition_date != except_date)
            return set(session.scalars(query))

        return await self._run(read)

    async def save_edition(
        self,
        edition_date: date,
        title: str,
        intro: str,
        offline: bool,
        entries: Sequence[EditionEntry],
        at: datetime,
    ) -> Edition:
        """Store the edition of ``edition_date``; a rebuild replaces it under the same id."""
        edition = await self._save_edition(edition_date, title, intro, offline, entries, at, True)
        assert edition is not None
        return edition

    async def save_new_edition(
        self,
        edition_date: date,
        title: str,
        intro: str,
        offline: bool,
        entries: Sequence[EditionEntry],
        at: datetime,
    ) -> Edition | None:
        """Store the edition of ``edition_date`` unless one exists (None then): never replaces.

        Two composes of one week (two instances, two ``digestbot compose``) both find no
        edition, compose, and save: the first one's edition stands.
        """
        return await self._save_edition(edition_date, title, intro, offline, entries, at, False)

    async def _save_edition(
        self,
        edition_date: date,
        title: str,
        intro: str,
        offline: bool,
        entries: Sequence[EditionEntry],
        at: datetime,
        replace: bool,
    ) -> Edition | None:

        def write(session: Session) -> int | None:
            # A rebuild keeps the edition's id (deliveries refer to it) and replaces the rest.
            row = session.scalars(
                select(EditionRow)
                .where(EditionRow.edition_date == edition_date)
                .options(selectinload(EditionRow.entries))
            ).first()
            if row is not None and not replace:
                return None
            if row is None:
                row = EditionRow(
                    edition_date=edition_date,
                    title=title,
                    intro=intro,
                    offline=offline,
                    created_at=at,
                )
                try:
                    with session.begin_nested():
                        session.add(row)
                        session.flush()
                except IntegrityError:
                    # Another instance inserted the same date meanwhile (PostgreSQL waits
                    # on the unique index, then refuses ours).
                    if replace:
                        raise
                    return None
            else:
                row.entries.clear()
                session.flush()
            row.title, row.intro, row.offline, row.created_at = title, intro, offline, at
            for entry in entries:
                summary = entry.summary
                row.entries.append(
                    EditionEntryRow(
                        item_id=entry.item.id,
                        position=entry.position,
                        why=summary.why,
                        difficulty=summary.difficulty.value,
                        takeaways=list(summary.takeaways),
                        model=summary.model,
                        prompt_version=summary.prompt_version,
                        offline=summary.offline,
                        note=summary.note,
                        score=entry.score,
                        reason=entry.reason,
                    )
                )
            session.flush()
            return row.id

        edition_id = await self._run(write, writes=True)
        if edition_id is None:
            return None
        return await self.edition(edition_id=edition_id)

    async def edition(
        self, *, edition_id: int | None = None, edition_date: date | None = None
    ) -> Edition | None:
        """Return an edition by id or by date; with neither, the latest one composed here.

        "The latest" is what the schedule delivers and ``/digest`` shows by default: an
        imported edition (history, never delivered) is reached by its date or id only.
        """

        def read(session: Session) -> Edition | None:
            query = select(EditionRow).options(
                selectinload(EditionRow.entries)
                .selectinload(EditionEntryRow.item)
                .selectinload(ItemRow.sightings)
            )
            if edition_id is not None:
                query = query.where(EditionRow.id == edition_id)
            elif edition_date is not None:
                query = query.where(EditionRow.edition_date == edition_date)
            else:
                query = query.where(EditionRow.imported.is_(False)).order_by(
                    EditionRow.edition_date.desc()
                )
            row = session.scalars(query.limit(1)).first()
            return edition_of(row) if row else None

        return await self._run(read)

    async def edition_dates(self) -> list[date]:
        """Return the dates of every edition, newest first."""
        return await self._run(
            lambda session: list(
                session.scalars(
                    select(EditionRow.edition_date).order_by(EditionRow.edition_date.desc())
                )
            )
        )

    async def imported_edition_dates(self) -> list[date]:
        """Return the dates of the imported editions (the team's history), newest first."""
        return await self._run(
            lambda session: list(
                session.scalars(
                    select(EditionRow.edition_date)
                    .where(EditionRow.imported.is_(True))
                    .order_by(EditionRow.edition_date.desc())
                )
            )
        )

    async def cached_summary(
        self, content_hash: str, prompt_version: str, model: str
    ) -> ItemSummary | None:
        """Return the summary written for this content, prompt version and model, if any."""

        def read(session: Session) -> ItemSummary | None:
            row = session.scalars(
                select(SummaryRow).where(
                    SummaryRow.content_hash == content_hash,
                    SummaryRow.prompt_version == prompt_version,
                    SummaryRow.model == model,
                )
            ).first()
            return summary_of(row) if row else None

        return await self._run(read)

    async def save_summary(self, content_hash: str, summary: ItemSummary, at: datetime) -> None:
        """Cache ``summary`` under its content hash, prompt version and model."""

        def write(session: Session) -> None:
            exists = session.scalars(
                select(SummaryRow.id).where(
                    SummaryRow.content_hash == content_hash,
                    SummaryRow.prompt_version == summary.prompt_version,
                    SummaryRow.model == summary.model,
                )
            ).first()
            if exists is None:
                session.add(
                    SummaryRow(
                        content_hash=content_hash,
                        prompt_version=summary.prompt_version,
                        model=summary.model,
                        why=summary.why,
                        difficulty=summary.difficulty.value,
                        takeaways=list(summary.takeaways),
                        offline=summary.offline,
                        note=summary.note,
                        created_at=at,
                    )
                )

        await self._run(write)

    async def record_compose(
        self, edition_date: date, outcome: str, reason: str, at: datetime, edition_id: int | None
    ) -> None:
        """Record an attempt to compose the edition of ``edition_date`` and how it ended."""
        row = ComposeRunRow(
            edition_date=edition_date, at=at, outcome=outcome, reason=reason, edition_id=edition_id
        )
        await self._run(lambda session: session.add(row))

    async def last_compose(self) -> ComposeAttempt | None:
        """Return the latest compose attempt: the edition it was for, how it ended, when."""

        def read(session: Session) -> ComposeAttempt | None:
            row = session.scalars(select(ComposeRunRow).order_by(ComposeRunRow.id.desc())).first()
            if row is None:
                return None
            return ComposeAttempt(row.edition_date, ComposeOutcome(row.outcome), row.reason, row.at)

        return await self._run(read)

    async def featured_entry(self, canonical_id: str) -> tuple[date, EditionEntry] | None:
        """Return the latest edition entry of an item (and its edition's date), if featured."""

        def read(session: Session) -> tuple[date, EditionEntry] | None:
            query = (
                select(EditionEntryRow, EditionRow.edition_date)
                .join(EditionRow)
                .join(ItemRow, EditionEntryRow.item_id == ItemRow.id)
                .where(ItemRow.canonical_id == canonical_id)
                .order_by(EditionRow.edition_date.desc())
                .options(selectinload(EditionEntryRow.item).selectinload(ItemRow.sightings))
                .limit(1)
            )
            found = session.execute(query).first()
            if found is None:
                return None
            row, edition_date = found
            return edition_date, entry_of(row)

        return await self._run(read)

    async def search_featured(
        self,
        words: Sequence[str],
        limit: int,
        *,
        difficulty: str | None = None,
        any_of: Sequence[str] = (),
    ) -> list[tuple[date, EditionEntry]]:
        """Return featured entries whose title or summary holds every word, newest first.

        ``difficulty`` keeps the entries at that level; ``any_of``, those whose title or
        summary holds at least one of its phrases (the web archive's filters).
        """

        def read(session: Session) -> list[tuple[date, EditionEntry]]:
            query = (
                select(EditionEntryRow, EditionRow.edition_date)
                .join(EditionRow)
                .join(ItemRow, EditionEntryRow.item_id == ItemRow.id)
                .options(selectinload(EditionEntryRow.item).selectinload(ItemRow.sightings))
            )
            holds = self._holds
            for word in words:
                pattern = f"%{_like_literal(word.lower())}%"
                query = query.where(
                    holds(ItemRow.title, pattern) | holds(EditionEntryRow.why, pattern)
                )
            if difficulty is not None:
                query = query.where(EditionEntryRow.difficulty == difficulty)
            if any_of:
                patterns = [f"%{_like_literal(phrase.lower())}%" for phrase in any_of]
                query = query.where(
                    or_(
                        *(holds(ItemRow.title, p) for p in patterns),
                        *(holds(EditionEntryRow.why, p) for p in patterns),
                    )
                )
            query = query.order_by(EditionRow.edition_date.desc(), EditionEntryRow.position)
            # Newest editions first, a few at a time, until ``limit`` entries match: a
            # common word is found in the first batch instead of after scanning (and
            # sorting) every entry of every edition, whatever the database's planner does.
            newest = list(
                session.scalars(select(EditionRow.id).order_by(EditionRow.edition_date.desc()))
            )
            found: list[tuple[date, EditionEntry]] = []
            for batch in chunks(newest, SEARCH_BATCH):
                rows = session.execute(
                    query.where(EditionEntryRow.edition_id.in_(batch)).limit(limit - len(found))
                )
                found += [(day, entry_of(row)) for row, day in rows]
                if len(found) >= limit:
                    break
            return found

        return await self._run(read)

    def _holds(self, column: QueryableAttribute[str], pattern: str) -> ColumnElement[bool]:
        """Whether ``column`` matches a lower-case LIKE ``pattern``, whatever the case.

        SQLite's LIKE already ignores ASCII case (as its lower() only lowers ASCII), and is
        about three times faster on a bare column than on lower(column); PostgreSQL's ILIKE.
        """
        if self._dialect == "sqlite":
            return column.like(pattern, escape="!")
        return column.ilike(pattern, escape="!")


def _like_literal(text: str) -> str:
    """Escape LIKE's wildcards: a user's % and _ are text (``!`` is the escape character)."""
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")
