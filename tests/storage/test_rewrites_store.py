"""Summary rewrites in the store: history kept, entry replaced, one edit per delivered copy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import Difficulty, ItemSummary, JobState
from storage.store import Store
from tests.builders import PAPER_ID, an_edition
from tests.storage.conftest import DATABASES

pytestmark = pytest.mark.parametrize("database_url", DATABASES, indirect=True)
AT = datetime(2026, 4, 14, 9, 0, tzinfo=UTC)
NEW = ItemSummary(
    "A new angle. It reads better.", Difficulty.ADVANCED, ("x.", "y.", "z."), "m2", "v2", False
)


async def test_a_rewrite_keeps_the_old_summary_and_enqueues_one_edit_per_destination(
    store: Store,
) -> None:
    edition = await an_edition(store)
    entry = next(e for e in edition.entries if e.item.content.canonical_id == PAPER_ID)
    for destination in ("slack:C1", "discord:2"):
        await store.record_sent(destination, edition.id, entry.position, "m1", "t1", AT)
    await store.record_sent("slack:C9", edition.id, 0, "p", "p", AT)  # parent only

    record = await store.rewrite_entry(edition.id, entry.position, NEW, "U0ED", "shorter", AT)

    assert record.version == 1
    assert record.destinations == ("discord:2", "slack:C1")
    (revision,) = await store.summary_history(edition.id, entry.position)
    assert (revision.by, revision.at, revision.note, revision.version) == ("U0ED", AT, "shorter", 1)
    assert revision.old == entry.summary
    assert revision.canonical_id == PAPER_ID
    stored = await store.edition(edition_id=edition.id)
    assert stored is not None
    rewritten = next(e for e in stored.entries if e.position == entry.position)
    assert rewritten.summary == NEW
    assert rewritten.updated_at == AT
    jobs = await store.edit_jobs([JobState.PENDING])
    assert sorted((j.destination, j.part, j.version) for j in jobs) == [
        ("discord:2", entry.position, 1),
        ("slack:C1", entry.position, 1),
    ]

    again = await store.rewrite_entry(edition.id, entry.position, NEW, "U0ED", "", AT)
    assert again.version == 2
    assert [r.version for r in await store.summary_history(edition.id, entry.position)] == [2, 1]


async def test_an_edit_is_claimed_once_and_its_version_recorded(store: Store) -> None:
    edition = await an_edition(store)
    await store.record_sent("slack:C1", edition.id, 1, "m1", "t1", AT)
    await store.rewrite_entry(edition.id, 1, NEW, "cli", "", AT)
    lease = timedelta(minutes=5)
    job = await store.claim_edit("w1", AT, lease, ["slack"])
    assert job is not None
    assert await store.claim_edit("w2", AT, lease, ["slack"]) is None
    assert await store.claim_edit("w2", AT, lease, ["discord"]) is None
    assert await store.delivered_part("slack:C1", edition.id, 1) == ("m1", "t1", 0)
    await store.record_edit("slack:C1", edition.id, 1, job.version)
    await store.record_edit("slack:C1", edition.id, 1, 0)  # never goes back
    assert await store.delivered_part("slack:C1", edition.id, 1) == ("m1", "t1", 1)
    assert await store.finish_edit(job.id, "w1", JobState.DONE, "edited", AT)
    assert await store.claim_edit("w2", AT + lease * 2, lease) is None


async def test_rewriting_a_missing_entry_changes_nothing(store: Store) -> None:
    edition = await an_edition(store)
    with pytest.raises(LookupError):
        await store.rewrite_entry(edition.id, 99, NEW, "cli", "", AT)
    assert await store.summary_history(edition.id, 99) == []
