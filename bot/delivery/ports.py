"""The ports of delivery: what it needs of chat platforms and of the store.

Chat adapters (`adapters.chat`) implement `ChatAdapter` and `NoticeSender`; the store
(`storage.store.Store`) implements the store protocols; tests plug in fakes.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime, timedelta
from typing import Protocol

from bot.domain import (
    ComposeAttempt,
    DeliveryJob,
    Difficulty,
    Edition,
    EditJob,
    JobState,
    SourceRun,
    Subscription,
    SubscriptionRecord,
)
from bot.edition.render import Digest, DigestItem


class ChatAdapter(Protocol):
    """A chat platform as delivery needs it; adapters pace and size messages themselves.

    Besides editions, it carries notices to admins (a paused subscription, `bot.delivery.notices`).
    """

    async def send_parent(self, channel: str, digest: Digest, key: str) -> str:
        """Post the edition's parent message; return its id (the thread's root)."""
        ...

    async def send_item(self, channel: str, thread: str, item: DigestItem, key: str) -> str:
        """Post one item as a reply in ``thread``; return the message id."""
        ...

    async def find_sent(self, channel: str, thread: str | None, key: str) -> str | None:
        """Return the id of a message already sent with ``key``, if the platform has one."""
        ...

    async def edit_item(
        self, channel: str, thread: str, message_id: str, item: DigestItem, key: str
    ) -> None:
        """Replace the item reply ``message_id`` (sent with ``key``) by ``item``, in place.

        Raises `DeliveryError`; permanent when the message is gone or not the bot's.
        """
        ...

    async def send_direct(self, user: str, text: str) -> None:
        """Send a notice to ``user`` by direct message (see `bot.delivery.notices`)."""
        ...

    async def send_notice(self, channel: str, text: str) -> None:
        """Post a notice in ``channel`` (an admin channel; see `bot.delivery.notices`)."""
        ...


class DeliveryLog(Protocol):
    """Where sends are recorded (the store)."""

    async def begin_delivery(self, destination: str, edition_id: int, at: datetime) -> bool:
        """Note that delivering ``edition_id`` to ``destination`` begins; True the first time."""
        ...

    async def sent_parts(self, destination: str, edition_id: int) -> dict[int, tuple[str, str]]:
        """Return the parts already sent: part -> (message id, thread id)."""
        ...

    async def record_sent(
        self,
        destination: str,
        edition_id: int,
        part: int,
        message_id: str,
        thread_id: str,
        at: datetime,
    ) -> None:
        """Record one send."""
        ...


class NoticeSender(Protocol):
    """A platform as notices need it; implemented by the chat adapters."""

    async def send_direct(self, user: str, text: str) -> None:
        """Send ``text`` to ``user`` by direct message; raise `DeliveryError` if impossible."""
        ...

    async def send_notice(self, channel: str, text: str) -> None:
        """Post ``text`` in ``channel``; raise `DeliveryError` if impossible."""
        ...


class SeedStore(Protocol):
    """What seeding reads and writes."""

    async def subscription_records(self) -> list[SubscriptionRecord]:
        """Return every subscription with who created it and when."""
        ...

    async def subscribe(self, subscription: Subscription, by: str, at: datetime) -> bool:
        """Create (or update and resume) a subscription; True when it is new."""
        ...

    async def update_subscription(self, subscription: Subscription, at: datetime) -> bool:
        """Change a subscription's workspace, schedule and level; paused stays paused."""
        ...

    async def unsubscribe(self, platform: str, workspace: str, channel: str) -> bool:
        """Remove a subscription."""
        ...


class WorkerStore(DeliveryLog, Protocol):
    """What the delivery worker reads and writes (the outbox)."""

    async def edition(
        self, *, edition_id: int | None = None, edition_date: date | None = None
    ) -> Edition | None:
        """Return an edition by id, or the latest."""
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
        self, job_id: int, worker: str, state: JobState, reason: str, at: datetime
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


class EditStore(Protocol):
    """What the edit worker reads and writes (the outbox of edits, the delivery records)."""

    async def edition(
        self, *, edition_id: int | None = None, edition_date: date | None = None
    ) -> Edition | None:
        """Return an edition by id, or the latest."""
        ...

    async def claim_edit(
        self,
        worker: str,
        now: datetime,
        lease: timedelta,
        platforms: Sequence[str] | None = None,
    ) -> EditJob | None:
        """Claim the oldest due edit (to one of ``platforms``) for ``worker``."""
        ...

    async def finish_edit(
        self, job_id: int, worker: str, state: JobState, reason: str, at: datetime
    ) -> bool:
        """Record how a claimed edit ended."""
        ...

    async def retry_edit(self, job_id: int, worker: str, reason: str, not_before: datetime) -> bool:
        """Put a claimed edit back, due again at ``not_before``."""
        ...

    async def delivered_part(
        self, destination: str, edition_id: int, part: int
    ) -> tuple[str, str, int] | None:
        """Return a delivered part's (message id, thread id, edit version shown)."""
        ...

    async def record_edit(self, destination: str, edition_id: int, part: int, version: int) -> None:
        """Record that a delivered part now shows rewrite ``version``."""
        ...


class ScheduleStore(WorkerStore, EditStore, Protocol):
    """What the schedule reads and writes besides the worker's outbox."""

    async def subscriptions_since(self) -> list[tuple[Subscription, datetime]]:
        """Return each subscription with the time it was created."""
        ...

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
        """Add a pending delivery unless one exists for (destination, edition).

        The job keeps the subscription's filter (level, ``topics``, ``exclude``) as it was.
        """
        ...

    async def last_source_runs(self) -> list[SourceRun]:
        """Return each source's latest run."""
        ...

    async def last_compose(self) -> ComposeAttempt | None:
        """Return the latest compose attempt."""
        ...

    def job_lock(self, name: str) -> AbstractAsyncContextManager[bool]:
        """Hold a database lock named ``name`` while inside; yields whether it was got."""
        ...
