"""Source dates on SQLite and PostgreSQL: kept per item, the week's candidates, the backfill."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from bot.domain import IdentifiedSighting, ItemKind, Sighting, SourceLabel
from bot.edition.weeks import edition_week
from storage.db import upgrade
from storage.models import ItemRow
from storage.store import Store
from tests.builders import PAPER_ID, paper
from tests.storage.conftest import DATABASES

pytestmark = pytest.mark.parametrize("database_url", DATABASES, indirect=True)

MONDAY = date(2026, 4, 13)
LATER = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
"""Long after the week: when a backfill stores it."""


def feed_post(n: int, published: datetime | None) -> IdentifiedSighting:
    url = f"https://blog.example/posts/{n}"
    sighting = Sighting(SourceLabel.feed("blog"), url, f"Post {n}", published_at=published)
    return IdentifiedSighting(url, ItemKind.POST, sighting)


async def test_the_source_date_is_hfs_listing_day_else_the_earliest_credible_date(
    store: Store,
) -> None:
    listed = {"hf_published_at": "2026-04-08T00:00:00+00:00"}
    # HF repeats arXiv's date as published_at; the day HF listed the paper is what counts.
    await store.upsert_sightings(
        [paper(SourceLabel.HF, published_at=datetime(2026, 3, 11, tzinfo=UTC), data=listed)],
        LATER,
    )
    item = await store.get_item(PAPER_ID)
    assert item is not None
    assert item.source_date == date(2026, 4, 8)
    # HF's listing day wins over an earlier date from another source (arXiv's first version
    # is often weeks before HF lists it); a date in the future is not credible either.
    await store.upsert_sightings(
        [
            paper(SourceLabel.feed("willison"), published_at=datetime(2026, 4, 7, tzinfo=UTC)),
            paper(SourceLabel.MANUAL, published_at=datetime(2030, 1, 1, tzinfo=UTC)),
        ],
        LATER,
    )
    item = await store.get_item(PAPER_ID)
    assert item is not None
    assert item.source_date == date(2026, 4, 8)
    # No date at all, or a 1970 placeholder: the day it was first seen.
    await store.upsert_sightings(
        [feed_post(1, None), feed_post(2, datetime(1970, 1, 1, tzinfo=UTC))], LATER
    )
    undated = await store.get_item("https://blog.example/posts/1")
    epoch = await store.get_item("https://blog.example/posts/2")
    assert undated is not None
    assert epoch is not None
    assert undated.source_date == epoch.source_date == LATER.date()


async def test_a_weeks_candidates_are_its_source_dated_items_late_arrivals_and_picks(
    store: Store,
) -> None:
    def at(day: int) -> datetime:
        return datetime(2026, 4, day, 12, tzinfo=UTC)

    # Stored long after: in the week by source date (Tuesday and the Monday itself)...
    await store.upsert_sightings([feed_post(1, at(7)), feed_post(2, at(13))], LATER)
    # ...out of it: the Monday before and the Tuesday after.
    await store.upsert_sightings([feed_post(3, at(6)), feed_post(4, at(14))], LATER)
    # First seen during the week: dated ten days earlier (a late arrival) or in 2012 (backlog).
    await store.upsert_sightings(
        [feed_post(5, at(3)), feed_post(6, datetime(2012, 5, 1, tzinfo=UTC))], at(9)
    )
    # An editor's pick of a 2021 paper, submitted that week.
    pick = await store.add_submission("https://arxiv.org/abs/2104.12255", "", "ed", at(10))
    await store.upsert_sightings(
        [
            IdentifiedSighting(
                "arxiv:2104.12255",
                ItemKind.PAPER,
                Sighting(
                    SourceLabel.MANUAL,
                    "https://arxiv.org/abs/2104.12255",
                    "An older paper",
                    published_at=datetime(2021, 4, 26, tzinfo=UTC),
                    arxiv_id="2104.12255",
                ),
            )
        ],
        at(10),
    )
    await store.resolve_submission(pick.id, "arxiv:2104.12255", "", at(10))

    found = await store.week_candidates(edition_week(MONDAY, 7, 14))
    assert sorted(i.content.canonical_id for i in found) == [
        "arxiv:2104.12255",
        "https://blog.example/posts/1",
        "https://blog.example/posts/2",
        "https://blog.example/posts/5",
    ]


def test_the_migration_dates_existing_items_from_their_sightings(engine: Engine) -> None:
    upgrade(engine, "0007")
    seen = datetime(2026, 4, 14, 6, tzinfo=UTC)
    with engine.begin() as connection:
        for item_id, canonical in ((1, "arxiv:2604.00001"), (2, "https://blog.example/x")):
            connection.execute(
                text(
                    "INSERT INTO items (id, canonical_id, kind, title, url, summary, authors,"
                    " data, content_hash, first_seen, last_seen)"
                    " VALUES (:id, :cid, 'paper', 'T', 'u', '', '[]', '{}', 'h', :at, :at)"
                ),
                {"id": item_id, "cid": canonical, "at": seen},
            )
        rows = [
            # HF listed it on the 8th (its published_at is arXiv's date); arXiv dated it the 2nd.
            (1, "api-hf", datetime(2026, 3, 1, tzinfo=UTC), '{"hf_published_at": "2026-04-08"}'),
            (1, "rss-blog", datetime(2026, 4, 9, tzinfo=UTC), "{}"),
            (2, "rss-blog", None, "{}"),
        ]
        for item_id, source, published, data in rows:
            connection.execute(
                text(
                    "INSERT INTO sightings (item_id, source, url, title, summary, authors,"
                    " published_at, links, data, fingerprint, first_seen, last_seen)"
                    " VALUES (:item, :source, 'u', 'T', '', '[]', :published, '[]', :data, 'f',"
                    " :at, :at)"
                ),
                {"item": item_id, "source": source, "published": published, "data": data,
                 "at": seen},
            )  # fmt: skip
    upgrade(engine)
    with Session(engine) as session:
        dated = session.execute(select(ItemRow.id, ItemRow.source_date))
        dates = {row.id: row.source_date for row in dated}
    assert dates == {1: date(2026, 4, 8), 2: date(2026, 4, 14)}
