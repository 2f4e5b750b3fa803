"""The store's history: past editions imported from files, and what the learned ranker reads.

An imported edition is written in one transaction with the items it creates, so a refused or
failed import leaves nothing behind. Its items are matched to stored ones by arXiv id, then
by link, then by normalised title; the rest are created from the file's own text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.domain import Item, SourceLabel
from bot.edition.history import (
    HistoryEdition,
    HistoryItem,
    ImportOutcome,
    ImportStatus,
    normalised_title,
    sighting_of,
)
from bot.ids import canonical_id
from storage.base import chunks
from storage.items import ItemsPart
from storage.models import EditionEntryRow, EditionRow, ItemRow, SightingRow
from storage.rows import item_of

IMPORT_MODEL = "import"
"""The model and prompt version an imported entry's summary is recorded under."""


class HistoryPart(ItemsPart):
    """Imported editions, and the items the learned ranker trains on."""

    async def import_edition(self, edition: HistoryEdition, at: datetime) -> ImportOutcome:
        """Store ``edition`` as an imported edition; never replace an edition already there."""
        return await self._run(lambda session: self._import(session, edition, at), writes=True)

    def _import(self, session: Session, edition: HistoryEdition, at: datetime) -> ImportOutcome:
        where = f"{edition.path}: the edition of {edition.date}"
        existing = session.scalars(
            select(EditionRow).where(EditionRow.edition_date == edition.date)
        ).first()
        if existing is not None:
            if existing.imported and existing.import_hash == edition.fingerprint:
                return ImportOutcome(ImportStatus.ALREADY, f"{where} is already imported")
            problem = "was imported from another file" if existing.imported else "was composed here"
            return ImportOutcome(ImportStatus.REFUSED, f"{where} {problem}; not replaced")

        titles: dict[str, ItemRow] | None = None
        rows: list[ItemRow | None] = []
        matched: Counter[str] = Counter()
        for item in edition.items:
            row, how = self._match(session, item)
            if row is None:
                if titles is None:  # read every title once, and only when a title is needed
                    titles = {
                        normalised_title(found.title): found
                        for found in session.scalars(select(ItemRow))
                    }
                row, how = titles.get(normalised_title(item.title)), "title"
            if row is not None:
                matched[how] += 1
            rows.append(row)

        missing = [
            sighting_of(item, edition.date)
            for item, row in zip(edition.items, rows, strict=True)
            if row is None
        ]
        if missing:
            self._upsert(session, missing, at)
            identities = [s.canonical_id for s in missing]
            created = {
                found.canonical_id: found
                for found in session.scalars(
                    select(ItemRow).where(ItemRow.canonical_id.in_(identities))
                )
            }
            # ``missing`` follows the file's order: each unmatched row takes the next one.
            pending = iter(missing)
            rows = [row if row is not None else created[next(pending).canonical_id] for row in rows]
            matched["created"] += len({s.canonical_id for s in missing})

        edition_row = EditionRow(
            edition_date=edition.date,
            title=edition.title,
            intro=edition.intro,
            offline=False,
            created_at=at,
            imported=True,
            import_hash=edition.fingerprint,
        )
        session.add(edition_row)
        seen: set[int] = set()
        for item, row in zip(edition.items, rows, strict=True):
            assert row is not None
            if row.id in seen:
                continue  # a file naming one item twice features it once
            seen.add(row.id)
            edition_row.entries.append(
                EditionEntryRow(
                    item_id=row.id,
                    position=len(seen),
                    why=item.why,
                    difficulty=item.difficulty.value,
                    takeaways=list(item.takeaways),
                    model=IMPORT_MODEL,
                    prompt_version=IMPORT_MODEL,
                    offline=False,
                    note="",
                    score=0.0,
                    reason="imported",
                )
            )
        session.flush()
        found = ", ".join(f"{n} by {how}" for how, n in sorted(matched.items()))
        return ImportOutcome(
            ImportStatus.IMPORTED,
            f"{where}: imported {len(seen)} items ({found})",
            dict(matched),
        )

    @staticmethod
    def _match(session: Session, item: HistoryItem) -> tuple[ItemRow | None, str]:
        """Find an item by its arXiv id, then by its link."""
        if item.arxiv_id:
            row = _by_canonical(session, f"arxiv:{item.arxiv_id}")
            if row is not None:
                return row, "arxiv"
        if item.url:
            try:
                identity = canonical_id(item.url)
            except ValueError:
                return None, ""
            row = _by_canonical(session, identity)
            if row is not None:
                return row, "url"
        return None, ""

    async def items_by_canonical_ids(self, canonical_ids: Sequence[str]) -> list[Item]:
        """Return the stored items among ``canonical_ids`` (in no particular order)."""

        def read(session: Session) -> list[Item]:
            found: list[Item] = []
            for chunk in chunks(list(canonical_ids)):
                query = (
                    select(ItemRow)
                    .where(ItemRow.canonical_id.in_(chunk))
                    .options(selectinload(ItemRow.sightings))
                )
                found.extend(item_of(row) for row in session.scalars(query))
            return found

        return await self._run(read)

    async def editor_pick_items(self) -> list[Item]:
        """Return every item an editor submitted."""
        picked = select(SightingRow.item_id).where(SightingRow.source == SourceLabel.MANUAL)
        return await self._items(select(ItemRow).where(ItemRow.id.in_(picked)))


def _by_canonical(session: Session, identity: str) -> ItemRow | None:
    return session.scalars(select(ItemRow).where(ItemRow.canonical_id == identity)).first()
