"""The store: items seen once however many sources saw them, runs, source state, picks.

Public methods are async (they implement `bot.ports.IngestStore`); the SQLAlchemy work runs in
a worker thread, one operation at a time per store, so the event loop never blocks on SQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta
from types import TracebackType
from typing import Any, Self, TypeVar

from sqlalchemy import Connection, Engine, false, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from bot.domain import (
    DeliveryJob,
    Difficulty,
    Edition,
    EditionEntry,
    IdentifiedSighting,
    Item,
    ItemContent,
    ItemKind,
    ItemSummary,
    RunOutcome,
    Sighting,
    SourceRun,
    Submission,
    Subscription,
    SubscriptionRecord,
    UpsertCounts,
)
from bot.merge import merge_sightings, sighting_fingerprint
from storage.db import create_engine_for, upgrade
from storage.models import (
    ComposeRunRow,
    DeliveryJobRow,
    DeliveryRow,
    DeliveryStartRow,
    EditionEntryRow,
    EditionRow,
    ItemRow,
    LlmAnswerRow,
    LlmCallRow,
    SightingRow,
    SourceRunRow,
    SourceStateRow,
    SubmissionRow,
    SubscriptionRow,
    SummaryRow,
)

T = TypeVar("T")
IN_CHUNK = 500
"""At most this many values in one SQL ``IN`` list (keeps every database's limits)."""
UPSERT_ATTEMPTS = 3
"""Runs of one upsert when it loses a race to another instance (the first and two reruns)."""
RACE_SQLSTATES = frozenset({"23505", "40001", "40P01"})
"""PostgreSQL's unique violation, serialization failure and deadlock: a rerun can succeed."""


def _chunks(values: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _sighting_of(row: SightingRow) -> Sighting:
    return Sighting(
        source=row.source,
        url=row.url,
        title=row.title,
        summary=row.summary,
        authors=tuple(row.authors),
        published_at=row.published_at,
        arxiv_id=row.arxiv_id,
        arxiv_version=row.arxiv_version,
        links=tuple(row.links),
        data=dict(row.data),
    )


def _write_sighting(row: SightingRow, sighting: Sighting, fingerprint: str) -> None:
    row.url = sighting.url
    row.title = sighting.title
    row.summary = sighting.summary
    row.authors = list(sighting.authors)
    row.published_at = sighting.published_at
    row.arxiv_id = sighting.arxiv_id
    row.arxiv_version = sighting.arxiv_version
    row.links = list(sighting.links)
    row.data = dict(sighting.data)
    row.fingerprint = fingerprint


def _write_content(row: ItemRow, content: ItemContent) -> None:
    row.kind = content.kind.value
    row.title = content.title
    row.url = content.url
    row.summary = content.summary
    row.authors = list(content.authors)
    row.published_at = content.published_at
    row.arxiv_id = content.arxiv_id
    row.arxiv_version = content.arxiv_version
    row.data = dict(content.data)
    row.content_hash = content.content_hash


def _item_of(row: ItemRow) -> Item:
    content = ItemContent(
        canonical_id=row.canonical_id,
        kind=ItemKind(row.kind),
        title=row.title,
        url=row.url,
        summary=row.summary,
        authors=tuple(row.authors),
        published_at=row.published_at,
        arxiv_id=row.arxiv_id,
        arxiv_version=row.arxiv_version,
        data=dict(row.data),
        content_hash=row.content_hash,
    )
    return Item(
        id=row.id,
        content=content,
        sources=tuple(sorted(s.source for s in row.sightings)),
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        citations=row.citations,
        citations_checked_at=row.citations_checked_at,
    )


def _run_of(row: SourceRunRow) -> SourceRun:
    return SourceRun(
        source=row.source,
        started_at=row.started_at,
        finished_at=row.finished_at,
        outcome=RunOutcome(row.outcome),
        reason=row.reason,
        fetched=row.fetched,
        counts=UpsertCounts(row.new, row.updated, row.unchanged),
        warnings=tuple(row.warnings),
    )


def _submission_of(row: SubmissionRow) -> Submission:
    return Submission(
        id=row.id,
        url=row.url,
        note=row.note,
        submitted_by=row.submitted_by,
        submitted_at=row.submitted_at,
    )


class Store:
    """Everything the bot keeps, on SQLite or PostgreSQL."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._lock = asyncio.Lock()
        self._dialect = engine.dialect.name

    @classmethod
    async def open(cls, url: str, *, migrate: bool = True) -> Store:
        """Open the database at ``url``, migrating it to the latest schema first by default."""
        engine = create_engine_for(url)
        if migrate:
            await asyncio.to_thread(upgrade, engine)
        return cls(engine)

    async def aclose(self) -> None:
        """Close every pooled connection."""
        await asyncio.to_thread(self._engine.dispose)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _run(self, work: Callable[[Session], T], *, writes: bool = False) -> T:
        """Run ``work`` in one transaction in a worker thread, one at a time.

        ``writes``: ``work`` reads rows and then writes on what it read. On SQLite the
        transaction then takes the database's write lock before it reads (``BEGIN
        IMMEDIATE``), so another connection cannot change those rows in between; the
        driver would otherwise begin only at the first write. PostgreSQL's ``work`` locks
        the rows it needs itself (``FOR UPDATE``).
        """

        def in_thread() -> T:
            with self._sessions.begin() as session:
                if writes and self._dialect == "sqlite":
                    session.execute(text("BEGIN IMMEDIATE"))
                return work(session)

        async with self._lock:
            return await asyncio.to_thread(in_thread)

    def _insert_if_absent(
        self,
        session: Session,
        row_type: type[DeliveryRow | DeliveryStartRow | SubscriptionRow | DeliveryJobRow],
        values: Mapping[str, object],
        unique: Sequence[str],
    ) -> bool:
        """Insert a row unless one with the same ``unique`` columns exists; True if inserted.

        ``ON CONFLICT DO NOTHING`` on both databases: concurrent writers (several instances on
        one PostgreSQL) never fail on the unique constraint.
        """
        insert = postgresql_insert if self._dialect == "postgresql" else sqlite_insert
        statement = (
            insert(row_type)
            .values(**values)
            .on_conflict_do_nothing(index_elements=list(unique))
            .returning(row_type.id)  # no row when it existed (SQLite 3.35+)
        )
        return session.execute(statement).first() is not None

    # -- items -----------------------------------------------------------------------------

    async def upsert_sightings(
        self, sightings: Sequence[IdentifiedSighting], seen_at: datetime
    ) -> UpsertCounts:
        """Insert or update items and their sightings; count new, updated, unchanged items.

        A sighting repeats (same fingerprint): only its last_seen moves. An older arXiv
        version never overwrites a newer one. Each touched item is re-merged from all of its
        sightings, so the result does not depend on the order in which sources ran.

        Safe while other instances store the same items: an instance that loses the race to
        insert a new item runs again and updates it, and updates of one item take turns
        (``FOR UPDATE`` on PostgreSQL, the write lock on SQLite), so no sighting is lost.
        """
        if not sightings:
            return UpsertCounts()
        for attempt in range(UPSERT_ATTEMPTS):
            try:
                return await self._run(
                    lambda session: self._upsert(session, sightings, seen_at), writes=True
                )
            except (IntegrityError, OperationalError) as exc:
                # Another instance inserted one of these new items between our read and our
                # write (or the server broke a deadlock by ending us); the transaction rolled
                # back whole, and a rerun finds the item and updates it instead.
                if attempt == UPSERT_ATTEMPTS - 1 or not _lost_a_race(exc):
                    raise
        raise AssertionError("unreachable")

    def _upsert(
        self, session: Session, sightings: Sequence[IdentifiedSighting], seen_at: datetime
    ) -> UpsertCounts:
        grouped: dict[str, list[IdentifiedSighting]] = {}
        for identified in sightings:
            grouped.setdefault(identified.canonical_id, []).append(identified)
        # One order for every instance: items are locked and inserted by canonical id, so
        # two instances storing overlapping batches wait for each other, never deadlock.
        canonical_ids = sorted(grouped)
        existing: dict[str, ItemRow] = {}
        for chunk in _chunks(canonical_ids):
            query = (
                select(ItemRow)
                .where(ItemRow.canonical_id.in_(chunk))
                .order_by(ItemRow.canonical_id)
                .options(selectinload(ItemRow.sightings))
            )
            if self._dialect == "postgresql":
                # Another instance updating one of these items waits until we commit, then
                # re-merges from every sighting including ours (and we from its).
                query = query.with_for_update(of=ItemRow)
            existing.update((row.canonical_id, row) for row in session.scalars(query))

        new = updated = unchanged = 0
        for canonical_id in canonical_ids:
            group = grouped[canonical_id]
            row = existing.get(canonical_id)
            if row is None:
                self._insert_item(session, canonical_id, group, seen_at)
                new += 1
            elif self._update_item(row, group, seen_at):
                updated += 1
            else:
                unchanged += 1
        return UpsertCounts(new, updated, unchanged)

    @staticmethod
    def _insert_item(
        session: Session, canonical_id: str, group: list[IdentifiedSighting], seen_at: datetime
    ) -> None:
        kind = ItemKind.PAPER if any(i.kind is ItemKind.PAPER for i in group) else group[0].kind
        by_source: dict[str, Sighting] = {}
        for identified in group:
            by_source.setdefault(identified.sighting.source, identified.sighting)
        row = ItemRow(canonical_id=canonical_id, first_seen=seen_at, last_seen=seen_at)
        for sighting in by_source.values():
            sighting_row = SightingRow(
                source=sighting.source, first_seen=seen_at, last_seen=seen_at
            )
            _write_sighting(sighting_row, sighting, sighting_fingerprint(sighting))
            row.sightings.append(sighting_row)
        _write_content(row, merge_sightings(canonical_id, kind, list(by_source.values())))
        session.add(row)

    @staticmethod
    def _update_item(row: ItemRow, group: list[IdentifiedSighting], seen_at: datetime) -> bool:
        """Apply a group of sightings to a stored item; return whether the item changed."""
        before = (row.content_hash, row.data, row.kind)
        by_source = {sighting_row.source: sighting_row for sighting_row in row.sightings}
        added_source = False
        for identified in group:
            sighting = identified.sighting
            if identified.kind is ItemKind.PAPER:
                row.kind = ItemKind.PAPER.value
            fingerprint = sighting_fingerprint(sighting)
            sighting_row = by_source.get(sighting.source)
            if sighting_row is None:
                sighting_row = SightingRow(source=sighting.source, first_seen=seen_at)
                row.sightings.append(sighting_row)
                by_source[sighting.source] = sighting_row
                added_source = True
            elif sighting_row.fingerprint == fingerprint or _is_older_version(
                sighting, sighting_row
            ):
                sighting_row.last_seen = seen_at
                continue
            _write_sighting(sighting_row, sighting, fingerprint)
            sighting_row.last_seen = seen_at
        merged = merge_sightings(
            row.canonical_id, ItemKind(row.kind), [_sighting_of(s) for s in row.sightings]
        )
        _write_content(row, merged)
        row.last_seen = seen_at
        return added_source or (row.content_hash, row.data, row.kind) != before

    async def get_item(self, canonical_id: str) -> Item | None:
        """Return the item with that canonical id, or ``None``."""

        def read(session: Session) -> Item | None:
            query = (
                select(ItemRow)
                .where(ItemRow.canonical_id == canonical_id)
                .options(selectinload(ItemRow.sightings))
            )
            row = session.scalars(query).first()
            return _item_of(row) if row else None

        return await self._run(read)

    async def count_items(self) -> int:
        """Return how many items are stored."""
        return await self._run(
            lambda session: session.scalar(select(func.count()).select_from(ItemRow)) or 0
        )

    async def recent_items(self, limit: int) -> list[Item]:
        """Return the most recently first-seen items, newest first."""
        return await self._items(
            select(ItemRow).order_by(ItemRow.first_seen.desc(), ItemRow.id.desc()).limit(limit)
        )

    async def items_first_seen_between(self, start: datetime, end: datetime) -> list[Item]:
        """Return the items first seen in ``[start, end)``, oldest first."""
        query = (
            select(ItemRow)
            .where(ItemRow.first_seen >= start, ItemRow.first_seen < end)
            .order_by(ItemRow.first_seen, ItemRow.id)
        )
        return await self._items(query)

    async def _items(self, query: Any) -> list[Item]:
        def read(session: Session) -> list[Item]:
            rows = session.scalars(query.options(selectinload(ItemRow.sightings)))
            return [_item_of(row) for row in rows]

        return await self._run(read)

    # -- sources ---------------------------------------------------------------------------

    async def source_state(self, source: str) -> dict[str, str]:
        """Return the conditional-request state kept for ``source`` (empty when none)."""

        def read(session: Session) -> dict[str, str]:
            row = session.get(SourceStateRow, source)
            return {str(k): str(v) for k, v in row.state.items()} if row else {}

        return await self._run(read)

    async def save_source_state(self, source: str, state: Mapping[str, str], at: datetime) -> None:
        """Keep ``state`` (as of ``at``) for the next fetch of ``source``."""

        def write(session: Session) -> None:
            row = session.get(SourceStateRow, source)
            if row is None:
                session.add(SourceStateRow(source=source, state=dict(state), updated_at=at))
            else:
                row.state = dict(state)
                row.updated_at = at

        await self._run(write)

    async def record_source_run(self, run: SourceRun) -> None:
        """Record how one source's run ended."""
        row = SourceRunRow(
            source=run.source,
            started_at=run.started_at,
            finished_at=run.finished_at,
            outcome=run.outcome.value,
            reason=run.reason,
            fetched=run.fetched,
            new=run.counts.new,
            updated=run.counts.updated,
            unchanged=run.counts.unchanged,
            warnings=list(run.warnings),
        )
        await self._run(lambda session: session.add(row))

    async def last_source_runs(self) -> list[SourceRun]:
        """Return the latest run of every source that has run, by source name."""

        def read(session: Session) -> list[SourceRun]:
            latest = select(func.max(SourceRunRow.id)).group_by(SourceRunRow.source)
            rows = session.scalars(
                select(SourceRunRow)
                .where(SourceRunRow.id.in_(latest))
                .order_by(SourceRunRow.source)
            )
            return [_run_of(row) for row in rows]

        return await self._run(read)

    # -- citations -------------------------------------------------------------------------

    async def arxiv_ids_needing_citations(self, checked_before: datetime, limit: int) -> list[str]:
        """Return ids of papers whose citation count is missing or older than ``checked_before``."""

        def read(session: Session) -> list[str]:
            query = (
                select(ItemRow.arxiv_id)
                .where(ItemRow.arxiv_id.is_not(None))
                .where(
                    (ItemRow.citations_checked_at.is_(None))
                    | (ItemRow.citations_checked_at < checked_before)
                )
                .order_by(ItemRow.first_seen.desc(), ItemRow.id.desc())
                .limit(limit)
            )
            return [arxiv_id for arxiv_id in session.scalars(query) if arxiv_id]

        return await self._run(read)

    async def save_citations(
        self, counts: Mapping[str, int], checked: Sequence[str], at: datetime
    ) -> None:
        """Store citation counts; mark every id in ``checked`` as checked at ``at``."""

        def write(session: Session) -> None:
            for arxiv_id, count in counts.items():
                session.execute(
                    update(ItemRow)
                    .where(ItemRow.arxiv_id == arxiv_id)
                    .values(citations=count, citations_checked_at=at)
                )
            for chunk in _chunks(list(checked)):
                session.execute(
                    update(ItemRow)
                    .where(ItemRow.arxiv_id.in_(chunk))
                    .values(citations_checked_at=at)
                )

        await self._run(write)

    # -- editors' picks --------------------------------------------------------------------

    async def add_submission(
        self, url: str, note: str, submitted_by: str, at: datetime
    ) -> Submission:
        """Queue an editor's pick for the next ingest."""

        def write(session: Session) -> Submission:
            row = SubmissionRow(
                url=url,
                note=note,
                submitted_by=submitted_by,
                submitted_at=at,
                status="pending",
                reason="",
            )
            session.add(row)
            session.flush()
            return _submission_of(row)

        return await self._run(write)

    async def pending_submissions(self) -> list[Submission]:
        """Return the editors' picks not yet resolved, oldest first."""

        def read(session: Session) -> list[Submission]:
            query = select(SubmissionRow).where(SubmissionRow.status == "pending")
            return [
                _submission_of(row) for row in session.scalars(query.order_by(SubmissionRow.id))
            ]

        return await self._run(read)

    async def resolve_submission(
        self, submission_id: int, canonical_id: str | None, reason: str, at: datetime
    ) -> None:
        """Mark a pick as resolved to ``canonical_id``, or as failed with ``reason``."""

        def write(session: Session) -> None:
            row = session.get(SubmissionRow, submission_id)
            if row is None:
                return
            row.status = "resolved" if canonical_id else "failed"
            row.canonical_id = canonical_id
            row.reason = reason
            row.resolved_at = at

        await self._run(write)

    # -- editions --------------------------------------------------------------------------

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

        def write(session: Session) -> int:
            # A rebuild keeps the edition's id (deliveries refer to it) and replaces the rest.
            row = session.scalars(
                select(EditionRow)
                .where(EditionRow.edition_date == edition_date)
                .options(selectinload(EditionRow.entries))
            ).first()
            if row is None:
                row = EditionRow(edition_date=edition_date)
                session.add(row)
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

        edition_id = await self._run(write)
        edition = await self.edition(edition_id=edition_id)
        assert edition is not None
        return edition

    async def edition(
        self, *, edition_id: int | None = None, edition_date: date | None = None
    ) -> Edition | None:
        """Return an edition by id or by date; with neither, the latest one."""

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
                query = query.order_by(EditionRow.edition_date.desc())
            row = session.scalars(query.limit(1)).first()
            return _edition_of(row) if row else None

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
            return _summary_of(row) if row else None

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

    async def last_compose(self) -> tuple[date, str, str, datetime] | None:
        """Return the latest compose attempt: (edition date, outcome, reason, when)."""

        def read(session: Session) -> tuple[date, str, str, datetime] | None:
            row = session.scalars(select(ComposeRunRow).order_by(ComposeRunRow.id.desc())).first()
            return (row.edition_date, row.outcome, row.reason, row.at) if row else None

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
            entry = EditionEntry(
                row.position, _item_of(row.item), _summary_of(row), row.score, row.reason
            )
            return edition_date, entry

        return await self._run(read)

    async def search_featured(
        self, words: Sequence[str], limit: int
    ) -> list[tuple[date, EditionEntry]]:
        """Return featured entries whose title or summary holds every word, newest first."""

        def read(session: Session) -> list[tuple[date, EditionEntry]]:
            query = (
                select(EditionEntryRow, EditionRow.edition_date)
                .join(EditionRow)
                .join(ItemRow, EditionEntryRow.item_id == ItemRow.id)
                .options(selectinload(EditionEntryRow.item).selectinload(ItemRow.sightings))
            )
            for word in words:
                pattern = f"%{_like_literal(word.lower())}%"
                query = query.where(
                    func.lower(ItemRow.title).like(pattern, escape="!")
                    | func.lower(EditionEntryRow.why).like(pattern, escape="!")
                )
            rows = session.execute(
                query.order_by(EditionRow.edition_date.desc(), EditionEntryRow.position).limit(
                    limit
                )
            )
            return [
                (
                    day,
                    EditionEntry(
                        row.position, _item_of(row.item), _summary_of(row), row.score, row.reason
                    ),
                )
                for row, day in rows
            ]

        return await self._run(read)

    # -- language model --------------------------------------------------------------------

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
        row = LlmCallRow(
            at=at,
            purpose=purpose,
            model=model,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cost_usd=cost_usd,
        )
        await self._run(lambda session: session.add(row))

    async def llm_spend_since(self, since: datetime) -> tuple[int, int, float]:
        """Return (calls, tokens, cost in USD) spent on the model since ``since``."""

        def read(session: Session) -> tuple[int, int, float]:
            calls, tokens, cost = session.execute(
                select(
                    func.count(LlmCallRow.id),
                    func.coalesce(func.sum(LlmCallRow.input_tokens + LlmCallRow.output_tokens), 0),
                    func.coalesce(func.sum(LlmCallRow.cost_usd), 0.0),
                ).where(LlmCallRow.at >= since)
            ).one()
            return int(calls), int(tokens), float(cost)

        return await self._run(read)

    async def llm_answers(
        self, keys: Sequence[str], prompt_version: str, model: str
    ) -> dict[str, dict[str, Any]]:
        """Return the kept answers for ``keys`` under this prompt version and model."""

        def read(session: Session) -> dict[str, dict[str, Any]]:
            found: dict[str, dict[str, Any]] = {}
            for chunk in _chunks(list(keys)):
                rows = session.scalars(
                    select(LlmAnswerRow).where(
                        LlmAnswerRow.key.in_(chunk),
                        LlmAnswerRow.prompt_version == prompt_version,
                        LlmAnswerRow.model == model,
                    )
                )
                found.update((row.key, dict(row.answer)) for row in rows)
            return found

        return await self._run(read)

    async def save_llm_answers(
        self,
        answers: Mapping[str, Mapping[str, Any]],
        prompt_version: str,
        model: str,
        at: datetime,
    ) -> None:
        """Keep validated answers by key, prompt version and model (existing ones stay)."""

        def write(session: Session) -> None:
            known = set(
                session.scalars(
                    select(LlmAnswerRow.key).where(
                        LlmAnswerRow.key.in_(list(answers)),
                        LlmAnswerRow.prompt_version == prompt_version,
                        LlmAnswerRow.model == model,
                    )
                )
            )
            for key, answer in answers.items():
                if key not in known:
                    session.add(
                        LlmAnswerRow(
                            key=key,
                            prompt_version=prompt_version,
                            model=model,
                            answer=dict(answer),
                            created_at=at,
                        )
                    )

        await self._run(write)

    # -- deliveries ------------------------------------------------------------------------

    async def sent_parts(self, destination: str, edition_id: int) -> dict[int, tuple[str, str]]:
        """Return the parts already sent to ``destination``: part -> (message id, thread id)."""

        def read(session: Session) -> dict[int, tuple[str, str]]:
            rows = session.scalars(
                select(DeliveryRow).where(
                    DeliveryRow.destination == destination, DeliveryRow.edition_id == edition_id
                )
            )
            return {row.part: (row.message_id, row.thread_id) for row in rows}

        return await self._run(read)

    async def begin_delivery(self, destination: str, edition_id: int, at: datetime) -> bool:
        """Note that a delivery of an edition to a destination begins; True the first time.

        Only a delivery that began before can have left a message whose record was lost, so
        only then need the platform be asked before the first send.
        """
        values = {"destination": destination, "edition_id": edition_id, "started_at": at}

        def write(session: Session) -> bool:
            return self._insert_if_absent(
                session, DeliveryStartRow, values, ["destination", "edition_id"]
            )

        return await self._run(write, writes=True)

    async def record_sent(
        self,
        destination: str,
        edition_id: int,
        part: int,
        message_id: str,
        thread_id: str,
        at: datetime,
    ) -> None:
        """Record that one part was sent (before the next one is, DESIGN.md §7).

        A part recorded already keeps its first record (``ON CONFLICT DO NOTHING``).
        """
        values = {
            "destination": destination,
            "edition_id": edition_id,
            "part": part,
            "message_id": message_id,
            "thread_id": thread_id,
            "sent_at": at,
        }

        def write(session: Session) -> None:
            self._insert_if_absent(
                session, DeliveryRow, values, ["destination", "edition_id", "part"]
            )

        await self._run(write)

    # -- subscriptions ---------------------------------------------------------------------

    async def subscribe(self, subscription: Subscription, by: str, at: datetime) -> bool:
        """Create or update a channel's subscription (active again); True when it is new.

        The row is inserted unless it exists (``ON CONFLICT DO NOTHING``), then updated under a
        row lock: two admins subscribing one channel at once, from two instances on one
        PostgreSQL, both succeed (one creates, the other updates) instead of one of them
        failing on the unique constraint.
        """
        where = (
            SubscriptionRow.platform == subscription.platform,
            SubscriptionRow.workspace == subscription.workspace,
            SubscriptionRow.channel == subscription.channel,
        )
        schedule = {
            "weekday": subscription.weekday,
            "at_time": subscription.at_time,
            "timezone": subscription.timezone,
            "difficulty": subscription.difficulty.value if subscription.difficulty else None,
            "active": True,
            "paused_reason": "",
            "paused_at": None,
            "updated_at": at,
        }

        def write(session: Session) -> bool:
            created = self._insert_if_absent(
                session,
                SubscriptionRow,
                {
                    "platform": subscription.platform,
                    "workspace": subscription.workspace,
                    "channel": subscription.channel,
                    "created_by": by,
                    "created_at": at,
                    **schedule,
                },
                ["platform", "workspace", "channel"],
            )
            if not created:
                session.execute(update(SubscriptionRow).where(*where).values(**schedule))
            return created

        return await self._run(write, writes=True)

    async def unsubscribe(self, platform: str, workspace: str, channel: str) -> bool:
        """Remove a channel's subscription; True when there was one."""

        def write(session: Session) -> bool:
            row = session.scalars(
                select(SubscriptionRow).where(
                    SubscriptionRow.platform == platform,
                    SubscriptionRow.workspace == workspace,
                    SubscriptionRow.channel == channel,
                )
            ).first()
            if row is None:
                return False
            session.delete(row)
            return True

        return await self._run(write)

    async def subscriptions(self, platform: str | None = None) -> list[Subscription]:
        """Return the subscriptions (of one platform), by channel."""

        def read(session: Session) -> list[Subscription]:
            query = select(SubscriptionRow).order_by(SubscriptionRow.channel)
            if platform is not None:
                query = query.where(SubscriptionRow.platform == platform)
            return [_subscription_of(row) for row in session.scalars(query)]

        return await self._run(read)

    async def last_deliveries(self) -> list[tuple[str, date, int, datetime]]:
        """Return per destination its latest edition's date, parts sent and last send time."""

        def read(session: Session) -> list[tuple[str, date, int, datetime]]:
            rows = session.execute(
                select(
                    DeliveryRow.destination,
                    EditionRow.edition_date,
                    func.count(DeliveryRow.id),
                    func.max(DeliveryRow.sent_at),
                )
                .join(EditionRow, DeliveryRow.edition_id == EditionRow.id)
                .group_by(DeliveryRow.destination, EditionRow.edition_date)
                .order_by(DeliveryRow.destination, EditionRow.edition_date.desc())
            )
            latest: dict[str, tuple[str, date, int, datetime]] = {}
            for destination, day, parts, at in rows:
                latest.setdefault(destination, (destination, day, int(parts), at))
            return list(latest.values())

        return await self._run(read)

    async def subscription_records(self) -> list[SubscriptionRecord]:
        """Return every subscription with who created it and when, by platform and channel."""

        def read(session: Session) -> list[SubscriptionRecord]:
            rows = session.scalars(
                select(SubscriptionRow).order_by(
                    SubscriptionRow.platform, SubscriptionRow.channel, SubscriptionRow.id
                )
            )
            return [_record_of(row) for row in rows]

        return await self._run(read)

    async def update_subscription(self, subscription: Subscription, at: datetime) -> bool:
        """Set the workspace, schedule and level of a channel's subscription; False if none.

        Unlike `subscribe`, a paused subscription stays paused (only `resume_subscription`
        or `subscribe` resume it), and who created it and when are kept. Channel ids are
        unique per platform, so the row is found by (platform, channel) and its workspace
        may change.
        """

        def write(session: Session) -> bool:
            row = session.scalars(
                select(SubscriptionRow)
                .where(
                    SubscriptionRow.platform == subscription.platform,
                    SubscriptionRow.channel == subscription.channel,
                )
                .order_by(SubscriptionRow.id)
                .limit(1)
            ).first()
            if row is None:
                return False
            row.workspace = subscription.workspace
            row.weekday = subscription.weekday
            row.at_time = subscription.at_time
            row.timezone = subscription.timezone
            row.difficulty = subscription.difficulty.value if subscription.difficulty else None
            row.updated_at = at
            return True

        return await self._run(write, writes=True)

    async def resume_subscription(self, platform: str, channel: str, at: datetime) -> bool:
        """Make a paused subscription active again and clear its reason; True if it was paused."""

        def write(session: Session) -> bool:
            result = session.execute(
                update(SubscriptionRow)
                .where(
                    SubscriptionRow.platform == platform,
                    SubscriptionRow.channel == channel,
                    SubscriptionRow.active.is_(False),
                )
                .values(active=True, paused_reason="", paused_at=None, updated_at=at)
                .execution_options(synchronize_session=False)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

        return await self._run(write)

    # -- delivery jobs (the outbox) and job locks -------------------------------------------

    async def enqueue_delivery(
        self,
        destination: str,
        edition_id: int,
        difficulty: Difficulty | None,
        due_at: datetime,
        at: datetime,
    ) -> bool:
        """Add a pending delivery; False when (destination, edition) has one already.

        An ``INSERT ... ON CONFLICT DO NOTHING``: two instances planning at once add one job.
        """
        values = {
            "destination": destination,
            "edition_id": edition_id,
            "difficulty": difficulty.value if difficulty else None,
            "state": "pending",
            "due_at": due_at,
            "attempts": 0,
            "claimed_by": "",
            "lease_until": None,
            "reason": "",
            "created_at": at,
            "finished_at": None,
        }

        def write(session: Session) -> bool:
            return self._insert_if_absent(
                session, DeliveryJobRow, values, ["destination", "edition_id"]
            )

        return await self._run(write)

    async def claim_delivery(
        self,
        worker: str,
        now: datetime,
        lease: timedelta,
        platforms: Sequence[str] | None = None,
    ) -> DeliveryJob | None:
        """Claim the oldest due delivery: pending and due, or claimed with its lease run out.

        With ``platforms``, only deliveries to those platforms are claimed (an instance that
        runs Slack alone leaves Discord's to the instances that run Discord).

        The claim sets ``claimed_by``, ``lease_until = now + lease`` and adds an attempt;
        ``None`` when nothing is due. On PostgreSQL the row is read ``FOR UPDATE SKIP
        LOCKED``, so instances pass over each other's rows instead of waiting; on SQLite the
        transaction holds the write lock. On both, the claim is a compare-and-set on the row
        as read, so no two workers ever hold one job.
        """

        def write(session: Session) -> DeliveryJob | None:
            claimable = ((DeliveryJobRow.state == "pending") & (DeliveryJobRow.due_at <= now)) | (
                (DeliveryJobRow.state == "claimed") & (DeliveryJobRow.lease_until < now)
            )
            if platforms is not None:
                claimable = claimable & or_(
                    false(),
                    *(DeliveryJobRow.destination.startswith(f"{p}:") for p in platforms),
                )
            query = (
                select(DeliveryJobRow)
                .where(claimable)
                .order_by(DeliveryJobRow.due_at, DeliveryJobRow.id)
                .limit(1)
            )
            if self._dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)
            row = session.scalars(query).first()
            if row is None:
                return None
            # Compare-and-set: the row is still claimable and nobody claimed it since we read
            # it (each claim adds an attempt), or no row changes and we claim nothing.
            claimed = session.execute(
                update(DeliveryJobRow)
                .where(
                    DeliveryJobRow.id == row.id,
                    DeliveryJobRow.attempts == row.attempts,
                    claimable,
                )
                .values(
                    state="claimed",
                    claimed_by=worker,
                    lease_until=now + lease,
                    attempts=row.attempts + 1,
                )
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return None
            session.expire(row)
            return _job_of(session.get_one(DeliveryJobRow, row.id))

        return await self._run(write, writes=True)

    async def _change_claim(self, job_id: int, worker: str, **values: Any) -> bool:
        def write(session: Session) -> bool:
            result = session.execute(
                update(DeliveryJobRow)
                .where(
                    DeliveryJobRow.id == job_id,
                    DeliveryJobRow.state == "claimed",
                    DeliveryJobRow.claimed_by == worker,
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

        return await self._run(write)

    async def renew_claim(self, job_id: int, worker: str, until: datetime) -> bool:
        """Extend a claim ``worker`` still holds; False when it lost it."""
        return await self._change_claim(job_id, worker, lease_until=until)

    async def finish_delivery(
        self, job_id: int, worker: str, state: str, reason: str, at: datetime
    ) -> bool:
        """Record how a claimed delivery ended: ``done``, ``failed`` or ``skipped``."""
        if state not in ("done", "failed", "skipped"):
            raise ValueError(f"a delivery ends done, failed or skipped, not {state!r}")
        return await self._change_claim(
            job_id, worker, state=state, reason=reason, finished_at=at, lease_until=None
        )

    async def retry_delivery(
        self, job_id: int, worker: str, reason: str, not_before: datetime
    ) -> bool:
        """Put a claimed delivery back, due again at ``not_before``."""
        return await self._change_claim(
            job_id,
            worker,
            state="pending",
            reason=reason,
            due_at=not_before,
            claimed_by="",
            lease_until=None,
        )

    async def delivery_jobs(
        self, states: Sequence[str] | None = None, limit: int = 200
    ) -> list[DeliveryJob]:
        """Return delivery jobs (in some states), newest first."""

        def read(session: Session) -> list[DeliveryJob]:
            query = select(DeliveryJobRow).order_by(DeliveryJobRow.id.desc()).limit(limit)
            if states is not None:
                query = query.where(DeliveryJobRow.state.in_(list(states)))
            return [_job_of(row) for row in session.scalars(query)]

        return await self._run(read)

    async def count_delivery_jobs(self, states: Sequence[str]) -> int:
        """Return how many delivery jobs are in ``states`` (for health and metrics)."""
        return await self._run(
            lambda session: int(
                session.scalar(
                    select(func.count(DeliveryJobRow.id)).where(
                        DeliveryJobRow.state.in_(list(states))
                    )
                )
                or 0
            )
        )

    async def pause_subscription(
        self, platform: str, channel: str, reason: str, at: datetime
    ) -> SubscriptionRecord | None:
        """Pause a channel's subscription with the reason; ``subscribe`` resumes it.

        Returns the subscription as paused when this call paused it, and None when there is
        none or it was paused already: of several workers that meet the same dead channel
        (on one PostgreSQL), one is told it paused it, so admins get one notice. Channel ids
        are unique per platform, so the workspace is not needed.
        """

        def write(session: Session) -> SubscriptionRecord | None:
            row = session.scalars(
                select(SubscriptionRow)
                .where(SubscriptionRow.platform == platform, SubscriptionRow.channel == channel)
                .with_for_update()
            ).first()
            if row is None or not row.active:
                return None
            row.active = False
            row.paused_reason = reason[:1000]
            row.paused_at = at
            row.updated_at = at
            session.flush()
            return _record_of(row)

        return await self._run(write, writes=True)

    async def subscriptions_since(self) -> list[tuple[Subscription, datetime]]:
        """Return each subscription (by channel) with the time it was first created.

        Subscribing again (to change the time or resume a paused one) keeps that time.
        """

        def read(session: Session) -> list[tuple[Subscription, datetime]]:
            rows = session.scalars(select(SubscriptionRow).order_by(SubscriptionRow.channel))
            return [(_subscription_of(row), row.created_at) for row in rows]

        return await self._run(read)

    @asynccontextmanager
    async def job_lock(self, name: str) -> AsyncIterator[bool]:
        """Hold the lock ``name`` while inside; yield whether it was got (it never waits).

        PostgreSQL: a session advisory lock (`advisory_key` of the name) taken with
        ``pg_try_advisory_lock`` on a connection of its own, kept open and idle for the
        block, unlocked on exit and then closed rather than pooled. If the process dies, the
        server ends the session and drops the lock. (If the connection itself is lost
        inside the block, so is the lock; the jobs it guards are idempotent.)

        SQLite: a lock in this process, per database file and name. That is enough for the
        one instance SQLite serves; several instances need PostgreSQL.
        """
        if self._dialect != "postgresql":
            lock = _process_lock(self._engine, name)
            if not lock.acquire(blocking=False):
                yield False
                return
            try:
                yield True
            finally:
                lock.release()
            return

        key = advisory_key(name)

        def acquire() -> tuple[Connection, bool]:
            connection = self._engine.connect()
            try:
                got = connection.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": key}
                ).scalar()
                connection.commit()  # idle, not "idle in transaction", while the lock is held
            except BaseException:
                _discard(connection)
                raise
            return connection, bool(got)

        def release(connection: Connection, got: bool) -> None:
            try:
                if got:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            finally:
                _discard(connection)

        acquiring = asyncio.ensure_future(asyncio.to_thread(acquire))
        try:
            connection, got = await asyncio.shield(acquiring)
        except asyncio.CancelledError:
            # The thread goes on and may get the lock: its connection is closed when it does.
            acquiring.add_done_callback(_discard_acquired)
            raise
        try:
            yield got
        finally:
            # The thread finishes even if we are cancelled while awaiting it.
            await asyncio.to_thread(release, connection, got)


_PROCESS_LOCKS: dict[tuple[str, str], threading.Lock] = {}
_PROCESS_LOCKS_GUARD = threading.Lock()


def _process_lock(engine: Engine, name: str) -> threading.Lock:
    """Return this process's lock for job ``name`` on ``engine``'s SQLite database."""
    database = engine.url.database or ""
    if database not in ("", ":memory:"):
        database = os.path.realpath(database)
    with _PROCESS_LOCKS_GUARD:
        return _PROCESS_LOCKS.setdefault((database, name), threading.Lock())


def _discard(connection: Connection) -> None:
    """Close a job lock's connection for good, not back to the pool.

    The server ends its session, and with it any advisory lock the session still held.
    """
    with contextlib.suppress(Exception):
        connection.invalidate()
    with contextlib.suppress(Exception):
        connection.close()


def _discard_acquired(acquiring: asyncio.Future[tuple[Connection, bool]]) -> None:
    if not acquiring.cancelled() and acquiring.exception() is None:
        _discard(acquiring.result()[0])


def _lost_a_race(exc: IntegrityError | OperationalError) -> bool:
    """Whether a failed transaction lost a race to another instance, so a rerun can succeed.

    On PostgreSQL: a duplicate key, a deadlock or a serialization failure (not, say, a
    missing foreign key). SQLite's driver gives no SQL state: any integrity error.
    """
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate is None:
        return isinstance(exc, IntegrityError)
    return sqlstate in RACE_SQLSTATES


def advisory_key(name: str) -> int:
    """Return the PostgreSQL advisory lock key of a job lock: a stable 63-bit hash of its name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") >> 1


def _subscription_of(row: SubscriptionRow) -> Subscription:
    return Subscription(
        platform=row.platform,
        workspace=row.workspace,
        channel=row.channel,
        weekday=row.weekday,
        at_time=row.at_time,
        timezone=row.timezone,
        difficulty=Difficulty(row.difficulty) if row.difficulty else None,
        active=row.active,
        paused_reason=row.paused_reason,
    )


def _record_of(row: SubscriptionRow) -> SubscriptionRecord:
    return SubscriptionRecord(
        _subscription_of(row), row.created_by, row.created_at, row.updated_at, row.paused_at
    )


def _job_of(row: DeliveryJobRow) -> DeliveryJob:
    return DeliveryJob(
        id=row.id,
        destination=row.destination,
        edition_id=row.edition_id,
        difficulty=Difficulty(row.difficulty) if row.difficulty else None,
        state=row.state,
        due_at=row.due_at,
        attempts=row.attempts,
        claimed_by=row.claimed_by,
        lease_until=row.lease_until,
        reason=row.reason,
    )


def _like_literal(text: str) -> str:
    """Escape LIKE's wildcards: a user's % and _ are text (``!`` is the escape character)."""
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")


def _summary_of(row: SummaryRow | EditionEntryRow) -> ItemSummary:
    return ItemSummary(
        why=row.why,
        difficulty=Difficulty(row.difficulty),
        takeaways=tuple(str(t) for t in row.takeaways),
        model=row.model,
        prompt_version=row.prompt_version,
        offline=row.offline,
        note=row.note,
    )


def _edition_of(row: EditionRow) -> Edition:
    entries = tuple(
        EditionEntry(
            position=entry.position,
            item=_item_of(entry.item),
            summary=_summary_of(entry),
            score=entry.score,
            reason=entry.reason,
        )
        for entry in row.entries
    )
    return Edition(
        id=row.id,
        date=row.edition_date,
        title=row.title,
        intro=row.intro,
        offline=row.offline,
        entries=entries,
        created_at=row.created_at,
    )


def _is_older_version(sighting: Sighting, row: SightingRow) -> bool:
    return (
        sighting.arxiv_version is not None
        and row.arxiv_version is not None
        and sighting.arxiv_version < row.arxiv_version
    )
