"""The edit worker: applies rewritten summaries to item replies already delivered.

A rewrite (`bot.edition.rewrite`) leaves one edit job per destination that shows the item.
The worker claims them like deliveries (a lease; several instances share them), edits the
recorded reply in place through `ChatAdapter.edit_item` and records the version the reply now
shows before finishing the job. A job whose version the reply already shows (an edit resumed
after a crash, or superseded by a later one) finishes without a request: no edit is applied
twice. A message gone or not the bot's fails the job for good; a passing failure is retried
with backoff, as deliveries are.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from bot.config import ScheduleSettings
from bot.delivery.deliver import DeliveryError, Destination, part_key
from bot.delivery.ports import ChatAdapter, EditStore
from bot.delivery.worker import worker_name
from bot.domain import EditJob, JobState
from bot.edition.render import to_digest_item
from bot.ports import Clock

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class EditCounters:
    """What the edit worker did: replies edited, already showing the version, to retry, failed."""

    edited: int = 0
    already: int = 0
    retried: int = 0
    failed: int = 0


class EditWorker:
    """Claims and applies edit jobs for the platforms in ``chats``."""

    def __init__(
        self,
        store: EditStore,
        clock: Clock,
        settings: ScheduleSettings,
        chats: Mapping[str, ChatAdapter],
        *,
        name: str | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._settings = settings
        self._chats = chats
        self.name = name or worker_name()
        self.counters = EditCounters()
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Claim no more edits; the one in flight finishes and is recorded."""
        self._stopping.set()

    async def run(self, *, until_idle: bool = False) -> EditCounters:
        """Apply due edits one at a time until stopped (or, with ``until_idle``, none is due).

        One at a time is enough: edits are rare (an editor's command) and each is one request.
        """
        while not self._stopping.is_set():
            try:
                worked = await self.edit_next()
            except Exception:
                logger.exception("claiming an edit failed; trying again")
                worked = False
            if worked:
                continue
            if until_idle:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self._settings.poll_s)
        return self.counters

    async def edit_next(self) -> bool:
        """Claim one due edit and apply it; False when none was due."""
        lease = timedelta(seconds=self._settings.lease_s)
        job = await self._store.claim_edit(self.name, self._clock.now(), lease, sorted(self._chats))
        if job is None:
            return False
        try:
            await self._apply(job)
        except Exception:
            logger.exception("editing in %s failed unexpectedly", job.destination)
            with contextlib.suppress(Exception):
                await self._retry(job, "an unexpected error (see the log)")
        return True

    async def _apply(self, job: EditJob) -> None:
        destination = Destination.parse(job.destination)
        adapter = self._chats[destination.platform]
        edition = await self._store.edition(edition_id=job.edition_id)
        entry = (
            next((e for e in edition.entries if e.position == job.part), None) if edition else None
        )
        sent = await self._store.delivered_part(job.destination, job.edition_id, job.part)
        if entry is None or sent is None:
            await self._finish(job, JobState.FAILED, "the item is no longer in that edition")
            return
        message_id, thread_id, shown = sent
        if shown >= job.version:
            self.counters.already += 1
            await self._finish(job, JobState.DONE, f"already shows version {shown}")
            return
        key = part_key(job.edition_id, job.part)
        try:
            await adapter.edit_item(
                destination.channel, thread_id, message_id, to_digest_item(entry), key
            )
        except DeliveryError as exc:
            if exc.permanent:
                self.counters.failed += 1
                logger.error("edit in %s failed: %s", job.destination, exc.reason)
                await self._finish(job, JobState.FAILED, exc.reason)
            else:
                await self._retry(job, exc.reason)
            return
        # Recorded before the job finishes: a crash in between finds the version shown.
        await self._store.record_edit(job.destination, job.edition_id, job.part, job.version)
        self.counters.edited += 1
        await self._finish(job, JobState.DONE, f"edited to version {job.version}")

    async def _finish(self, job: EditJob, state: JobState, reason: str) -> None:
        await self._store.finish_edit(job.id, self.name, state, reason, self._clock.now())

    async def _retry(self, job: EditJob, reason: str) -> None:
        if job.attempts >= self._settings.max_attempts:
            self.counters.failed += 1
            await self._finish(
                job, JobState.FAILED, f"gave up after {job.attempts} attempts: {reason}"
            )
            return
        wait = min(self._settings.retry_base_s * 2 ** (job.attempts - 1), 3600.0)
        now = self._clock.now()
        await self._store.retry_edit(job.id, self.name, reason, now + timedelta(seconds=wait))
        self.counters.retried += 1
        logger.warning("edit in %s failed (%s); retrying in %.0f s", job.destination, reason, wait)
