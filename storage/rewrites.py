"""The store's summary rewrites: an editor's new summary, the old one kept, edits enqueued.

A rewrite is one transaction: the replaced summary goes to ``summary_rewrites`` (who, when,
the note, the old text), the edition entry takes the new one, and every destination that
already shows the item gets an edit job (``edit_jobs``), so no crash can leave a rewrite
without its edits, nor edits without their rewrite.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.domain import ItemSummary, JobState, RewriteRecord, SummaryRevision
from storage.base import StoreBase
from storage.models import (
    DeliveryRow,
    EditionEntryRow,
    EditJobRow,
    ItemRow,
    SummaryRewriteRow,
)
from storage.rows import revision_of


class RewriteNotFoundError(LookupError):
    """The edition has no entry at that position (rebuilt or deleted since it was read)."""


class RewritesPart(StoreBase):
    """Rewrites of edition entries' summaries, their history, and the edits they enqueue."""

    async def rewrite_entry(
        self,
        edition_id: int,
        position: int,
        summary: ItemSummary,
        by: str,
        note: str,
        at: datetime,
    ) -> RewriteRecord:
        """Replace one entry's summary, keep the old one, enqueue an edit per destination.

        Raises `RewriteNotFoundError` when the edition has no entry at ``position``.
        """

        def write(session: Session) -> RewriteRecord:
            query = select(EditionEntryRow).where(
                EditionEntryRow.edition_id == edition_id, EditionEntryRow.position == position
            )
            if self._dialect == "postgresql":
                query = query.with_for_update()  # two rewrites at once take turns
            entry = session.scalars(query).first()
            if entry is None:
                raise RewriteNotFoundError(f"edition {edition_id} has no item {position}")
            # Versions count across rebuilds: a delivered message's recorded version never
            # looks newer than a later rewrite.
            latest = session.scalar(
                select(func.max(SummaryRewriteRow.version)).where(
                    SummaryRewriteRow.edition_id == edition_id,
                    SummaryRewriteRow.position == position,
                )
            )
            version = int(latest or 0) + 1
            session.add(
                SummaryRewriteRow(
                    edition_id=edition_id,
                    item_id=entry.item_id,
                    position=position,
                    version=version,
                    rewritten_by=by,
                    rewritten_at=at,
                    note=note,
                    old_why=entry.why,
                    old_difficulty=entry.difficulty,
                    old_takeaways=list(entry.takeaways),
                    old_model=entry.model,
                    old_prompt_version=entry.prompt_version,
                    old_offline=entry.offline,
                    old_note=entry.note,
                )
            )
            entry.why, entry.difficulty = summary.why, summary.difficulty.value
            entry.takeaways = list(summary.takeaways)
            entry.model, entry.prompt_version = summary.model, summary.prompt_version
            entry.offline, entry.note, entry.rewritten_at = summary.offline, summary.note, at
            destinations = tuple(
                sorted(
                    session.scalars(
                        select(DeliveryRow.destination).where(
                            DeliveryRow.edition_id == edition_id, DeliveryRow.part == position
                        )
                    )
                )
            )
            for destination in destinations:
                values = {
                    "destination": destination,
                    "edition_id": edition_id,
                    "part": position,
                    "version": version,
                    "state": JobState.PENDING,
                    "due_at": at,
                    "attempts": 0,
                    "claimed_by": "",
                    "lease_until": None,
                    "reason": "",
                    "created_at": at,
                    "finished_at": None,
                }
                self._insert_if_absent(
                    session,
                    EditJobRow,
                    values,
                    ["destination", "edition_id", "part", "version"],
                )
            return RewriteRecord(version, destinations)

        return await self._run(write, writes=True)

    async def summary_history(self, edition_id: int, position: int) -> list[SummaryRevision]:
        """Return the summaries an entry had before each rewrite, newest first."""

        def read(session: Session) -> list[SummaryRevision]:
            rows = session.execute(
                select(SummaryRewriteRow, ItemRow.canonical_id)
                .join(ItemRow, SummaryRewriteRow.item_id == ItemRow.id)
                .where(
                    SummaryRewriteRow.edition_id == edition_id,
                    SummaryRewriteRow.position == position,
                )
                .order_by(SummaryRewriteRow.version.desc())
            )
            return [revision_of(row, canonical_id) for row, canonical_id in rows]

        return await self._run(read)
