"""The always-on schedule: ingest, weekly compose, and each subscription's delivery.

APScheduler 3 (``AsyncIOScheduler`` in our one event loop) fires the jobs; every trigger gets
its timezone explicitly. APScheduler's memory is not trusted across restarts: what has been
done is read from the store, so a job missed while the bot was down runs once when it is
back (coalesced), never twice:

- compose: if the latest compose slot has no edition yet, compose it now;
- delivery: a subscription's latest slot (its day, time and timezone) enqueues the edition
  composed before that slot, once per (destination, edition); a new subscription starts with
  the next slot, not with back editions.

Enqueued deliveries are run by `bot.delivery.worker.DeliveryWorker`, which this schedule
starts and stops. Jobs that must run once across instances (ingest, compose, planning) hold a
database lock while they run and are idempotent anyway.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import ScheduleSettings
from bot.delivery.edits import EditCounters, EditWorker
from bot.delivery.jobs import JobObserver, JobOutcome, timed
from bot.delivery.ports import ChatAdapter, ScheduleStore
from bot.delivery.slots import WEEKDAYS, UpcomingJob, clock_time, last_slot
from bot.delivery.worker import Counters, DeliveryWorker
from bot.domain import Edition, Subscription, SubscriptionRecord
from bot.edition.profile import EditorialProfile
from bot.ports import Clock

logger = logging.getLogger(__name__)


def _cron(weekday: int, at: str, timezone: str) -> CronTrigger:
    moment = clock_time(at)
    return CronTrigger(
        day_of_week=WEEKDAYS[weekday],
        hour=moment.hour,
        minute=moment.minute,
        timezone=ZoneInfo(timezone),
    )


class Scheduler:
    """Runs the schedule and the delivery worker until `aclose`."""

    def __init__(
        self,
        store: ScheduleStore,
        clock: Clock,
        settings: ScheduleSettings,
        chats: Mapping[str, ChatAdapter],
        *,
        ingest: Callable[[], Awaitable[object]],
        compose: Callable[[date], Awaitable[object]],
        worker: str | None = None,
        on_pause: Callable[[SubscriptionRecord], Awaitable[object]] | None = None,
        profile: EditorialProfile | None = None,
        on_job: JobObserver | None = None,
    ) -> None:
        self._store = store
        self._on_job = on_job
        self._clock = clock
        self._settings = settings
        self._ingest = ingest
        self._compose = compose
        self._deliveries = DeliveryWorker(
            store,
            clock,
            settings,
            chats,
            name=worker,
            on_pause=on_pause,
            profile=profile,
            on_job=on_job,
        )
        # Editors' rewrites of delivered items (`bot.delivery.edits`), beside the deliveries.
        self._edits = EditWorker(store, clock, settings, chats, name=self._deliveries.name)
        self._edits_task: asyncio.Task[EditCounters] | None = None
        self._scheduler: AsyncIOScheduler | None = None
        self._worker_task: asyncio.Task[None] | None = None
        # Cleared while the ingest missed during downtime runs: a missed compose waits for it.
        self._ingest_caught_up = asyncio.Event()
        self._ingest_caught_up.set()
        self._catch_up_task: asyncio.Task[None] | None = None
        self._subscription_jobs: dict[str, str] = {}
        # The APScheduler tasks running one of our jobs now, and whether `aclose` began: a
        # job cancelled by the shutdown ends quietly instead of as APScheduler's ERROR.
        self._running: set[asyncio.Task[object]] = set()
        self._closing = False

    @property
    def worker(self) -> str:
        """Return this process's name in delivery claims."""
        return self._deliveries.name

    @property
    def counters(self) -> Counters:
        """Return what this process did since it started."""
        return self._deliveries.counters

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
            self._quiet(self.run_ingest),
            IntervalTrigger(hours=settings.ingest_every_hours, timezone=UTC),
            id="ingest",
            next_run_time=first_ingest,
        )
        scheduler.add_job(
            self._quiet(self.run_compose),
            _cron(
                WEEKDAYS.index(settings.compose_day),
                settings.compose_time,
                settings.compose_timezone,
            ),
            id="compose",
        )
        scheduler.add_job(
            self._quiet(self.plan),
            IntervalTrigger(seconds=settings.plan_every_s, timezone=UTC),
            id="plan",
            next_run_time=self._clock.now(),  # catch up at once
        )
        scheduler.start()
        self._scheduler = scheduler
        self._worker_task = asyncio.create_task(self._deliveries.run(), name="delivery-worker")
        self._edits_task = asyncio.create_task(self._edits.run(), name="edit-worker")
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

    def _quiet(self, job: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        """Return ``job`` as APScheduler runs it: when `aclose` cancels it, it ends quietly.

        APScheduler logs any exception of a job, CancelledError included, with a traceback
        at ERROR; a job stopped by a shutdown is no error (every job is idempotent, and the
        next start catches up on what it did not finish).
        """

        async def run() -> None:
            task = asyncio.current_task()
            if task is not None:
                self._running.add(task)
            try:
                await job()
            except asyncio.CancelledError:
                if not self._closing:
                    raise
                logger.info("%s stopped by the shutdown", job.__name__)
            finally:
                if task is not None:
                    self._running.discard(task)

        run.__name__ = run.__qualname__ = job.__name__
        return run

    async def aclose(self) -> None:
        """Stop firing jobs; let the send in flight finish and be recorded; then return."""
        self._closing = True
        self._deliveries.stop()
        self._edits.stop()
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.pause()
            # A job submitted just now has not started: let it start, so that it is ours to
            # cancel quietly (APScheduler's own cancel of an unstarted job logs an ERROR).
            await asyncio.sleep(0)
            running = list(self._running)
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            self._scheduler.shutdown(wait=False)
        if self._catch_up_task is not None and not self._catch_up_task.done():
            self._catch_up_task.cancel()  # an ingest holds no send; the next start redoes it
            await asyncio.gather(self._catch_up_task, return_exceptions=True)
        if self._worker_task is not None:
            await self._worker_task
        if self._edits_task is not None:
            await self._edits_task

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
        """Ingest every source, once across instances.

        The ingest callable may return a `JobOutcome` (FAILED when every source failed).
        """
        with timed("ingest", self._clock, self._on_job) as run:
            async with self._store.job_lock("ingest") as mine:
                if not mine:
                    run.finish(JobOutcome.SKIPPED, "running in another instance")
                    return
                result = await self._ingest()
                self.counters.ingests += 1
                if isinstance(result, JobOutcome):
                    run.outcome = result

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
        with timed("compose", self._clock, self._on_job) as run:
            async with self._store.job_lock("compose") as mine:
                if not mine:
                    run.finish(JobOutcome.SKIPPED, "running in another instance")
                    return
                day = slot.astimezone(ZoneInfo(self._settings.compose_timezone)).date()
                result = await self._compose(day)
                self.counters.composes += 1
                run.detail = f"edition of {day}"
                if isinstance(result, JobOutcome):
                    run.outcome = result
        if then_plan:
            await self.plan()

    async def _compose_if_missed(self) -> None:
        if not self._ingest_caught_up.is_set():
            return  # the catch-up ingest plans again when it is done
        slot = self._compose_slot()
        latest = await self._store.edition()
        attempt = await self._store.last_compose()
        if (latest is not None and latest.created_at >= slot) or (
            attempt is not None and attempt.at >= slot
        ):
            return
        logger.warning("the compose due at %s did not run; composing now", slot)
        await self.run_compose(then_plan=False)

    async def plan(self, *, compose_missed: bool = True) -> None:
        """Catch up a missed compose, follow subscription changes, enqueue due deliveries.

        Its line is DEBUG when it enqueued nothing (it runs every ``plan_every_s``).
        """
        try:
            if compose_missed:
                await self._compose_if_missed()
            with timed("plan", self._clock, self._on_job) as run:
                run.verbose = False
                subscriptions = await self._store.subscriptions_since()
                self._follow(subscriptions)
                async with self._store.job_lock("plan") as mine:
                    latest = await self._store.edition() if mine else None
                    if latest is not None:
                        due = [
                            await self._enqueue_due(subscription, created, latest)
                            for subscription, created in subscriptions
                        ]
                        if any(due):
                            run.verbose = True
                            run.detail = f"{sum(due)} deliveries enqueued"
        except Exception:
            logger.exception("planning deliveries failed; trying again at the next run")
        self._deliveries.wake()

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
                self._quiet(self.plan),
                _cron(s.weekday, s.at_time, s.timezone),
                id=job_id,
                name=job_id,
                replace_existing=True,
            )
            self._subscription_jobs[job_id] = shape

    async def _enqueue_due(
        self, subscription: Subscription, created: datetime, edition: Edition
    ) -> bool:
        """Enqueue the edition due to ``subscription``; return True when it is new."""
        if not subscription.active:
            return False
        now = self._clock.now()
        slot = last_slot(subscription.weekday, subscription.at_time, subscription.timezone, now)
        if slot <= created:
            return False  # subscribed after this slot: start with the next edition
        if self._compose_slot(edition.created_at) > slot:
            return False  # the edition was not due yet at this slot: it goes at the next one
        destination = f"{subscription.platform}:{subscription.channel}"
        new = await self._store.enqueue_delivery(
            destination,
            edition.id,
            subscription.difficulty,
            slot,
            now,
            topics=subscription.topics,
            exclude=subscription.exclude,
        )
        if new:
            logger.info("edition %s due in %s since %s", edition.date, destination, slot)
        return new

    # -- deliveries now (``digestbot publish``, tests) ----------------------------------------

    async def deliver_due(self) -> Counters:
        """Enqueue what is due now and deliver it all (``digestbot publish`` without ``--to``).

        Composing stays the schedule's (or ``digestbot compose``'s) job: this only posts.
        """
        await self.plan(compose_missed=False)
        await self._deliveries.run(until_idle=True)
        return self.counters

    async def deliver_next(self) -> bool:
        """Claim one due delivery and run it; return False when none was due."""
        return await self._deliveries.deliver_next()
