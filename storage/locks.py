"""The store's job locks: at most one instance runs a job (ingest, compose, plan) at a time."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import Connection, Engine, text

from storage.base import StoreBase


class JobLocksPart(StoreBase):
    """`job_lock`: a PostgreSQL advisory lock, or on SQLite a lock in this process."""

    @asynccontextmanager
    async def job_lock(self, name: str) -> AsyncIterator[bool]:
        """Hold the lock ``name`` while inside; yield whether it was got (it never waits).

        PostgreSQL: a session advisory lock (`advisory_key` of the name) taken with
        ``pg_try_advisory_lock`` on a connection of its own, kept open and idle for the
        block, unlocked on exit and then closed rather than pooled. If the process dies, the
        server ends the session and drops the lock. (If the connection itself is lost
        inside the block, so is the lock; the jobs it guards are idempotent.)

        SQLite: a lock in this process, per database file and name. That is enough for the
        one instance SQLite serves; several instances need PostgreSQL.
        """
        if self._dialect != "postgresql":
            lock = _process_lock(self._engine, name)
            if not lock.acquire(blocking=False):
                yield False
                return
            try:
                yield True
            finally:
                lock.release()
            return

        key = advisory_key(name)

        def acquire() -> tuple[Connection, bool]:
            connection = self._engine.connect()
            try:
                got = connection.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": key}
                ).scalar()
                connection.commit()  # idle, not "idle in transaction", while the lock is held
            except BaseException:
                _discard(connection)
                raise
            return connection, bool(got)

        def release(connection: Connection, got: bool) -> None:
            try:
                if got:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            finally:
                _discard(connection)

        acquiring = asyncio.ensure_future(asyncio.to_thread(acquire))
        try:
            connection, got = await asyncio.shield(acquiring)
        except asyncio.CancelledError:
            # The thread goes on and may get the lock: its connection is closed when it does.
            acquiring.add_done_callback(_discard_acquired)
            raise
        try:
            yield got
        finally:
            # The thread finishes even if we are cancelled while awaiting it.
            await asyncio.to_thread(release, connection, got)


_PROCESS_LOCKS: dict[tuple[str, str], threading.Lock] = {}
_PROCESS_LOCKS_GUARD = threading.Lock()


def _process_lock(engine: Engine, name: str) -> threading.Lock:
    """Return this process's lock for job ``name`` on ``engine``'s SQLite database."""
    database = engine.url.database or ""
    if database not in ("", ":memory:"):
        database = os.path.realpath(database)
    with _PROCESS_LOCKS_GUARD:
        return _PROCESS_LOCKS.setdefault((database, name), threading.Lock())


def _discard(connection: Connection) -> None:
    """Close a job lock's connection for good, not back to the pool.

    The server ends its session, and with it any advisory lock the session still held.
    """
    with contextlib.suppress(Exception):
        connection.invalidate()
    with contextlib.suppress(Exception):
        connection.close()


def _discard_acquired(acquiring: asyncio.Future[tuple[Connection, bool]]) -> None:
    if not acquiring.cancelled() and acquiring.exception() is None:
        _discard(acquiring.result()[0])


def advisory_key(name: str) -> int:
    """Return the PostgreSQL advisory lock key of a job lock: a stable 63-bit hash of its name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") >> 1
