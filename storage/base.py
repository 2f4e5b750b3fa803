"""The store's shared core: one engine, its sessions, and one transaction at a time.

Every part of the store (`storage.items`, `storage.editions`, ...) inherits `StoreBase`, so all
parts of one `storage.store.Store` share the engine, the sessions and the lock, and run their
SQL through `StoreBase._run`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TypeVar

from sqlalchemy import Engine, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from storage.models import (
    DeliveryJobRow,
    DeliveryRow,
    DeliveryStartRow,
    EditJobRow,
    FeedbackVoteRow,
    SubscriptionRow,
)

T = TypeVar("T")
IN_CHUNK = 500
"""At most this many values in one SQL ``IN`` list (keeps every database's limits)."""


def chunks(values: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    """Yield ``values`` in slices of at most ``size``, one SQL ``IN`` list each."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


class StoreBase:
    """The engine, sessions and lock that every part of the store shares (parts inherit it)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._lock = asyncio.Lock()
        self._dialect = engine.dialect.name

    async def _run(self, work: Callable[[Session], T], *, writes: bool = False) -> T:
        """Run ``work`` in one transaction in a worker thread, one at a time.

        ``writes``: ``work`` reads rows and then writes on what it read. On SQLite the
        transaction then takes the database's write lock before it reads (``BEGIN
        IMMEDIATE``), so another connection cannot change those rows in between; the
        driver would otherwise begin only at the first write. PostgreSQL's ``work`` locks
        the rows it needs itself (``FOR UPDATE``).
        """

        def in_thread() -> T:
            with self._sessions.begin() as session:
                if writes and self._dialect == "sqlite":
                    session.execute(text("BEGIN IMMEDIATE"))
                return work(session)

        async with self._lock:
            return await asyncio.to_thread(in_thread)

    def _insert_if_absent(
        self,
        session: Session,
        row_type: type[
            DeliveryRow
            | DeliveryStartRow
            | SubscriptionRow
            | DeliveryJobRow
            | FeedbackVoteRow
            | EditJobRow
        ],
        values: Mapping[str, object],
        unique: Sequence[str],
    ) -> bool:
        """Insert a row unless one with the same ``unique`` columns exists; True if inserted.

        ``ON CONFLICT DO NOTHING`` on both databases: concurrent writers (several instances on
        one PostgreSQL) never fail on the unique constraint.
        """
        insert = postgresql_insert if self._dialect == "postgresql" else sqlite_insert
        statement = (
            insert(row_type)
            .values(**values)
            .on_conflict_do_nothing(index_elements=list(unique))
            .returning(row_type.id)  # no row when it existed (SQLite 3.35+)
        )
        return session.execute(statement).first() is not None
