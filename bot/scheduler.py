"""The always-on schedule: ingest, weekly compose, and each subscription's delivery.

APScheduler 3 (``AsyncIOScheduler`` in our one event loop) fires the jobs; every trigger gets
its timezone explicitly. APScheduler's memory is not trusted across restarts: what has been
done is read from the store, so a job missed while the bot was down runs once when it is
back (coalesced), never twice:

- compose: if the latest compose slot has no edition yet, compose it now;
- delivery: a subscription's latest slot (its day, time and timezone) enqueues the edition
  composed before that slot, once per (destination, edition); a new subscription starts with
  the next slot, not with back editions;
- a delivery found more than ``stale_after_hours`` after its slot is skipped and reported.

Deliveries are an outbox in the store: the worker claims due jobs (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, so several instances share the work and none sends twice), runs up
to ``workers`` of them at once with `bot.deliver.deliver` while renewing their leases, and
records each outcome. A permanent failure
(channel gone, permission missing) pauses that subscription with the reason; a passing one
is retried with backoff. Jobs that must run once across instances (ingest, compose,
planning) hold a database lock while they run and are idempotent anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.admin import WEEKDAYS
from bot.config import ScheduleSettings
from bot.deliver import ChatAdapter, DeliveryLog, Destination, deliver
from bot.domain import (
    DeliveryJob,
    Difficulty,
    Edition,
    SourceRun,
    Subscription,
    SubscriptionRecord,
)
from bot.ports import Clock

logger = logging.getLogger(__name__)


class SchedulerStore(DeliveryLog, Protocol):
    """What the schedule reads and writes."""

    async def subscriptions_since(self) -> list[tuple[Subscription, datetime]]:
        """Return each subscription with the time it was created."""
        ...

    async def edition(
        self, *, edition_id: int | None = None, edition_date: date | None = None
    ) -> Edition | None:
        """Return an edition by id, or the latest."""
        ...

    async def enqueue_delivery(
        self,
        destination: str,
        edition_id: int,
        difficulty: Difficulty | None,
        due_at: datetime,
        at: datetime,
    ) -> bool:
        """Add a pending delivery unless one exists for (destination, edition)."""
        ...

    async def claim_delivery(
        self,
        worker: str,
        now: datetime,
        lease: timedelta,
        platforms: Sequence[str] | None = None,
    ) -> DeliveryJob | None:
        """Claim the oldest due delivery (to one of ``platforms``) for ``worker``."""
        ...

    async def renew_claim(self, job_id: int, worker: str, until: datetime) -> bool:
        """Extend a claim still held by ``worker``."""
        ...

    async def finish_delivery(
        self, job_id: int, worker: str, state: str, reason: str, at: datetime
    ) -> bool:
        """Record how a claimed delivery ended (done, failed or skipped)."""
        ...

    async def retry_delivery(
        self, job_id: int, worker: str, reason: str, not_before: datetime
    ) -> bool:
        """Put a claimed delivery back, due again at ``not_before``."""
        ...

    async def pause_subscription(
        self, platform: str, channel: str, reason: str, at: datetime
    ) -> SubscriptionRecord | None:
        """Pause a channel's subscription, saying why; the record if this call paused it."""
        ...

    async def last_source_runs(self) -> list[SourceRun]:
        """Return each source's latest run."""
        ...

    async def last_compose(self) -> tuple[date, str, str, datetime] | None:
        """Return the latest compose attempt: (edition date, outcome, reason, when)."""
        ...

    def job_lock(self, name: str) -> AbstractAsyncContextManager[bool]:
        """Hold a database lock named ``name`` while inside; yields whether it was got."""
        ...


def worker_name() -> str:
    """Return this process's name in claims: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _at(text: str) -> time:
    hour, minute = text.split(":")
    return time(int(hour), int(minute))


def last_slot(weekday: int, at: str, timezone: str, now: datetime) -> datetime:
    """Return the latest weekly slot (weekday 0 = Monday, ``HH:MM`` in ``timezone``) <= now.

    The slot is computed in local time, so it stays at the same wall-clock hour across
    daylight saving changes; the result is in UTC.
    """
    zone = ZoneInfo(timezone)
    local_now = now.astimezone(zone)
    day = local_now.date() - timedelta(days=(local_now.weekday() - weekday) % 7)
    slot = datetime.combine(day, _at(at), tzinfo=zone)
    if slot > local_now:
        slot = datetime.combine(day - timedelta(days=7), _at(at), tzinfo=zone)
    return slot.astimezone(UTC)


def next_slot(weekday: int, at: str, timezone: str, now: datetime) -> datetime:
    """Return the next weekly slot strictly after ``now`` (UTC)."""
    previous = last_slot(weekday, at, timezone, now)
    zone = ZoneInfo(timezone)
    local = previous.astimezone(zone)
    following = datetime.combine(local.date() + timedelta(days=7), _at(at), tzinfo=zone)
    return following.astimezone(UTC)


def _cron(weekday: int, at: str, timezone: str) -> CronTrigger:
    moment = _at(at)
    return CronTrigger(
        day_of_week=WEEKDAYS[weekday],
        hour=moment.hour,
        minute=moment.minute,
        timezone=ZoneInfo(timezone),
    )


@dataclass(frozen=True, slots=True)
class UpcomingJob:
    """A job and when it runs next."""

    name: str
    at: datetime


def upcoming_jobs(
    settings: ScheduleSettings,
    subscriptions: Sequence[Subscription],
    last_ingest: datetime | None,
    now: datetime,
) -> list[UpcomingJob]:
    """Return when each job runs next, soonest first (for status and health)."""
    every = timedelta(hours=settings.ingest_every_hours)
    ingest = max(now, last_ingest + every) if last_ingest else now
    compose_day = WEEKDAYS.index(settings.compose_day)
    jobs = [
        UpcomingJob("ingest", ingest),
        UpcomingJob(
            "compose",
            next_slot(compose_day, settings.compose_time, settings.compose_timezone, now),
        ),
    ]
    jobs += [
        UpcomingJob(
            f"deliver {s.platform}:{s.channel}",
            next_slot(s.weekday, s.at_time, s.timezone, now),
        )
        for s in subscriptions
        if s.active
    ]
    return sorted(jobs, key=lambda job: job.at)


def filtered(edition: Edition, level: Difficulty | None) -> Edition:
    """Return the edition with only the items at ``level`` (all of them when ``None``)."""
    if level is None:
        return edition
    return replace(
        edition, entries=tuple(e for e in edition.entries if e.summary.difficulty is level)
    )


@dataclass(slots=True)
class Counters:
    """What this process did since it started (exported as metrics)."""

    deliveries_done: int = 0
    deliveries_failed: int = 0
    deliveries_skipped: int = 0
    deliveries_retried: int = 0
    messages_sent: int = 0
    messages_recovered: int = 0
    ingests: int = 0
    composes: int = 0


class Scheduler:
    """Runs the schedule and the delivery worker until `aclose`."""

    def __init__(
        self,
        store: SchedulerStore,
        clock: Clock,
        settings: ScheduleSettings,
        chats: Mapping[str, ChatAdapter],
        *,
        ingest: Callable[[], Awaitable[object]],
        compose: Callable[[date], Awaitable[object]],
        worker: str | None = None,
        on_pause: Callable[[SubscriptionRecord], Awaitable[object]] | None = None,
    ) -> None:
        self._store = store
        self._on_pause = on_pause
        self._clock = clock
        self._settings = settings
        self._chats = chats
        self._ingest = ingest
        self._compose = compose
        self.worker = worker or worker_name()
        self.counters = Counters()
        self._scheduler: AsyncIOScheduler | None = None
        self._worker_task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        # Cleared while the ingest missed during downtime runs: a missed compose waits for it.
        self._ingest_caught_up = asyncio.Event()
        self._ingest_caught_up.set()
        self._catch_up_task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._subscription_jobs: dict[str, str] = {}
        self._editions: dict[int, tuple[datetime, Edition]] = {}

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Add the jobs, catch up on what was missed, and start the delivery worker."""
        scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        settings = self._settings
        now = self._clock.now()
        first_ingest = await self._first_ingest()
        catch_up_ingest = first_ingest <= now
        if catch_up_ingest:
            # Ingest first, then compose what was missed: composing at once on a fresh or
            # long-stopped bot would make an edition without the week's news.
            first_ingest = now + timedelta(hours=settings.ingest_every_hours)
            self._ingest_caught_up.clear()
        scheduler.add_job(
            self.run_ingest,
            IntervalTrigger(hours=settings.ingest_every_hours, timezone=UTC),
            id="ingest",
            next_run_time=first_ingest,
        )
        scheduler.add_job(
            self.run_compose,
            _cron(
                WEEKDAYS.index(settings.compose_day),
                settings.compose_time,
                settings.compose_timezone,
            ),
            id="compose",
        )
        scheduler.add_job(
            self.plan,
            IntervalTrigger(seconds=settings.plan_every_s, timezone=UTC),
            id="plan",
            next_run_time=self._clock.now(),  # catch up at once
        )
        scheduler.start()
        self._scheduler = scheduler
        self._worker_task = asyncio.create_task(self._work(), name="delivery-worker")
        if catch_up_ingest:
            self._catch_up_task = asyncio.create_task(self._catch_up(), name="catch-up-ingest")

    async def _catch_up(self) -> None:
        """Run the ingest missed while stopped, then plan (which composes a missed edition)."""
        try:
            await self.run_ingest()
        except Exception:
            logger.exception("the catch-up ingest failed; composing with what is stored")
        finally:
            self._ingest_caught_up.set()
        await self.plan()

    async def aclose(self) -> None:
        """Stop firing jobs; let the send in flight finish and be recorded; then return."""
        self._stopping.set()
        self._wake.set()
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        if self._catch_up_task is not None and not self._catch_up_task.done():
            self._catch_up_task.cancel()  # an ingest holds no send; the next start redoes it
            await asyncio.gather(self._catch_up_task, return_exceptions=True)
        if self._worker_task is not None:
            await self._worker_task

    async def _first_ingest(self) -> datetime:
        runs = await self._store.last_source_runs()
        latest = max((run.finished_at for run in runs), default=None)
        every = timedelta(hours=self._settings.ingest_every_hours)
        now = self._clock.now()
        due = latest + every if latest is not None else now
        return max(due, now)

    def next_jobs(self) -> list[UpcomingJob]:
        """Return the jobs APScheduler will fire next, soonest first."""
        if self._scheduler is None:
            return []
        jobs = [
            UpcomingJob(job.name if job.id.startswith("deliver ") else job.id, job.next_run_time)
            for job in self._scheduler.get_jobs()
            if job.next_run_time is not None and job.id != "plan"
        ]
        return sorted(jobs, key=lambda job: job.at)

    # -- jobs --------------------------------------------------------------------------------

    async def run_ingest(self) -> None:
        """Ingest every source, once across instances."""
        async with self._store.job_lock("ingest") as mine:
            if not mine:
                logger.info("ingest is running in another instance")
                return
            await self._ingest()
            self.counters.ingests += 1

    def _compose_slot(self, moment: datetime | None = None) -> datetime:
        """Return the latest compose slot at or before ``moment`` (default: now).

        Given an edition's ``created_at``, that is the slot the edition was made for: a
        compose that ran late (the bot was down at its slot) makes an edition due at its slot
        all the same, so a subscription whose slot came between them gets it late (or, past
        ``stale_after_hours``, skipped and reported), not a week later.
        """
        settings = self._settings
        return last_slot(
            WEEKDAYS.index(settings.compose_day),
            settings.compose_time,
            settings.compose_timezone,
            moment or self._clock.now(),
        )

    async def run_compose(self, *, then_plan: bool = True) -> None:
        """Compose the edition of the latest compose slot (idempotent), once across instances."""
        slot = self._compose_slot()
        async with self._store.job_lock("compose") as mine:
            if not mine:
                logger.info("compose is running in another instance")
                return
            await self._compose(slot.astimezone(ZoneInfo(self._settings.compose_timezone)).date())
            self.counters.composes += 1
        if then_plan:
            await self.plan()

    async def _compose_if_missed(self) -> None:
        if not self._ingest_caught_up.is_set():
            return  # the catch-up ingest plans again when it is done
        slot = self._compose_slot()
        latest = await self._store.edition()
        attempt = await self._store.last_compose()
        if (latest is not None and latest.created_at >= slot) or (
            attempt is not None and attempt[3] >= slot
        ):
            return
        logger.warning("the compose due at %s did not run; composing now", slot)
        await self.run_compose(then_plan=False)

    async def plan(self, *, compose_missed: bool = True) -> None:
        """Catch up a missed compose, follow subscription changes, enqueue due deliveries."""
        try:
            if compose_missed:
                await self._compose_if_missed()
            subscriptions = await self._store.subscriptions_since()
            self._follow(subscriptions)
            async with self._store.job_lock("plan") as mine:
                latest = await self._store.edition() if mine else None
                if latest is not None:
                    for subscription, created in subscriptions:
                        await self._enqueue_due(subscription, created, latest)
        except Exception:
            logger.exception("planning deliveries failed; trying again at the next run")
        self._wake.set()

    def _follow(self, subscriptions: Sequence[tuple[Subscription, datetime]]) -> None:
        """Keep one cron job per active subscription, in its own timezone."""
        if self._scheduler is None:
            return
        wanted: dict[str, Subscription] = {
            f"deliver {s.platform}:{s.channel}": s for s, _ in subscriptions if s.active
        }
        for job_id in set(self._subscription_jobs) - set(wanted):
            self._scheduler.remove_job(job_id)
            del self._subscription_jobs[job_id]
        for job_id, s in wanted.items():
            shape = f"{s.weekday} {s.at_time} {s.timezone}"
            if self._subscription_jobs.get(job_id) == shape:
                continue
            self._scheduler.add_job(
                self.plan,
                _cron(s.weekday, s.at_time, s.timezone),
                id=job_id,
                name=job_id,
                replace_existing=True,
            )
            self._subscription_jobs[job_id] = shape

    async def _enqueue_due(
        self, subscription: Subscription, created: datetime, edition: Edition
    ) -> None:
        if not subscription.active:
            return
        now = self._clock.now()
        slot = last_slot(subscription.weekday, subscription.at_time, subscription.timezone, now)
        if slot <= created:
            return  # subscribed after this slot: start with the next edition
        if self._compose_slot(edition.created_at) > slot:
            return  # the edition was not due yet at this slot: it goes at the next one
        destination = f"{subscription.platform}:{subscription.channel}"
        new = await self._store.enqueue_delivery(
            destination, edition.id, subscription.difficulty, slot, now
        )
        if new:
            logger.info("edition %s due in %s since %s", edition.date, destination, slot)

    # -- the delivery worker -----------------------------------------------------------------

    async def _work(self, *, until_idle: bool = False) -> None:
        """Run one dispatcher per connected platform, side by side.

        Each platform is limited by its own rules (Slack per channel, Discord per bot), so
        each gets its own ``workers``: a thousand Slack channels never hold Discord's
        deliveries back, nor the reverse.
        """
        await asyncio.gather(
            *(self._dispatch(platform, until_idle=until_idle) for platform in sorted(self._chats))
        )

    async def _dispatch(self, platform: str, *, until_idle: bool) -> None:
        """Claim ``platform``'s due deliveries while fewer than ``workers`` run; one task each.

        One loop claims, so an idle process asks the store once per ``poll_s`` per platform,
        not once per worker. With ``until_idle`` it returns when nothing is due and nothing
        runs.
        """
        free = asyncio.Semaphore(self._settings.workers)
        running: set[asyncio.Task[None]] = set()

        def finished(task: asyncio.Task[None]) -> None:
            running.discard(task)
            free.release()
            self._wake.set()

        while not self._stopping.is_set():
            await free.acquire()
            job = None
            if not self._stopping.is_set():
                try:
                    job = await self._claim([platform])
                except Exception:
                    logger.exception("claiming a delivery failed; trying again")
            if job is not None:
                task = asyncio.create_task(self._handle(job), name=f"deliver {job.destination}")
                running.add(task)
                task.add_done_callback(finished)
                continue
            free.release()
            if self._stopping.is_set() or (until_idle and not running):
                break
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._settings.poll_s)
        # Shutting down: each delivery stops after its part in flight, recorded.
        await asyncio.gather(*running, return_exceptions=True)

    async def deliver_due(self) -> Counters:
        """Enqueue what is due now and deliver it all (``digestbot publish`` without ``--to``).

        Composing stays the schedule's (or ``digestbot compose``'s) job: this only posts.
        """
        await self.plan(compose_missed=False)
        await self._work(until_idle=True)
        return self.counters

    async def deliver_next(self) -> bool:
        """Claim one due delivery and run it; return False when none was due."""
        job = await self._claim(sorted(self._chats))
        if job is None:
            return False
        await self._handle(job)
        return True

    async def _claim(self, platforms: Sequence[str]) -> DeliveryJob | None:
        # Only what this instance can post: the others' deliveries wait for them.
        lease = timedelta(seconds=self._settings.lease_s)
        return await self._store.claim_delivery(self.worker, self._clock.now(), lease, platforms)

    async def _handle(self, job: DeliveryJob) -> None:
        """Run one claimed job, renewing its lease while it runs; never raises."""
        lost = asyncio.Event()
        renewer = asyncio.create_task(self._keep_claim(job, lost), name=f"lease {job.id}")
        try:
            now = self._clock.now()
            late = now - job.due_at
            if late > timedelta(hours=self._settings.stale_after_hours):
                await self._skip(job, late)
                return
            await self._run(job, stop=lambda: self._stopping.is_set() or lost.is_set())
        except Exception:
            logger.exception("delivery to %s failed unexpectedly", job.destination)
            with contextlib.suppress(Exception):
                await self._retry(job, "an unexpected error (see the log)")
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer

    async def _keep_claim(self, job: DeliveryJob, lost: asyncio.Event) -> None:
        """Renew the claim every third of the lease; say so if another worker took it."""
        lease = self._settings.lease_s
        while True:
            await asyncio.sleep(lease / 3)
            until = self._clock.now() + timedelta(seconds=lease)
            try:
                held = await self._store.renew_claim(job.id, self.worker, until)
            except Exception:
                logger.exception("renewing the claim on %s failed", job.destination)
                continue
            if not held:
                logger.warning("lost the claim on %s; stopping after this part", job.destination)
                lost.set()
                return

    async def _skip(self, job: DeliveryJob, late: timedelta) -> None:
        now = self._clock.now()
        hours = late.total_seconds() / 3600
        reason = f"skipped: {hours:.0f} h after its slot ({job.due_at:%Y-%m-%d %H:%M} UTC)"
        await self._store.finish_delivery(job.id, self.worker, "skipped", reason, now)
        self.counters.deliveries_skipped += 1
        logger.warning("delivery to %s %s", job.destination, reason)

    async def _edition(self, edition_id: int) -> Edition | None:
        """Return an edition, read once for all the destinations delivered in a burst."""
        now = self._clock.now()
        cached = self._editions.get(edition_id)
        if cached is not None and now - cached[0] < timedelta(seconds=self._settings.plan_every_s):
            return cached[1]
        edition = await self._store.edition(edition_id=edition_id)
        if edition is not None:
            self._editions = {edition_id: (now, edition)}
        return edition

    async def _run(self, job: DeliveryJob, *, stop: Callable[[], bool]) -> None:
        now = self._clock.now()
        destination = Destination.parse(job.destination)
        edition = await self._edition(job.edition_id)
        adapter = self._chats.get(destination.platform)
        if edition is None:
            await self._store.finish_delivery(
                job.id, self.worker, "failed", "the edition was deleted", now
            )
            return
        if adapter is None:
            await self._retry(job, f"{destination.platform} is not connected in this instance")
            return
        report = await deliver(
            filtered(edition, job.difficulty),
            destination,
            adapter,
            self._store,
            self._clock,
            stop=stop,
        )
        self.counters.messages_sent += report.sent
        self.counters.messages_recovered += report.recovered
        now = self._clock.now()
        if report.complete:
            await self._store.finish_delivery(
                job.id, self.worker, "done", f"{report.sent} sent, {report.already} already", now
            )
            self.counters.deliveries_done += 1
            return
        if report.interrupted:
            await self._store.retry_delivery(job.id, self.worker, "interrupted", now)
            return
        assert report.error is not None
        if report.error.permanent:
            await self._fail(job, destination, report.error.reason)
            return
        await self._retry(job, report.error.reason)

    async def _retry(self, job: DeliveryJob, reason: str) -> None:
        now = self._clock.now()
        if job.attempts >= self._settings.max_attempts:
            await self._fail(
                job,
                Destination.parse(job.destination),
                f"gave up after {job.attempts} attempts: {reason}",
            )
            return
        wait = min(self._settings.retry_base_s * 2 ** (job.attempts - 1), 3600.0)
        await self._store.retry_delivery(job.id, self.worker, reason, now + timedelta(seconds=wait))
        self.counters.deliveries_retried += 1
        logger.warning(
            "delivery to %s failed (%s); retrying in %.0f s", job.destination, reason, wait
        )

    async def _fail(self, job: DeliveryJob, destination: Destination, reason: str) -> None:
        now = self._clock.now()
        await self._store.finish_delivery(job.id, self.worker, "failed", reason, now)
        paused = await self._store.pause_subscription(
            destination.platform, destination.channel, reason, now
        )
        self.counters.deliveries_failed += 1
        # Admins see this in `digestbot status`, `/digest-admin status` and /healthz; the
        # worker that paused it (one, across instances) also sends the notices.
        logger.error("subscription %s paused: %s", destination, reason)
        if paused is not None and self._on_pause is not None:
            await self._on_pause(paused)
