"""The store's items and what feeds them: sightings, sources' state and runs, citations, picks.

An item is stored once however many sources saw it; each source's sighting of it is kept, and
the item is re-merged from all of them (`bot.merge`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, selectinload

from bot.domain import (
    IdentifiedSighting,
    Item,
    ItemKind,
    Sighting,
    SourceRun,
    Submission,
    SubmissionStatus,
    UpsertCounts,
    WeekWindow,
)
from bot.ingest.merge import merge_sightings, sighting_fingerprint, source_date
from storage.base import StoreBase, chunks
from storage.models import ItemRow, SightingRow, SourceRunRow, SourceStateRow, SubmissionRow
from storage.rows import (
    item_of,
    sighting_of,
    source_run_of,
    submission_of,
    write_content,
    write_sighting,
)

UPSERT_ATTEMPTS = 3
"""Runs of one upsert when it loses a race to another instance (the first and two reruns)."""
RACE_SQLSTATES = frozenset({"23505", "40001", "40P01"})
"""PostgreSQL's unique violation, serialization failure and deadlock: a rerun can succeed."""


class ItemsPart(StoreBase):
    """Items and their sightings, sources' state and runs, citation counts, editors' picks."""

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
        for chunk in chunks(canonical_ids):
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
            write_sighting(sighting_row, sighting, sighting_fingerprint(sighting))
            row.sightings.append(sighting_row)
        write_content(row, merge_sightings(canonical_id, kind, list(by_source.values())))
        row.source_date = source_date(by_source.values(), seen_at, seen_at)
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
            write_sighting(sighting_row, sighting, fingerprint)
            sighting_row.last_seen = seen_at
        stored = [sighting_of(s) for s in row.sightings]
        write_content(row, merge_sightings(row.canonical_id, ItemKind(row.kind), stored))
        row.source_date = source_date(stored, row.first_seen, seen_at)
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
            return item_of(row) if row else None

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

    async def week_candidates(self, window: WeekWindow) -> list[Item]:
        """Return the items ``window`` makes candidates (bot.edition.weeks), oldest first."""
        seen = (ItemRow.first_seen >= window.seen_from, ItemRow.first_seen < window.seen_until)
        picked = select(SubmissionRow.canonical_id).where(
            SubmissionRow.status == SubmissionStatus.RESOLVED,
            SubmissionRow.canonical_id.is_not(None),
            SubmissionRow.submitted_at >= window.seen_from,
            SubmissionRow.submitted_at < window.seen_until,
        )
        query = (
            select(ItemRow)
            .where(
                or_(
                    ItemRow.source_date.between(window.first_day, window.last_day),
                    and_(*seen, ItemRow.source_date >= window.fresh_since),
                    ItemRow.canonical_id.in_(picked),
                )
            )
            .order_by(ItemRow.source_date, ItemRow.id)
        )
        return await self._items(query)

    async def _items(self, query: Any) -> list[Item]:
        def read(session: Session) -> list[Item]:
            rows = session.scalars(query.options(selectinload(ItemRow.sightings)))
            return [item_of(row) for row in rows]

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
            return [source_run_of(row) for row in rows]

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
            for chunk in chunks(list(checked)):
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
                status=SubmissionStatus.PENDING,
                reason="",
            )
            session.add(row)
            session.flush()
            return submission_of(row)

        return await self._run(write)

    async def pending_submissions(self) -> list[Submission]:
        """Return the editors' picks not yet resolved, oldest first."""

        def read(session: Session) -> list[Submission]:
            query = select(SubmissionRow).where(SubmissionRow.status == SubmissionStatus.PENDING)
            return [submission_of(row) for row in session.scalars(query.order_by(SubmissionRow.id))]

        return await self._run(read)

    async def resolve_submission(
        self, submission_id: int, canonical_id: str | None, reason: str, at: datetime
    ) -> None:
        """Mark a pick as resolved to ``canonical_id``, or as failed with ``reason``."""

        def write(session: Session) -> None:
            row = session.get(SubmissionRow, submission_id)
            if row is None:
                return
            row.status = SubmissionStatus.RESOLVED if canonical_id else SubmissionStatus.FAILED
            row.canonical_id = canonical_id
            row.reason = reason
            row.resolved_at = at

        await self._run(write)

    async def note_submission_problem(self, submission_id: int, reason: str) -> None:
        """Keep a pick waiting, with why its last attempt failed (a passing failure)."""

        def write(session: Session) -> None:
            row = session.get(SubmissionRow, submission_id)
            if row is not None and row.status == SubmissionStatus.PENDING:
                row.reason = reason

        await self._run(write)


def _lost_a_race(exc: IntegrityError | OperationalError) -> bool:
    """Whether a failed transaction lost a race to another instance, so a rerun can succeed.

    On PostgreSQL: a duplicate key, a deadlock or a serialization failure (not, say, a
    missing foreign key). SQLite's driver gives no SQL state: any integrity error.
    """
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate is None:
        return isinstance(exc, IntegrityError)
    return sqlstate in RACE_SQLSTATES


def _is_older_version(sighting: Sighting, row: SightingRow) -> bool:
    return (
        sighting.arxiv_version is not None
        and row.arxiv_version is not None
        and sighting.arxiv_version < row.arxiv_version
    )
