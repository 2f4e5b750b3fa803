"""The delivery outbox and job locks: exactly once across workers and instances.

Concurrency is real here: several Store objects on one database, each in its own thread with
its own event loop (and, for job locks on PostgreSQL, a separate process that is killed).
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from bot.domain import (
    Difficulty,
    EditionEntry,
    IdentifiedSighting,
    ItemSummary,
    JobState,
    SourceLabel,
    Subscription,
)
from storage.db import create_engine_for
from storage.models import SubscriptionRow
from storage.store import Store, advisory_key
from tests.builders import PAPER_ID, paper
from tests.storage.conftest import DATABASES

pytestmark = pytest.mark.parametrize("database_url", DATABASES, indirect=True)
T0 = datetime(2026, 4, 13, 6, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)
T = TypeVar("T")


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


async def in_threads(
    count: int, database_url: str, work: Callable[[Store, int], Awaitable[T]]
) -> list[T]:
    """Run ``work(store, n)`` in ``count`` threads at once, each with its own loop and Store.

    The closest a test gets to separate instances: they share nothing but the database, and
    a barrier starts them together.
    """
    start = threading.Barrier(count, timeout=30)

    def thread(n: int) -> T:
        async def main() -> T:
            own = await Store.open(database_url, migrate=False)
            try:
                start.wait()
                return await work(own, n)
            finally:
                await own.aclose()

        return asyncio.run(main())

    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(
            await asyncio.gather(*(loop.run_in_executor(pool, thread, n) for n in range(count)))
        )


def claim_all(at: datetime) -> Callable[[Store, int], Awaitable[list[int]]]:
    """A worker that claims jobs (and keeps them) until none is due at ``at``."""

    async def work(store: Store, n: int) -> list[int]:
        got: list[int] = []
        while (job := await store.claim_delivery(f"w{n}", at, LEASE)) is not None:
            assert (job.state, job.claimed_by) == ("claimed", f"w{n}")
            got.append(job.id)
        return got

    return work


# -- enqueue ------------------------------------------------------------------------------


async def test_a_delivery_is_enqueued_once_and_claimed_once(store: Store) -> None:
    edition = await an_edition_id(store)
    assert await store.enqueue_delivery("slack:C1", edition, None, T0, T0)
    assert not await store.enqueue_delivery("slack:C1", edition, Difficulty.ADVANCED, T0, T0)
    assert await store.claim_delivery("w1", T0 - timedelta(seconds=1), LEASE) is None  # not due

    job = await store.claim_delivery("w1", T0, LEASE)
    assert job is not None
    assert (job.destination, job.state, job.claimed_by, job.attempts, job.difficulty) == (
        "slack:C1",
        "claimed",
        "w1",
        1,
        None,
    )
    assert job.lease_until == T0 + LEASE
    assert await store.claim_delivery("w2", T0, LEASE) is None
    assert not await store.finish_delivery(job.id, "w2", JobState.DONE, "", T0)  # not w2's
    assert await store.finish_delivery(job.id, "w1", JobState.DONE, "13 sent", T0)
    assert await store.claim_delivery("w2", T0 + timedelta(days=1), LEASE) is None
    (done,) = await store.delivery_jobs()
    assert (done.state, done.reason, done.lease_until) == ("done", "13 sent", None)
    assert not await store.finish_delivery(job.id, "w1", JobState.FAILED, "twice", T0)  # ended


async def test_instances_enqueuing_the_same_deliveries_at_once_add_each_once(
    store: Store, database_url: str
) -> None:
    edition = await an_edition_id(store)

    async def enqueue(on: Store, n: int) -> list[bool]:
        return [
            await on.enqueue_delivery(f"slack:C{k}", edition, Difficulty.ADVANCED, T0, T0)
            for k in range(25)
        ]

    results = await in_threads(4, database_url, enqueue)
    assert [sum(result[k] for result in results) for k in range(25)] == [1] * 25
    jobs = await store.delivery_jobs()
    assert sorted(job.destination for job in jobs) == sorted(f"slack:C{k}" for k in range(25))
    assert {(job.state, job.attempts, job.difficulty) for job in jobs} == {
        ("pending", 0, Difficulty.ADVANCED)
    }


# -- claims -------------------------------------------------------------------------------


async def test_the_oldest_due_job_is_claimed_first(store: Store) -> None:
    edition = await an_edition_id(store)
    await store.enqueue_delivery("slack:late", edition, None, T0 + timedelta(minutes=2), T0)
    await store.enqueue_delivery("slack:early", edition, None, T0 + timedelta(minutes=1), T0)
    first = await store.claim_delivery("w1", T0 + timedelta(minutes=3), LEASE)
    second = await store.claim_delivery("w1", T0 + timedelta(minutes=3), LEASE)
    assert first is not None
    assert second is not None
    assert (first.destination, second.destination) == ("slack:early", "slack:late")


async def test_an_instance_claims_only_deliveries_to_the_platforms_it_runs(
    store: Store,
) -> None:
    edition = await an_edition_id(store)
    await store.enqueue_delivery("discord:1", edition, None, T0, T0)
    await store.enqueue_delivery("slack:C1", edition, None, T0 + timedelta(minutes=1), T0)
    later = T0 + timedelta(minutes=2)
    assert await store.claim_delivery("slack-only", later, LEASE, ["console"]) is None
    job = await store.claim_delivery("slack-only", later, LEASE, ["slack"])
    assert job is not None
    assert job.destination == "slack:C1"  # the older Discord job waits for a Discord instance
    assert await store.claim_delivery("slack-only", later, LEASE, ["slack"]) is None
    assert await store.claim_delivery("none", later, LEASE, []) is None
    other = await store.claim_delivery("both", later, LEASE, ["discord", "slack"])
    assert other is not None
    assert other.destination == "discord:1"


async def test_workers_in_threads_claim_every_job_exactly_once(
    store: Store, database_url: str
) -> None:
    edition = await an_edition_id(store)
    for n in range(60):
        await store.enqueue_delivery(f"slack:C{n}", edition, None, T0, T0)

    claims = await in_threads(6, database_url, claim_all(T0))

    every = [job_id for claimed in claims for job_id in claimed]
    assert len(every) == len(set(every)) == 60
    owner = {job_id: f"w{n}" for n, claimed in enumerate(claims) for job_id in claimed}
    jobs = await store.delivery_jobs()
    assert {(job.state, job.attempts) for job in jobs} == {("claimed", 1)}
    assert all(job.claimed_by == owner[job.id] for job in jobs)


async def test_concurrent_workers_on_two_stores_finish_every_job_exactly_once(
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
            assert await on.finish_delivery(job.id, name, JobState.DONE, "", T0)

    try:
        await asyncio.gather(*(worker(f"w{n}", (store, other)[n % 2]) for n in range(6)))
    finally:
        await other.aclose()
    assert sorted(d for d, _ in claimed) == sorted(destinations)
    assert {(job.state, job.attempts) for job in await store.delivery_jobs()} == {("done", 1)}


async def test_a_crashed_workers_claim_expires_and_is_taken_over(store: Store) -> None:
    edition = await an_edition_id(store)
    await store.enqueue_delivery("discord:9", edition, None, T0, T0)
    first = await store.claim_delivery("crashed", T0, LEASE)
    assert first is not None
    assert await store.claim_delivery("w2", T0 + LEASE - timedelta(seconds=1), LEASE) is None
    second = await store.claim_delivery("w2", T0 + LEASE + timedelta(seconds=1), LEASE)
    assert second is not None
    assert (second.id, second.claimed_by, second.attempts) == (first.id, "w2", 2)
    assert not await store.finish_delivery(first.id, "crashed", JobState.DONE, "", T0)
    assert not await store.renew_claim(first.id, "crashed", T0 + 3 * LEASE)


async def test_expired_claims_are_taken_over_by_racing_workers_once_each(
    store: Store, database_url: str
) -> None:
    edition = await an_edition_id(store)
    for n in range(30):
        await store.enqueue_delivery(f"discord:{n}", edition, None, T0, T0)
    while await store.claim_delivery("crashed", T0, LEASE) is not None:
        pass

    claims = await in_threads(5, database_url, claim_all(T0 + LEASE + timedelta(seconds=1)))

    every = [job_id for claimed in claims for job_id in claimed]
    assert len(every) == len(set(every)) == 30
    jobs = await store.delivery_jobs()
    assert {(job.state, job.attempts) for job in jobs} == {("claimed", 2)}
    assert "crashed" not in {job.claimed_by for job in jobs}


async def test_a_renewed_claim_is_kept_and_a_lost_one_cannot_be_renewed(store: Store) -> None:
    edition = await an_edition_id(store)
    await store.enqueue_delivery("slack:C1", edition, None, T0, T0)
    job = await store.claim_delivery("w1", T0, LEASE)
    assert job is not None
    assert await store.renew_claim(job.id, "w1", T0 + 2 * LEASE)
    assert not await store.renew_claim(job.id, "w2", T0 + 9 * LEASE)
    assert await store.claim_delivery("w2", T0 + LEASE + timedelta(seconds=1), LEASE) is None

    taken = await store.claim_delivery("w2", T0 + 2 * LEASE + timedelta(seconds=1), LEASE)
    assert taken is not None
    assert taken.claimed_by == "w2"
    assert not await store.renew_claim(job.id, "w1", T0 + 9 * LEASE)
    assert not await store.retry_delivery(job.id, "w1", "lost", T0)
    assert await store.finish_delivery(
        job.id, "w2", JobState.FAILED, "Slack: channel_not_found", T0
    )
    assert not await store.renew_claim(job.id, "w2", T0 + 9 * LEASE)
    (failed,) = await store.delivery_jobs([JobState.FAILED])
    assert (failed.claimed_by, failed.reason) == ("w2", "Slack: channel_not_found")
    assert await store.delivery_jobs([JobState.PENDING, JobState.CLAIMED]) == []


async def test_a_retry_puts_the_job_back_until_its_time(store: Store) -> None:
    edition = await an_edition_id(store)
    await store.enqueue_delivery("slack:C1", edition, None, T0, T0)
    job = await store.claim_delivery("w1", T0, LEASE)
    assert job is not None
    later = T0 + timedelta(minutes=1)
    assert await store.retry_delivery(job.id, "w1", "Slack: ratelimited", later)
    (pending,) = await store.delivery_jobs([JobState.PENDING])
    assert (pending.due_at, pending.reason, pending.attempts, pending.claimed_by) == (
        later,
        "Slack: ratelimited",
        1,
        "",
    )
    assert await store.claim_delivery("w1", T0 + timedelta(seconds=30), LEASE) is None
    again = await store.claim_delivery("w2", later, LEASE)
    assert again is not None
    assert (again.attempts, again.claimed_by) == (2, "w2")


async def test_a_delivery_ends_only_done_failed_or_skipped(store: Store) -> None:
    with pytest.raises(ValueError, match="done, failed or skipped"):
        await store.finish_delivery(1, "w1", JobState.PENDING, "", T0)


async def test_delivery_jobs_are_listed_newest_first_and_by_state(store: Store) -> None:
    edition = await an_edition_id(store)
    for n in range(3):
        await store.enqueue_delivery(f"slack:C{n}", edition, None, T0, T0)
    job = await store.claim_delivery("w1", T0, LEASE)
    assert job is not None
    assert job.destination == "slack:C0"
    await store.finish_delivery(job.id, "w1", JobState.SKIPPED, "36 hours late", T0)
    assert [j.destination for j in await store.delivery_jobs()] == [
        "slack:C2",
        "slack:C1",
        "slack:C0",
    ]
    assert [j.destination for j in await store.delivery_jobs(limit=1)] == ["slack:C2"]
    assert [j.destination for j in await store.delivery_jobs([JobState.SKIPPED])] == ["slack:C0"]
    assert await store.delivery_jobs([]) == []


async def test_a_rebuilt_edition_keeps_its_jobs(store: Store) -> None:
    edition = await an_edition_id(store)
    await store.enqueue_delivery("slack:C1", edition, None, T0, T0)
    assert await an_edition_id(store) == edition  # the rebuild keeps the id jobs refer to
    assert [job.edition_id for job in await store.delivery_jobs()] == [edition]
    assert not await store.enqueue_delivery("slack:C1", edition, None, T0, T0)


# -- subscriptions -------------------------------------------------------------------------


def paused_at(database_url: str) -> datetime | None:
    engine = create_engine_for(database_url)
    try:
        with Session(engine) as session:
            return session.scalars(select(SubscriptionRow.paused_at)).one()
    finally:
        engine.dispose()


async def test_a_paused_subscription_says_why_and_subscribing_resumes_it(
    store: Store, database_url: str
) -> None:
    subscription = Subscription("discord", "G1", "9", 0, "09:00", "UTC", None)
    assert await store.subscribe(subscription, "U1", T0)
    later = T0 + timedelta(hours=1)
    assert await store.pause_subscription("discord", "9", "Discord: channel 9 was not found", later)
    assert not await store.pause_subscription("slack", "9", "no such channel on Slack", later)
    (paused,) = await store.subscriptions()
    assert not paused.active
    assert paused.paused_reason == "Discord: channel 9 was not found"
    assert paused_at(database_url) == later

    assert not await store.subscribe(subscription, "U1", T0 + timedelta(days=1))
    ((resumed, created),) = await store.subscriptions_since()
    assert resumed.active
    assert resumed.paused_reason == ""
    assert created == T0  # resubscribing is not a new subscription
    assert paused_at(database_url) is None


async def test_subscriptions_since_pairs_each_subscription_with_its_creation(
    store: Store,
) -> None:
    assert await store.subscriptions_since() == []
    for n in range(3):
        channel = f"C{n}"
        await store.subscribe(
            Subscription("slack", "T1", channel, n, "09:00", "UTC", Difficulty.ADVANCED),
            "U1",
            T0 + timedelta(days=n),
        )
    pairs = await store.subscriptions_since()
    assert [(s.channel, s.weekday, at) for s, at in pairs] == [
        (f"C{n}", n, T0 + timedelta(days=n)) for n in range(3)
    ]


# -- job locks -----------------------------------------------------------------------------


def test_advisory_keys_are_stable_63_bit_numbers(database_url: str) -> None:
    if database_url.startswith("postgresql"):
        pytest.skip("the same on every database")
    keys = {advisory_key(name) for name in ("ingest", "compose", "plan")}
    assert len(keys) == 3
    assert all(0 <= key < 2**63 for key in keys)
    # Pinned: instances of two releases running side by side must exclude each other.
    assert advisory_key("compose") == 7904746962083884607


async def test_a_job_lock_is_held_by_one_holder_at_a_time(store: Store, database_url: str) -> None:
    other = await Store.open(database_url)
    try:
        async with store.job_lock("compose") as mine:
            assert mine
            async with other.job_lock("compose") as theirs:
                assert not theirs
            async with store.job_lock("compose") as again:
                assert not again  # not re-entrant either
            async with other.job_lock("ingest") as unrelated:
                assert unrelated
        async with other.job_lock("compose") as after:
            assert after
    finally:
        await other.aclose()


async def test_a_job_lock_is_released_when_its_block_fails_or_is_cancelled(
    store: Store, database_url: str
) -> None:
    other = await Store.open(database_url)
    inside = asyncio.Event()

    async def hold() -> None:
        async with store.job_lock("ingest") as mine:
            assert mine
            inside.set()
            await asyncio.sleep(3600)

    async def fail() -> None:
        async with store.job_lock("ingest") as mine:
            assert mine
            raise RuntimeError("ingest broke")

    try:
        with pytest.raises(RuntimeError):
            await fail()
        async with other.job_lock("ingest") as after_failure:
            assert after_failure

        holder = asyncio.create_task(hold())
        await inside.wait()
        async with other.job_lock("ingest") as during:
            assert not during
        holder.cancel()
        with pytest.raises(asyncio.CancelledError):
            await holder
        async with other.job_lock("ingest") as after_cancel:
            assert after_cancel
    finally:
        await other.aclose()


async def test_job_locks_in_threads_let_exactly_one_in(store: Store, database_url: str) -> None:
    contenders = 6
    refused = threading.Semaphore(0)

    async def contend(on: Store, n: int) -> bool:
        async with on.job_lock("plan") as mine:
            if not mine:
                refused.release()
                return False
            # Hold the lock until every other contender has tried (and been refused).
            for _ in range(contenders - 1):
                assert await asyncio.to_thread(refused.acquire, True, 10)
            return True

    results = await in_threads(contenders, database_url, contend)
    assert sorted(results) == [False] * (contenders - 1) + [True]


@pytest.mark.postgres
async def test_a_job_lock_is_held_on_an_idle_connection(store: Store, database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("advisory locks are PostgreSQL's")
    engine = create_engine_for(database_url)
    try:
        async with store.job_lock("compose") as mine:
            assert mine
            with engine.connect() as connection:
                held = connection.execute(
                    text(
                        "SELECT a.state FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
                        "WHERE l.locktype = 'advisory' AND l.granted "
                        "AND a.datname = current_database()"
                    )
                ).all()
        # Not "idle in transaction": idle_in_transaction_session_timeout cannot end it.
        assert [state for (state,) in held] == ["idle"]
    finally:
        engine.dispose()


@pytest.mark.postgres
async def test_a_job_lock_dies_with_its_process(store: Store, database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("across processes only PostgreSQL holds the lock")
    script = (
        "import asyncio, sys\n"
        "from storage.store import Store\n"
        "async def main():\n"
        "    store = await Store.open(sys.argv[1], migrate=False)\n"
        "    async with store.job_lock('ingest') as mine:\n"
        "        print('held' if mine else 'busy', flush=True)\n"
        "        await asyncio.sleep(3600)\n"
        "asyncio.run(main())\n"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, database_url, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), timeout=30)
        assert line.strip() == b"held"
        async with store.job_lock("ingest") as mine:
            assert not mine
    finally:
        process.kill()  # SIGKILL: no exit handler runs, nothing is unlocked by us
        await process.wait()
    for _ in range(100):  # the server notices the closed socket almost at once
        async with store.job_lock("ingest") as mine:
            if mine:
                return
        await asyncio.sleep(0.05)
    pytest.fail("the dead process's lock was not released")


# -- races between instances elsewhere in the store ----------------------------------------


def new_paper(n: int, source: str) -> IdentifiedSighting:
    arxiv = f"2605.{n:05d}"
    sighting = paper(
        source, arxiv_id=arxiv, url=f"https://arxiv.org/abs/{arxiv}", data={f"by {source}": 1}
    )
    return replace(sighting, canonical_id=f"arxiv:{arxiv}")


async def test_two_instances_storing_the_same_new_item_at_once_both_succeed(
    store: Store, database_url: str
) -> None:
    other = await Store.open(database_url)
    try:
        for round_ in range(10):
            sighting = new_paper(round_, SourceLabel.HF)
            await asyncio.gather(
                store.upsert_sightings([sighting], T0), other.upsert_sightings([sighting], T0)
            )
    finally:
        await other.aclose()
    assert await store.count_items() == 10


async def test_instances_storing_overlapping_new_items_keep_every_sighting(
    store: Store, database_url: str
) -> None:
    sources = [SourceLabel.HF, SourceLabel.ARXIV, SourceLabel.MANUAL, SourceLabel.feed("blog")]

    async def ingest(on: Store, n: int) -> None:
        for round_ in range(4):
            batch = [new_paper(round_ * 1000 + k, sources[n]) for k in range(100)]
            # Opposite orders in alternate instances: the worst case for lock ordering.
            await on.upsert_sightings(batch if n % 2 else batch[::-1], T0)

    await in_threads(len(sources), database_url, ingest)

    assert await store.count_items() == 4 * 100
    for item in await store.recent_items(1000):
        # Every sighting is stored, and the item is merged from all of them: no instance's
        # merge overwrote another's with a view that lacked its sighting.
        assert sorted(item.sources) == sorted(sources), item.content.canonical_id
        assert {f"by {source}" for source in sources} <= set(item.content.data)


async def test_instances_recording_the_same_part_at_once_keep_one_record(
    store: Store, database_url: str
) -> None:
    edition = await an_edition_id(store)

    async def record(on: Store, n: int) -> None:
        for part in range(10):
            await on.record_sent("slack:C1", edition, part, f"{n}.{part}", f"{n}.0", T0)

    await in_threads(4, database_url, record)
    parts = await store.sent_parts("slack:C1", edition)
    assert sorted(parts) == list(range(10))
    assert all(message.split(".")[1] == str(part) for part, (message, _) in parts.items())


async def test_pending_jobs_are_counted_without_a_cap(store: Store) -> None:
    edition = await an_edition_id(store)
    for n in range(250):
        await store.enqueue_delivery(f"slack:C{n}", edition, None, T0, T0)
    assert await store.count_delivery_jobs([JobState.PENDING, JobState.CLAIMED]) == 250
    assert await store.count_delivery_jobs([JobState.DONE]) == 0
