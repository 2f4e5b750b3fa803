"""The store's edit jobs: delivered item replies to edit in place after a rewrite.

The same outbox discipline as delivery jobs (`storage.outbox`): a job is claimed under a
lease with a compare-and-set (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), then finished or put
back. Which rewrite a delivered message shows is kept on its delivery row
(``deliveries.edit_version``): an edit resumed after a crash finds it applied.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.domain import EditJob, JobState
from storage.base import StoreBase
from storage.claims import change_claimed, claim_oldest, finished, newest, released
from storage.models import DeliveryRow, EditJobRow
from storage.rows import edit_job_of


class EditsPart(StoreBase):
    """Edit jobs: claim, finish or retry, list; and the edit version of delivered parts."""

    async def claim_edit(
        self,
        worker: str,
        now: datetime,
        lease: timedelta,
        platforms: Sequence[str] | None = None,
    ) -> EditJob | None:
        """Claim the oldest due edit (to one of ``platforms``): pending, or its lease run out.

        Adds an attempt; the claim is a compare-and-set on the row as read, so no two
        workers ever hold one job.
        """

        def write(session: Session) -> EditJob | None:
            row = claim_oldest(
                session,
                EditJobRow,
                dialect=self._dialect,
                worker=worker,
                now=now,
                lease=lease,
                platforms=platforms,
            )
            return edit_job_of(row) if row is not None else None

        return await self._run(write, writes=True)

    async def _change_edit(self, job_id: int, worker: str, **values: Any) -> bool:
        return await self._run(
            lambda session: change_claimed(session, EditJobRow, job_id, worker, values)
        )

    async def finish_edit(
        self, job_id: int, worker: str, state: JobState, reason: str, at: datetime
    ) -> bool:
        """Record how a claimed edit ended: ``done`` or ``failed``."""
        return await self._change_edit(job_id, worker, **finished("an edit", state, reason, at))

    async def retry_edit(self, job_id: int, worker: str, reason: str, not_before: datetime) -> bool:
        """Put a claimed edit back, due again at ``not_before``."""
        return await self._change_edit(job_id, worker, **released(reason, not_before))

    async def edit_jobs(
        self, states: Sequence[JobState] | None = None, limit: int = 200
    ) -> list[EditJob]:
        """Return edit jobs (in some states), newest first."""
        return await self._run(
            lambda session: [edit_job_of(row) for row in newest(session, EditJobRow, states, limit)]
        )

    async def delivered_part(
        self, destination: str, edition_id: int, part: int
    ) -> tuple[str, str, int] | None:
        """Return a delivered part's (message id, thread id, edit version), if it was sent."""

        def read(session: Session) -> tuple[str, str, int] | None:
            row = session.scalars(
                select(DeliveryRow).where(
                    DeliveryRow.destination == destination,
                    DeliveryRow.edition_id == edition_id,
                    DeliveryRow.part == part,
                )
            ).first()
            return (row.message_id, row.thread_id, row.edit_version) if row else None

        return await self._run(read)

    async def record_edit(self, destination: str, edition_id: int, part: int, version: int) -> None:
        """Record that a delivered part now shows rewrite ``version`` (never going back)."""

        def write(session: Session) -> None:
            session.execute(
                update(DeliveryRow)
                .where(
                    DeliveryRow.destination == destination,
                    DeliveryRow.edition_id == edition_id,
                    DeliveryRow.part == part,
                    DeliveryRow.edit_version < version,
                )
                .values(edit_version=version)
                .execution_options(synchronize_session=False)
            )

        await self._run(write)
