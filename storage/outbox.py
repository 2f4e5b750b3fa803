"""The store's delivery jobs (the outbox): enqueued once, claimed under a lease, finished.

Several instances on one PostgreSQL share the outbox; a claim is a compare-and-set, so no two
workers ever hold one job.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.domain import DeliveryJob, Difficulty, JobState
from storage.base import StoreBase
from storage.claims import change_claimed, claim_oldest, finished, newest, released
from storage.models import DeliveryJobRow, EditionRow
from storage.rows import delivery_job_of


class OutboxPart(StoreBase):
    """Delivery jobs: enqueue, claim, renew, finish or retry, and list or count them."""

    async def enqueue_delivery(
        self,
        destination: str,
        edition_id: int,
        difficulty: Difficulty | None,
        due_at: datetime,
        at: datetime,
        *,
        topics: Sequence[str] = (),
        exclude: Sequence[str] = (),
    ) -> bool:
        """Add a pending delivery; False when (destination, edition) has one already.

        The job keeps the subscription's level, ``topics`` and ``exclude`` as they are now.

        An ``INSERT ... ON CONFLICT DO NOTHING``: two instances planning at once add one job.
        An imported edition (history read from a file) is never delivered: False, no job.
        """
        values = {
            "destination": destination,
            "edition_id": edition_id,
            "difficulty": difficulty.value if difficulty else None,
            "topics": ",".join(topics),
            "exclude": ",".join(exclude),
            "state": JobState.PENDING,
            "due_at": due_at,
            "attempts": 0,
            "claimed_by": "",
            "lease_until": None,
            "reason": "",
            "created_at": at,
            "finished_at": None,
        }

        def write(session: Session) -> bool:
            if session.scalar(select(EditionRow.imported).where(EditionRow.id == edition_id)):
                return False
            return self._insert_if_absent(
                session, DeliveryJobRow, values, ["destination", "edition_id"]
            )

        return await self._run(write)

    async def claim_delivery(
        self,
        worker: str,
        now: datetime,
        lease: timedelta,
        platforms: Sequence[str] | None = None,
    ) -> DeliveryJob | None:
        """Claim the oldest due delivery: pending and due, or claimed with its lease run out.

        With ``platforms``, only deliveries to those platforms are claimed (an instance that
        runs Slack alone leaves Discord's to the instances that run Discord).

        The claim sets ``claimed_by``, ``lease_until = now + lease`` and adds an attempt;
        ``None`` when nothing is due. On PostgreSQL the row is read ``FOR UPDATE SKIP
        LOCKED``, so instances pass over each other's rows instead of waiting; on SQLite the
        transaction holds the write lock. On both, the claim is a compare-and-set on the row
        as read, so no two workers ever hold one job.
        """

        def write(session: Session) -> DeliveryJob | None:
            row = claim_oldest(
                session,
                DeliveryJobRow,
                dialect=self._dialect,
                worker=worker,
                now=now,
                lease=lease,
                platforms=platforms,
            )
            return delivery_job_of(row) if row is not None else None

        return await self._run(write, writes=True)

    async def _change_claim(self, job_id: int, worker: str, **values: Any) -> bool:
        return await self._run(
            lambda session: change_claimed(session, DeliveryJobRow, job_id, worker, values)
        )

    async def renew_claim(self, job_id: int, worker: str, until: datetime) -> bool:
        """Extend a claim ``worker`` still holds; False when it lost it."""
        return await self._change_claim(job_id, worker, lease_until=until)

    async def finish_delivery(
        self, job_id: int, worker: str, state: JobState, reason: str, at: datetime
    ) -> bool:
        """Record how a claimed delivery ended: ``done``, ``failed`` or ``skipped``."""
        return await self._change_claim(job_id, worker, **finished("a delivery", state, reason, at))

    async def retry_delivery(
        self, job_id: int, worker: str, reason: str, not_before: datetime
    ) -> bool:
        """Put a claimed delivery back, due again at ``not_before``."""
        return await self._change_claim(job_id, worker, **released(reason, not_before))

    async def delivery_jobs(
        self, states: Sequence[JobState] | None = None, limit: int = 200
    ) -> list[DeliveryJob]:
        """Return delivery jobs (in some states), newest first."""
        return await self._run(
            lambda session: [
                delivery_job_of(row) for row in newest(session, DeliveryJobRow, states, limit)
            ]
        )

    async def count_delivery_jobs(self, states: Sequence[JobState]) -> int:
        """Return how many delivery jobs are in ``states`` (for health and metrics)."""
        return await self._run(
            lambda session: int(
                session.scalar(
                    select(func.count(DeliveryJobRow.id)).where(
                        DeliveryJobRow.state.in_(list(states))
                    )
                )
                or 0
            )
        )
