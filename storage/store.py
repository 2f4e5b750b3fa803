"""The store: everything the bot keeps, as one object built from per-domain parts.

Public methods are async (they implement `bot.ports.IngestStore` and the stores the rest of the
core declares); the SQLAlchemy work runs in a worker thread, one operation at a time per store,
so the event loop never blocks on SQL.

`Store` is one object for its callers, composed of mixins that each own one domain's tables:

- `storage.base.StoreBase`: the engine, the sessions and the lock; `_run` (one transaction in
  a worker thread, one at a time) and `_insert_if_absent`. Every part inherits it.
- `storage.history.HistoryPart`: imported editions (``digestbot import``) and the items the
  learned ranker trains on.
- `storage.items.ItemsPart`: items and their sightings, sources' state and runs, citations,
  editors' picks.
- `storage.editions.EditionsPart`: editions, the summaries cache, compose runs, the search of
  featured items.
- `storage.llm_ledger.LlmLedgerPart`: the language model's calls (spend) and kept answers.
- `storage.subscriptions.SubscriptionsPart`: subscriptions, pausing and resuming them, and the
  parts of each delivery sent.
- `storage.feedback.FeedbackPart`: readers' 👍 / 👎 on delivered items, and which part of an
  edition a reacted message is.
- `storage.outbox.OutboxPart`: delivery jobs (the outbox): enqueue, claim, renew, finish.
- `storage.rewrites.RewritesPart`: editors' rewrites of a summary, the replaced ones kept.
- `storage.edits.EditsPart`: edit jobs (delivered replies to edit in place after a rewrite).
- `storage.locks.JobLocksPart`: `job_lock`, one holder of a job at a time across instances.
- `storage.archive.ArchivePart`: the web archive's reads (editions by page, an item's history).
- `storage.installations.InstallationsPart`: Slack workspaces' installs ("Add to Slack") with
  their bot tokens, and the OAuth flow's one-time states.

`storage.rows` converts rows to domain records for all of them. Parts import the base and the
rows module, never each other nor this module (but `HistoryPart`, which extends `ItemsPart` to
create an imported edition's items in the import's own transaction). They share no state but
the base's and no two define the same method, so the order of the bases changes nothing.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Self

from storage.archive import ArchivePart
from storage.base import IN_CHUNK, StoreBase
from storage.db import create_engine_for, require_current, upgrade
from storage.editions import EditionsPart
from storage.edits import EditsPart
from storage.feedback import FeedbackPart
from storage.history import HistoryPart
from storage.installations import InstallationsPart
from storage.items import RACE_SQLSTATES, UPSERT_ATTEMPTS, ItemsPart
from storage.llm_ledger import LlmLedgerPart
from storage.locks import JobLocksPart, advisory_key
from storage.outbox import OutboxPart
from storage.rewrites import RewritesPart
from storage.subscriptions import SubscriptionsPart

# Importable from here as before the store was split into parts.
__all__ = ["IN_CHUNK", "RACE_SQLSTATES", "UPSERT_ATTEMPTS", "Store", "advisory_key"]


class Store(
    HistoryPart,  # extends ItemsPart: it creates the items an imported edition names
    ItemsPart,
    EditionsPart,
    LlmLedgerPart,
    SubscriptionsPart,
    FeedbackPart,
    OutboxPart,
    RewritesPart,
    EditsPart,
    JobLocksPart,
    ArchivePart,
    InstallationsPart,
    StoreBase,
):
    """Everything the bot keeps, on SQLite or PostgreSQL."""

    @classmethod
    async def open(cls, url: str, *, migrate: bool = True) -> Self:
        """Open the database at ``url``, migrating it to the latest schema first by default."""
        engine = create_engine_for(url)
        if migrate:
            await asyncio.to_thread(upgrade, engine)
        return cls(engine)

    @classmethod
    async def open_existing(cls, url: str) -> Self:
        """Open a database that must exist at the latest schema; never create nor migrate it.

        For the read-only commands: a missing or older database raises `DatabaseError` saying
        to run ``digestbot db upgrade``.
        """
        engine = create_engine_for(url)
        try:
            await asyncio.to_thread(require_current, engine)
        except BaseException:
            await asyncio.to_thread(engine.dispose)
            raise
        return cls(engine)

    async def aclose(self) -> None:
        """Close every pooled connection."""
        await asyncio.to_thread(self._engine.dispose)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
