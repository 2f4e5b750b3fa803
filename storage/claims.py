"""Claims on outbox rows (delivery jobs, edit jobs): the oldest due row, compare-and-set.

Both outboxes share their claim columns (``state``, ``due_at``, ``claimed_by``,
``lease_until``, ``attempts``, ``destination``), so both claim the same way: a row is
claimable when pending and due, or claimed with its lease run out. On PostgreSQL the row is
read ``FOR UPDATE SKIP LOCKED``, so instances pass over each other's rows instead of waiting;
on SQLite the transaction holds the write lock. On both, the claim is a compare-and-set on the
row as read, so no two workers ever hold one job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import false, or_, select, update
from sqlalchemy.orm import Session

from bot.domain import JobState
from storage.models import DeliveryJobRow, EditJobRow

OutboxRow = TypeVar("OutboxRow", DeliveryJobRow, EditJobRow)


def claim_oldest(
    session: Session,
    row_type: type[OutboxRow],
    *,
    dialect: str,
    worker: str,
    now: datetime,
    lease: timedelta,
    platforms: Sequence[str] | None,
) -> OutboxRow | None:
    """Claim the oldest due row (to one of ``platforms``) for ``worker``; add an attempt."""
    claimable = ((row_type.state == JobState.PENDING) & (row_type.due_at <= now)) | (
        (row_type.state == JobState.CLAIMED) & (row_type.lease_until < now)
    )
    if platforms is not None:
        claimable = claimable & or_(
            false(), *(row_type.destination.startswith(f"{p}:") for p in platforms)
        )
    query = select(row_type).where(claimable).order_by(row_type.due_at, row_type.id).limit(1)
    if dialect == "postgresql":
        query = query.with_for_update(skip_locked=True)
    row = session.scalars(query).first()
    if row is None:
        return None
    # Compare-and-set: the row is still claimable and nobody claimed it since we read it
    # (each claim adds an attempt), or no row changes and we claim nothing.
    claimed = session.execute(
        update(row_type)
        .where(row_type.id == row.id, row_type.attempts == row.attempts, claimable)
        .values(
            state=JobState.CLAIMED,
            claimed_by=worker,
            lease_until=now + lease,
            attempts=row.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    session.expire(row)
    return session.get_one(row_type, row.id)


def change_claimed(
    session: Session, row_type: type[OutboxRow], job_id: int, worker: str, values: Mapping[str, Any]
) -> bool:
    """Change a row ``worker`` still holds; False when it lost the claim (or the row is gone)."""
    result = session.execute(
        update(row_type)
        .where(
            row_type.id == job_id,
            row_type.state == JobState.CLAIMED,
            row_type.claimed_by == worker,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def finished(kind: str, state: JobState, reason: str, at: datetime) -> dict[str, Any]:
    """Return the values that end a claimed job; `ValueError` for a state that is not final."""
    if not state.final:
        raise ValueError(f"{kind} ends done, failed or skipped, not {state!r}")
    return {"state": state, "reason": reason, "finished_at": at, "lease_until": None}


def released(reason: str, not_before: datetime) -> dict[str, Any]:
    """Return the values that put a claimed job back, due again at ``not_before``."""
    return {
        "state": JobState.PENDING,
        "reason": reason,
        "due_at": not_before,
        "claimed_by": "",
        "lease_until": None,
    }


def newest(
    session: Session, row_type: type[OutboxRow], states: Sequence[JobState] | None, limit: int
) -> list[OutboxRow]:
    """Return the newest jobs (in ``states``, if given), newest first."""
    query = select(row_type).order_by(row_type.id.desc()).limit(limit)
    if states is not None:
        query = query.where(row_type.state.in_(list(states)))
    return list(session.scalars(query))
