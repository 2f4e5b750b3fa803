"""The schedule: slots in each timezone, catch-up after downtime, the outbox worker."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.chat.console_chat import ConsoleChat
from bot.config import ScheduleSettings
from bot.delivery.notices import Noticeboard
from bot.delivery.schedule import Scheduler
from bot.delivery.slots import last_slot, next_slot, upcoming_jobs
from bot.domain import Difficulty, Subscription, SubscriptionRecord
from bot.edition.compose import compose_edition
from bot.edition.profile import load_profile
from bot.edition.render import Digest
from bot.edition.summarize import OfflineSummarizer
from storage.store import Store
from tests.builders import IN_WEEK, an_edition, seed_week
from tests.fakes.chat import FailingAfter
from tests.fakes.clock import FakeClock

MONDAY = datetime(2026, 4, 13, 7, tzinfo=UTC)  # the sample edition is composed at this time


def test_slots_follow_each_timezone_and_daylight_saving() -> None:
    now = datetime(2026, 4, 15, 12, tzinfo=UTC)  # a Wednesday
    # Monday 09:00 in Paris (UTC+2 in April) was 07:00 UTC.
    assert last_slot(0, "09:00", "Europe/Paris", now) == datetime(2026, 4, 13, 7, tzinfo=UTC)
    assert next_slot(0, "09:00", "Europe/Paris", now) == datetime(2026, 4, 20, 7, tzinfo=UTC)
    # Wednesday 14:00 in New York is still ahead: last week's counts.
    assert last_slot(2, "14:00", "America/New_York", now) == datetime(2026, 4, 8, 18, tzinfo=UTC)
    # Across the end of summer time in Europe (25 October 2026) the wall-clock hour holds.
    before = last_slot(0, "09:00", "Europe/Paris", datetime(2026, 10, 20, tzinfo=UTC))
    after = last_slot(0, "09:00", "Europe/Paris", datetime(2026, 10, 27, tzinfo=UTC))
    assert (before.hour, after.hour) == (7, 8)
    # Tokyo's Monday 08:00 is Sunday 23:00 UTC.
    assert last_slot(0, "08:00", "Asia/Tokyo", now).weekday() == 6


def test_upcoming_jobs_are_listed_soonest_first() -> None:
    now = datetime(2026, 4, 15, 12, tzinfo=UTC)
    subscription = Subscription("slack", "T1", "C1", 3, "10:00", "Europe/Paris", None)
    jobs = upcoming_jobs(ScheduleSettings(), [subscription], now - timedelta(hours=1), now)
    assert [job.name for job in jobs] == ["ingest", "deliver slack:C1", "compose"]
    assert jobs[0].at == now + timedelta(hours=5)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite:///{tmp_path / 'schedule.db'}")
    try:
        yield opened
    finally:
        await opened.aclose()


def scheduler_for(
    store: Store,
    clock: FakeClock,
    chat: ConsoleChat,
    composed: list[date] | None = None,
    *,
    on_pause: Callable[[SubscriptionRecord], Awaitable[object]] | None = None,
    **settings: Any,
) -> Scheduler:
    async def ingest() -> None:
        return None

    async def compose(day: date) -> None:
        (composed if composed is not None else []).append(day)

    return Scheduler(
        store,
        clock,
        # Unvalidated on purpose: tests shrink leases below what an operator may set.
        ScheduleSettings(stale_after_hours=24, retry_base_s=10, max_attempts=3).model_copy(
            update=settings
        ),
        {"slack": chat, "discord": chat},
        ingest=ingest,
        compose=compose,
        worker="test",
        on_pause=on_pause,
    )


async def subscribe(store: Store, channel: str, weekday: int, at: str, tz: str, when: datetime,
                    level: Difficulty | None = None) -> None:  # fmt: skip
    await store.subscribe(Subscription("slack", "T1", channel, weekday, at, tz, level), "U1", when)


async def drain(scheduler: Scheduler) -> int:
    runs = 0
    while await scheduler.deliver_next():
        runs += 1
    return runs


async def test_a_due_subscription_gets_the_edition_once(store: Store) -> None:
    await subscribe(store, "C1", 0, "10:00", "Europe/Paris", MONDAY - timedelta(days=3))
    edition = await an_edition(store)
    stream = io.StringIO()
    clock = FakeClock(MONDAY + timedelta(hours=2))  # 11:00 in Paris
    scheduler = scheduler_for(store, clock, ConsoleChat(stream))

    await scheduler.plan()
    await scheduler.plan()  # planning twice (or in two instances) enqueues once
    assert await drain(scheduler) == 1
    assert len(await store.sent_parts("slack:C1", edition.id)) == 1 + len(edition.entries)
    await scheduler.plan()
    assert await drain(scheduler) == 0


async def test_a_new_subscription_starts_with_the_next_edition(store: Store) -> None:
    edition = await an_edition(store)
    # Subscribed after Monday's 10:00 slot: this edition is not sent (no back editions).
    await subscribe(store, "C1", 0, "10:00", "Europe/Paris", MONDAY + timedelta(hours=5))
    scheduler = scheduler_for(
        store, FakeClock(MONDAY + timedelta(hours=6)), ConsoleChat(io.StringIO())
    )
    await scheduler.plan()
    assert await drain(scheduler) == 0
    assert await store.sent_parts("slack:C1", edition.id) == {}


async def test_a_stale_delivery_is_skipped_and_reported(store: Store) -> None:
    await subscribe(store, "C1", 0, "10:00", "Europe/Paris", MONDAY - timedelta(days=3))
    edition = await an_edition(store)
    clock = FakeClock(MONDAY + timedelta(hours=2))
    scheduler = scheduler_for(store, clock, ConsoleChat(io.StringIO()))
    await scheduler.plan()
    clock.advance(days=2)  # the bot was down for two days
    assert await drain(scheduler) == 1
    (job,) = await store.delivery_jobs()
    assert job.state == "skipped"
    assert "after its slot" in job.reason
    assert await store.sent_parts("slack:C1", edition.id) == {}


async def test_only_the_subscribed_level_goes_in_the_thread(store: Store) -> None:
    edition = await an_edition(store)
    level = edition.entries[0].summary.difficulty
    await subscribe(store, "C1", 0, "10:00", "UTC", MONDAY - timedelta(days=3), level)
    scheduler = scheduler_for(
        store, FakeClock(MONDAY + timedelta(hours=4)), ConsoleChat(io.StringIO())
    )
    await scheduler.plan()
    await drain(scheduler)
    parts = await store.sent_parts("slack:C1", edition.id)
    wanted = {e.position for e in edition.entries if e.summary.difficulty is level}
    assert set(parts) == {0} | wanted


async def test_a_permanent_failure_pauses_the_subscription_with_its_reason(store: Store) -> None:
    await subscribe(store, "C1", 0, "10:00", "UTC", MONDAY - timedelta(days=3))
    await subscribe(store, "C2", 0, "10:00", "UTC", MONDAY - timedelta(days=3))
    await an_edition(store)
    clock = FakeClock(MONDAY + timedelta(hours=4))
    broken = FailingAfter(io.StringIO(), limit=0, permanent=True)
    scheduler = scheduler_for(store, clock, broken)
    await scheduler.plan()
    assert await drain(scheduler) == 2
    subscriptions = await store.subscriptions()
    assert [s.active for s in subscriptions] == [False, False]
    assert all("channel_not_found" in s.paused_reason for s in subscriptions)
    assert scheduler.counters.deliveries_failed == 2


class ToldAndBroken(FailingAfter):
    """Fails every send for good, and keeps the notices it is asked to send."""

    def __init__(self) -> None:
        super().__init__(io.StringIO(), limit=0, permanent=True)
        self.notices: list[tuple[str, str]] = []

    async def send_direct(self, user: str, text: str) -> None:
        self.notices.append((f"user:{user}", text))

    async def send_notice(self, channel: str, text: str) -> None:
        self.notices.append((f"channel:{channel}", text))


async def test_a_pause_is_noticed_once_by_its_subscriber_and_the_admin_channel(
    store: Store,
) -> None:
    week_before = MONDAY - timedelta(days=3)
    await store.subscribe(
        Subscription("slack", "T1", "C1", 0, "10:00", "UTC", None), "U0ADMIN", week_before
    )
    await store.subscribe(
        Subscription("slack", "T1", "C2", 0, "10:00", "UTC", None), "cli", week_before
    )
    await an_edition(store)
    clock = FakeClock(MONDAY + timedelta(hours=4))
    broken = ToldAndBroken()
    board = Noticeboard({"slack": broken}, {"slack": "C0OPS"})
    scheduler = scheduler_for(store, clock, broken, on_pause=board.subscription_paused)
    await scheduler.plan()
    assert await drain(scheduler) == 2

    told = sorted((to, "slack:C1" in text, "slack:C2" in text) for to, text in broken.notices)
    # C1's creator hears of C1; the admin channel of both; nobody can be told of C2 directly
    # (the CLI made it).
    assert told == [
        ("channel:C0OPS", False, True),
        ("channel:C0OPS", True, False),
        ("user:U0ADMIN", True, False),
    ]
    text = broken.notices[0][1]
    assert "channel_not_found" in text
    assert "/digest-admin resume" in text


async def test_a_passing_failure_is_retried_with_backoff_then_delivered(store: Store) -> None:
    await subscribe(store, "C1", 0, "10:00", "UTC", MONDAY - timedelta(days=3))
    edition = await an_edition(store)
    clock = FakeClock(MONDAY + timedelta(hours=4))
    flaky = FailingAfter(io.StringIO(), limit=2)
    scheduler = scheduler_for(store, clock, flaky)
    await scheduler.plan()
    assert await drain(scheduler) == 1
    (job,) = await store.delivery_jobs()
    assert job.state == "pending"
    assert job.due_at == clock.now() + timedelta(seconds=10)
    assert await drain(scheduler) == 0  # not yet due again
    flaky.limit = 100
    clock.advance(seconds=11)
    assert await drain(scheduler) == 1
    assert len(await store.sent_parts("slack:C1", edition.id)) == 1 + len(edition.entries)
    (job,) = await store.delivery_jobs()
    assert job.state == "done"


async def test_an_edition_composed_late_still_reaches_the_slots_it_was_due_for(
    store: Store,
) -> None:
    # The bot was down over Monday 06:00 UTC (the compose slot) and composed at 10:00.
    late = FakeClock(MONDAY + timedelta(hours=3))
    await seed_week(store, IN_WEEK)
    profile = load_profile()
    composed = await compose_edition(
        store, late, OfflineSummarizer(profile), profile, edition_date=MONDAY.date()
    )
    assert composed.edition is not None
    before = MONDAY - timedelta(days=3)
    await subscribe(store, "C0MON0830", 0, "08:30", "UTC", before)  # after the compose slot
    await subscribe(store, "C0SUN2000", 6, "20:00", "UTC", before)  # before it: next week
    scheduler = scheduler_for(store, late, ConsoleChat(io.StringIO()))
    await scheduler.plan()
    assert await drain(scheduler) == 1
    assert await store.sent_parts("slack:C0MON0830", composed.edition.id)
    assert await store.sent_parts("slack:C0SUN2000", composed.edition.id) == {}


async def test_a_missed_ingest_runs_before_the_missed_compose_on_start(store: Store) -> None:
    order: list[str] = []

    async def ingest() -> None:
        order.append("ingest begins")
        await asyncio.sleep(0.3)  # fetching the week's news
        order.append("ingest ends")

    async def compose(day: date) -> None:
        order.append("compose")

    clock = FakeClock(datetime(2026, 4, 15, 12, tzinfo=UTC))  # never ingested; Monday missed
    scheduler = Scheduler(
        store, clock, ScheduleSettings(), {}, ingest=ingest, compose=compose, worker="test"
    )
    await scheduler.start()
    try:
        async with asyncio.timeout(10):
            while "compose" not in order:  # noqa: ASYNC110 -- APScheduler fires on its own
                await asyncio.sleep(0.05)
    finally:
        await scheduler.aclose()
    assert order == ["ingest begins", "ingest ends", "compose"]


async def test_a_missed_compose_runs_once_when_the_bot_is_back(store: Store) -> None:
    composed: list[date] = []
    clock = FakeClock(datetime(2026, 4, 15, 12, tzinfo=UTC))  # Wednesday; Monday's was missed
    scheduler = scheduler_for(store, clock, ConsoleChat(io.StringIO()), composed)
    await scheduler.plan()
    assert composed == [date(2026, 4, 13)]


class Gate(ConsoleChat):
    """Holds every parent send until released, counting how many wait at once."""

    def __init__(self) -> None:
        super().__init__(io.StringIO())
        self.waiting = 0
        self.most = 0
        self.open = asyncio.Event()
        self.arrived = asyncio.Event()

    async def send_parent(self, channel: str, digest: Digest, key: str) -> str:
        self.waiting += 1
        self.most = max(self.most, self.waiting)
        self.arrived.set()
        await self.open.wait()
        self.waiting -= 1
        return await super().send_parent(channel, digest, key)


async def test_deliveries_run_side_by_side_up_to_the_worker_count(store: Store) -> None:
    for n in range(7):
        await subscribe(store, f"C{n}", 0, "10:00", "UTC", MONDAY - timedelta(days=3))
    edition = await an_edition(store)
    gate = Gate()
    scheduler = scheduler_for(store, FakeClock(MONDAY + timedelta(hours=4)), gate, workers=3)
    delivering = asyncio.create_task(scheduler.deliver_due())
    for _ in range(200):
        if gate.waiting == 3:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    assert (gate.waiting, gate.most) == (3, 3)  # three at once, never a fourth
    gate.open.set()
    counters = await delivering
    assert counters.deliveries_done == 7
    for n in range(7):
        assert len(await store.sent_parts(f"slack:C{n}", edition.id)) == 1 + len(edition.entries)


async def test_a_worker_that_lost_its_claim_stops_after_the_part_in_flight(
    store: Store,
) -> None:
    await subscribe(store, "C1", 0, "10:00", "UTC", MONDAY - timedelta(days=3))
    edition = await an_edition(store)
    gate = Gate()
    clock = FakeClock(MONDAY + timedelta(hours=4))
    scheduler = scheduler_for(store, clock, gate, lease_s=0.3)
    await scheduler.plan()
    running = asyncio.create_task(scheduler.deliver_next())
    await asyncio.wait_for(gate.arrived.wait(), timeout=5)
    # Meanwhile the lease ran out and another instance took the job over.
    clock.advance(seconds=1)
    other = await store.claim_delivery("other", clock.now(), timedelta(minutes=5))
    assert other is not None
    await asyncio.sleep(0.2)  # the renewal finds the claim gone
    gate.open.set()
    await running
    # The parent in flight is recorded; no item followed it from the worker that lost.
    assert sorted(await store.sent_parts("slack:C1", edition.id)) == [0]
    (job,) = await store.delivery_jobs()
    assert (job.state, job.claimed_by) == ("claimed", "other")
