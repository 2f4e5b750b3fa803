"""The delivery outbox and job locks: exactly once across workers and instances."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import Difficulty, EditionEntry, ItemSummary, SourceLabel, Subscription
from storage.store import Store
from tests.storage.conftest import DATABASES
from tests.storage.test_store import PAPER_ID, paper

pytestmark = pytest.mark.parametrize("database_url", DATABASES, indirect=True)
T0 = datetime(2026, 4, 13, 6, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


async def an_edition_id(store: Store, day_offset: int = 0) -> int:
    await store.upsert_sightings([paper(SourceLabel.HF)], T0)
    item = await store.get_item(PAPER_ID)
    assert item is not None
    summary = ItemSummary(
        "Why. It matters.", Difficulty.ACCESSIBLE, ("a.", "b.", "c."), "m", "v", True
    )
    day = T0.date() + timedelta(days=7 * day_offset)
    edition = await store.save_edition(day, "T", "I.", True, [EditionEntry(1, item, summary)], T0)
    return edition.id


async def test_a_delivery_is_enqueued_once_and_claimed_once(store: Store) -> None:
    edition = await an_edition_id(store)
    assert await store.enqueue_delivery("slack:C1", edition, None, T0, T0)
    assert not await store.enqueue_delivery("slack:C1", edition, Difficulty.ADVANCED, T0, T0)
    assert await store.claim_delivery("w1", T0 - timedelta(seconds=1), LEASE) is None  # not due

    job = await store.claim_delivery("w1", T0, LEASE)
    assert job is not None
    assert (job.destination, job.state, job.claimed_by, job.attempts) == (
        "slack:C1",
        "claimed",
        "w1",
        1,
    )
    assert await store.claim_delivery("w2", T0, LEASE) is None
    assert not await store.finish_delivery(job.id, "w2", "done", "", T0)  # not w2's
    assert await store.finish_delivery(job.id, "w1", "done", "13 sent", T0)
    assert await store.claim_delivery("w2", T0 + timedelta(days=1), LEASE) is None
    (done,) = await store.delivery_jobs()
    assert (done.state, done.reason) == ("done", "13 sent")


async def test_a_crashed_workers_claim_expires_and_is_taken_over(store: Store) -> None:
    edition = await an_edition_id(store)
    await store.enqueue_delivery("discord:9", edition, None, T0, T0)
    first = await store.claim_delivery("crashed", T0, LEASE)
    assert first is not None
    assert await store.claim_delivery("w2", T0 + LEASE - timedelta(seconds=1), LEASE) is None
    second = await store.claim_delivery("w2", T0 + LEASE + timedelta(seconds=1), LEASE)
    assert second is not None
    assert (second.id, second.claimed_by, second.attempts) == (first.id, "w2", 2)
    assert not await store.finish_delivery(first.id, "crashed", "done", "", T0)


async def test_a_retry_puts_the_job_back_until_its_time(store: Store) -> None:
    edition = await an_edition_id(store)
    await store.enqueue_delivery("slack:C1", edition, None, T0, T0)
    job = await store.claim_delivery("w1", T0, LEASE)
    assert job is not None
    later = T0 + timedelta(minutes=1)
    assert await store.retry_delivery(job.id, "w1", "Slack: ratelimited", later)
    assert await store.claim_delivery("w1", T0 + timedelta(seconds=30), LEASE) is None
    again = await store.claim_delivery("w1", later, LEASE)
    assert again is not None
    assert again.attempts == 2


async def test_concurrent_workers_on_two_stores_claim_every_job_exactly_once(
    store: Store, database_url: str
) -> None:
    destinations = [f"slack:C{n}" for n in range(40)]
    edition = await an_edition_id(store)
    for destination in destinations:
        await store.enqueue_delivery(destination, edition, None, T0, T0)
    other = await Store.open(database_url)
    claimed: list[tuple[str, str]] = []

    async def worker(name: str, on: Store) -> None:
        while (job := await on.claim_delivery(name, T0, LEASE)) is not None:
            claimed.append((job.destination, name))
            await on.finish_delivery(job.id, name, "done", "", T0)

    try:
        await asyncio.gather(*(worker(f"w{n}", (store, other)[n % 2]) for n in range(6)))
    finally:
        await other.aclose()
    assert sorted(d for d, _ in claimed) == sorted(destinations)


async def test_a_paused_subscription_says_why_and_subscribing_resumes_it(store: Store) -> None:
    subscription = Subscription("discord", "G1", "9", 0, "09:00", "UTC", None)
    await store.subscribe(subscription, "U1", T0)
    assert await store.pause_subscription("discord", "9", "Discord: channel 9 was not found", T0)
    (paused,) = await store.subscriptions()
    assert not paused.active
    assert paused.paused_reason == "Discord: channel 9 was not found"
    await store.subscribe(subscription, "U1", T0 + timedelta(days=1))
    ((resumed, created),) = await store.subscriptions_since()
    assert resumed.active
    assert created == T0


async def test_a_job_lock_is_held_by_one_holder_at_a_time(store: Store, database_url: str) -> None:
    other = await Store.open(database_url)
    try:
        async with store.job_lock("compose") as mine:
            assert mine
            contender = other if database_url.startswith("postgresql") else store
            async with contender.job_lock("compose") as theirs:
                assert not theirs
            async with contender.job_lock("ingest") as unrelated:
                assert unrelated
        async with other.job_lock("compose") as after:
            assert after
    finally:
        await other.aclose()


async def test_two_instances_storing_the_same_new_item_at_once_both_succeed(
    store: Store, database_url: str
) -> None:
    other = await Store.open(database_url)
    try:
        for round_ in range(10):
            arxiv = f"2604.{round_ + 10:05d}"
            sighting = replace(paper(SourceLabel.HF, arxiv_id=arxiv), canonical_id=f"arxiv:{arxiv}")
            await asyncio.gather(
                store.upsert_sightings([sighting], T0), other.upsert_sightings([sighting], T0)
            )
    finally:
        await other.aclose()
    assert await store.count_items() == 10
