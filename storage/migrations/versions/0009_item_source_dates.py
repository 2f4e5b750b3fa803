"""Items' source dates: the day a source dated an item decides which week it belongs to.

Existing items get the date their sightings give, as ingest now computes it: HF's listing day
(``hf_published_at``) when HF listed the item, else the earliest credible published date of
its other sightings; an item no source dated gets the day it was first seen. The rule is copied here
rather than imported so that this migration does tomorrow what it does today.

The column stays nullable: making it NOT NULL would rebuild ``items`` on SQLite, and with
foreign keys on, dropping the old table would cascade-delete every sighting and entry.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_EARLIEST = date(1991, 1, 1)
_BATCH = 500

_items = sa.table(
    "items",
    sa.column("id", sa.Integer()),
    sa.column("first_seen", sa.DateTime(timezone=True)),
    sa.column("last_seen", sa.DateTime(timezone=True)),
    sa.column("source_date", sa.Date()),
)
_sightings = sa.table(
    "sightings",
    sa.column("item_id", sa.Integer()),
    sa.column("source", sa.String()),
    sa.column("published_at", sa.DateTime(timezone=True)),
    sa.column("data", sa.JSON()),
)


def _day(value: object) -> date | None:
    if isinstance(value, str) and value:
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    # SQLite hands back naive datetimes; the store only ever wrote UTC.
    return (value.astimezone(UTC) if value.tzinfo else value).date()


def _source_date(
    sightings: Iterable[tuple[str, object, object]], first_seen: object, last_seen: object
) -> date:
    latest = (_day(last_seen) or date.max - timedelta(days=1)) + timedelta(days=1)
    dated: list[date] = []
    listed: list[date] = []
    for source, published_at, data in sightings:
        if source == "api-hf":
            day = _day(data.get("hf_published_at")) if isinstance(data, dict) else None
        else:
            day = _day(published_at)
        if day is not None and _EARLIEST <= day <= latest:
            (listed if source == "api-hf" else dated).append(day)
    fallback = _day(first_seen)
    assert fallback is not None, "every item has a first_seen"
    # HF's listing day wins over an earlier arXiv date (the week readers meet the paper).
    return min(listed or dated, default=fallback)


def upgrade() -> None:
    op.add_column("items", sa.Column("source_date", sa.Date(), nullable=True))
    op.create_index("ix_items_source_date", "items", ["source_date"])
    connection = op.get_bind()
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(_items.c.id, _items.c.first_seen, _items.c.last_seen)
            .where(_items.c.id > last_id)
            .order_by(_items.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        ids = [row.id for row in rows]
        by_item: dict[int, list[tuple[str, object, object]]] = {}
        for sighting in connection.execute(
            sa.select(
                _sightings.c.item_id,
                _sightings.c.source,
                _sightings.c.published_at,
                _sightings.c.data,
            ).where(_sightings.c.item_id.in_(ids))
        ):
            by_item.setdefault(sighting.item_id, []).append(
                (sighting.source, sighting.published_at, sighting.data)
            )
        for row in rows:
            day = _source_date(by_item.get(row.id, []), row.first_seen, row.last_seen)
            connection.execute(
                sa.update(_items).where(_items.c.id == row.id).values(source_date=day)
            )
        last_id = ids[-1]


def downgrade() -> None:
    op.drop_index("ix_items_source_date", table_name="items")
    op.drop_column("items", "source_date")
