"""The delivery worker: claims due deliveries from the outbox, runs them, records the outcome.

Deliveries are an outbox in the store: the worker claims due jobs (``FOR UPDATE SKIP LOCKED``
on PostgreSQL, so several instances share the work and none sends twice), runs up to
``workers`` of them at once per platform with `bot.delivery.deliver.deliver` while renewing
their leases, and records each outcome. A permanent failure (channel gone, permission missing)
pauses that subscription with the reason; a passing one is retried with backoff; a delivery
found more than ``stale_after_hours`` after its slot is skipped and reported.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.config import ScheduleSettings
from bot.delivery.content import ContentFilter, select_items
from bot.delivery.deliver import Destination, deliver
from bot.delivery.jobs import JobObserver, JobOutcome, JobTimer
from bot.delivery.ports import ChatAdapter, WorkerStore
from bot.domain import DeliveryJob, Edition, JobState, SubscriptionRecord
from bot.edition.profile import EditorialProfile, load_profile
from bot.ports import Clock

logger = logging.getLogger(__name__)


def worker_name() -> str:
    """Return this process's name in claims: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(slots=True)
class Counters:
    """What this process did since it started (exported as metrics)."""

    deliveries_done: int = 0
    deliveries_failed: int = 0
    deliveries_skipped: int = 0
    deliveries_retried: int = 0
    messages_sent: int = 0
    messages_recovered: int = 0
    # Claims or deliveries that raised what nothing expected (logged): `publish` fails on them.
    errors: int = 0
    ingests: int = 0
    composes: int = 0


class DeliveryWorker:
    """Claims and runs deliveries until stopped (or, with ``until_idle``, until none is due)."""

    def __init__(
        self,
        store: WorkerStore,
        clock: Clock,
        settings: ScheduleSettings,
        chats: Mapping[str, ChatAdapter],
        *,
        name: str | None = None,
        counters: Counters | None = None,
        on_pause: Callable[[SubscriptionRecord], Awaitable[object]] | None = None,
        profile: EditorialProfile | None = None,
        on_job: JobObserver | None = None,
    ) -> None:
        self._on_job = on_job
        self._store = store
        # The topics a subscription's ``topics:``/``exclude:`` name (DIGEST_PROFILE_PATH's).
        self._profile = profile or load_profile()
        self._clock = clock
        self._settings = settings
        self._chats = chats
        self._on_pause = on_pause
        self.name = name or worker_name()
        self.counters = counters if counters is not None else Counters()
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._editions: dict[int, tuple[datetime, Edition]] = {}

    def wake(self) -> None:
        """Look for due deliveries now rather than at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        """Claim nothing more; deliveries in flight stop after their part in flight."""
        self._stopping.set()
        self._wake.set()

    async def run(self, *, until_idle: bool = False) -> None:
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
                    self.counters.errors += 1
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
        return await self._store.claim_delivery(self.name, self._clock.now(), lease, platforms)

    async def _handle(self, job: DeliveryJob) -> None:
        """Run one claimed job, renewing its lease while it runs; never raises.

        Logs one line for the job (`bot.delivery.jobs`) with its outcome and duration.
        """
        lost = asyncio.Event()
        renewer = asyncio.create_task(self._keep_claim(job, lost), name=f"lease {job.id}")
        timer = JobTimer("delivery", self._clock, self._on_job, subject=job.destination)
        outcome = JobOutcome.FAILED
        try:
            now = self._clock.now()
            late = now - job.due_at
            if late > timedelta(hours=self._settings.stale_after_hours):
                await self._skip(job, late)
                outcome = JobOutcome.SKIPPED
                return
            outcome = await self._run(job, stop=lambda: self._stopping.is_set() or lost.is_set())
        except Exception:
            self.counters.errors += 1
            logger.exception("delivery to %s failed unexpectedly", job.destination)
            with contextlib.suppress(Exception):
                outcome = await self._retry(job, "an unexpected error (see the log)")
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
            timer.finish(outcome)

    async def _keep_claim(self, job: DeliveryJob, lost: asyncio.Event) -> None:
        """Renew the claim every third of the lease; say so if another worker took it."""
        lease = self._settings.lease_s
        while True:
            await asyncio.sleep(lease / 3)
            until = self._clock.now() + timedelta(seconds=lease)
            try:
                held = await self._store.renew_claim(job.id, self.name, until)
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
        await self._store.finish_delivery(job.id, self.name, JobState.SKIPPED, reason, now)
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

    async def _run(self, job: DeliveryJob, *, stop: Callable[[], bool]) -> JobOutcome:
        now = self._clock.now()
        destination = Destination.parse(job.destination)
        edition = await self._edition(job.edition_id)
        adapter = self._chats.get(destination.platform)
        if edition is None:
            await self._store.finish_delivery(
                job.id, self.name, JobState.FAILED, "the edition was deleted", now
            )
            return JobOutcome.FAILED
        if adapter is None:
            return await self._retry(
                job, f"{destination.platform} is not connected in this instance"
            )
        # The job keeps the filter it was planned with: a resumed delivery picks the same items.
        content = ContentFilter(job.difficulty, job.topics, job.exclude)
        chosen = select_items(edition, content, self._profile)
        report = await deliver(
            chosen.edition,
            destination,
            adapter,
            self._store,
            self._clock,
            stop=stop,
            scope=chosen.label,
        )
        self.counters.messages_sent += report.sent
        self.counters.messages_recovered += report.recovered
        now = self._clock.now()
        if report.complete:
            done = f"{report.sent} sent, {report.already} already"
            await self._store.finish_delivery(job.id, self.name, JobState.DONE, done, now)
            self.counters.deliveries_done += 1
            return JobOutcome.OK
        if report.interrupted:
            await self._store.retry_delivery(job.id, self.name, "interrupted", now)
            return JobOutcome.INTERRUPTED
        assert report.error is not None
        if report.error.permanent:
            await self._fail(job, destination, report.error.reason)
            return JobOutcome.FAILED
        return await self._retry(job, report.error.reason)

    async def _retry(self, job: DeliveryJob, reason: str) -> JobOutcome:
        now = self._clock.now()
        if job.attempts >= self._settings.max_attempts:
            await self._fail(
                job,
                Destination.parse(job.destination),
                f"gave up after {job.attempts} attempts: {reason}",
            )
            return JobOutcome.FAILED
        wait = min(self._settings.retry_base_s * 2 ** (job.attempts - 1), 3600.0)
        await self._store.retry_delivery(job.id, self.name, reason, now + timedelta(seconds=wait))
        self.counters.deliveries_retried += 1
        logger.warning(
            "delivery to %s failed (%s); retrying in %.0f s", job.destination, reason, wait
        )
        return JobOutcome.RETRY

    async def _fail(self, job: DeliveryJob, destination: Destination, reason: str) -> None:
        now = self._clock.now()
        await self._store.finish_delivery(job.id, self.name, JobState.FAILED, reason, now)
        paused = await self._store.pause_subscription(
            destination.platform, destination.channel, reason, now
        )
        self.counters.deliveries_failed += 1
        # Admins see this in `digestbot status`, `/digest-admin status` and /healthz; the
        # worker that paused it (one, across instances) also sends the notices.
        logger.error("subscription %s paused: %s", destination, reason)
        if paused is not None and self._on_pause is not None:
            await self._on_pause(paused)
