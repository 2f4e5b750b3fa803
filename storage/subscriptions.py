"""The store's subscriptions (channels that get the digest) and the parts delivered to them.

Pausing and resuming live here with the rest of a subscription's life, though the delivery
worker is what pauses one (when it meets a channel it cannot post to).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.domain import LastDelivery, Subscription, SubscriptionRecord
from storage.base import StoreBase
from storage.models import DeliveryRow, DeliveryStartRow, EditionRow, SubscriptionRow
from storage.rows import subscription_of, subscription_record_of


class SubscriptionsPart(StoreBase):
    """Subscriptions (create, change, pause, resume, remove) and the record of parts sent."""

    # -- deliveries ------------------------------------------------------------------------

    async def sent_parts(self, destination: str, edition_id: int) -> dict[int, tuple[str, str]]:
        """Return the parts already sent to ``destination``: part -> (message id, thread id)."""

        def read(session: Session) -> dict[int, tuple[str, str]]:
            rows = session.scalars(
                select(DeliveryRow).where(
                    DeliveryRow.destination == destination, DeliveryRow.edition_id == edition_id
                )
            )
            return {row.part: (row.message_id, row.thread_id) for row in rows}

        return await self._run(read)

    async def begin_delivery(self, destination: str, edition_id: int, at: datetime) -> bool:
        """Note that a delivery of an edition to a destination begins; True the first time.

        Only a delivery that began before can have left a message whose record was lost, so
        only then need the platform be asked before the first send.
        """
        values = {"destination": destination, "edition_id": edition_id, "started_at": at}

        def write(session: Session) -> bool:
            return self._insert_if_absent(
                session, DeliveryStartRow, values, ["destination", "edition_id"]
            )

        return await self._run(write, writes=True)

    async def record_sent(
        self,
        destination: str,
        edition_id: int,
        part: int,
        message_id: str,
        thread_id: str,
        at: datetime,
    ) -> None:
        """Record that one part was sent (before the next one is, DESIGN.md §7).

        A part recorded already keeps its first record (``ON CONFLICT DO NOTHING``).
        """
        values = {
            "destination": destination,
            "edition_id": edition_id,
            "part": part,
            "message_id": message_id,
            "thread_id": thread_id,
            "sent_at": at,
        }

        def write(session: Session) -> None:
            self._insert_if_absent(
                session, DeliveryRow, values, ["destination", "edition_id", "part"]
            )

        await self._run(write)

    # -- subscriptions ---------------------------------------------------------------------

    async def subscribe(self, subscription: Subscription, by: str, at: datetime) -> bool:
        """Create or update a channel's subscription (active again); True when it is new.

        The row is inserted unless it exists (``ON CONFLICT DO NOTHING``), then updated under a
        row lock: two admins subscribing one channel at once, from two instances on one
        PostgreSQL, both succeed (one creates, the other updates) instead of one of them
        failing on the unique constraint.
        """
        where = (
            SubscriptionRow.platform == subscription.platform,
            SubscriptionRow.workspace == subscription.workspace,
            SubscriptionRow.channel == subscription.channel,
        )
        schedule = {
            "weekday": subscription.weekday,
            "at_time": subscription.at_time,
            "timezone": subscription.timezone,
            "difficulty": subscription.difficulty.value if subscription.difficulty else None,
            "topics": ",".join(subscription.topics),
            "exclude": ",".join(subscription.exclude),
            "active": True,
            "paused_reason": "",
            "paused_at": None,
            "updated_at": at,
        }

        def write(session: Session) -> bool:
            created = self._insert_if_absent(
                session,
                SubscriptionRow,
                {
                    "platform": subscription.platform,
                    "workspace": subscription.workspace,
                    "channel": subscription.channel,
                    "created_by": by,
                    "created_at": at,
                    **schedule,
                },
                ["platform", "workspace", "channel"],
            )
            if not created:
                session.execute(update(SubscriptionRow).where(*where).values(**schedule))
            return created

        return await self._run(write, writes=True)

    async def unsubscribe(self, platform: str, workspace: str, channel: str) -> bool:
        """Remove a channel's subscription; True when there was one."""

        def write(session: Session) -> bool:
            row = session.scalars(
                select(SubscriptionRow).where(
                    SubscriptionRow.platform == platform,
                    SubscriptionRow.workspace == workspace,
                    SubscriptionRow.channel == channel,
                )
            ).first()
            if row is None:
                return False
            session.delete(row)
            return True

        return await self._run(write)

    async def subscriptions(self, platform: str | None = None) -> list[Subscription]:
        """Return the subscriptions (of one platform), by channel."""

        def read(session: Session) -> list[Subscription]:
            query = select(SubscriptionRow).order_by(SubscriptionRow.channel)
            if platform is not None:
                query = query.where(SubscriptionRow.platform == platform)
            return [subscription_of(row) for row in session.scalars(query)]

        return await self._run(read)

    async def last_deliveries(self) -> list[LastDelivery]:
        """Return per destination its latest edition's date, parts sent and last send time."""

        def read(session: Session) -> list[LastDelivery]:
            rows = session.execute(
                select(
                    DeliveryRow.destination,
                    EditionRow.edition_date,
                    func.count(DeliveryRow.id),
                    func.max(DeliveryRow.sent_at),
                )
                .join(EditionRow, DeliveryRow.edition_id == EditionRow.id)
                .group_by(DeliveryRow.destination, EditionRow.edition_date)
                .order_by(DeliveryRow.destination, EditionRow.edition_date.desc())
            )
            latest: dict[str, LastDelivery] = {}
            for destination, day, parts, at in rows:
                latest.setdefault(destination, LastDelivery(destination, day, int(parts), at))
            return list(latest.values())

        return await self._run(read)

    async def subscription_records(self) -> list[SubscriptionRecord]:
        """Return every subscription with who created it and when, by platform and channel."""

        def read(session: Session) -> list[SubscriptionRecord]:
            rows = session.scalars(
                select(SubscriptionRow).order_by(
                    SubscriptionRow.platform, SubscriptionRow.channel, SubscriptionRow.id
                )
            )
            return [subscription_record_of(row) for row in rows]

        return await self._run(read)

    async def update_subscription(self, subscription: Subscription, at: datetime) -> bool:
        """Set the workspace, schedule and level of a channel's subscription; False if none.

        Unlike `subscribe`, a paused subscription stays paused (only `resume_subscription`
        or `subscribe` resume it), and who created it and when are kept. Channel ids are
        unique per platform, so the row is found by (platform, channel) and its workspace
        may change.
        """

        def write(session: Session) -> bool:
            row = session.scalars(
                select(SubscriptionRow)
                .where(
                    SubscriptionRow.platform == subscription.platform,
                    SubscriptionRow.channel == subscription.channel,
                )
                .order_by(SubscriptionRow.id)
                .limit(1)
            ).first()
            if row is None:
                return False
            row.workspace = subscription.workspace
            row.weekday = subscription.weekday
            row.at_time = subscription.at_time
            row.timezone = subscription.timezone
            row.difficulty = subscription.difficulty.value if subscription.difficulty else None
            row.topics = ",".join(subscription.topics)
            row.exclude = ",".join(subscription.exclude)
            row.updated_at = at
            return True

        return await self._run(write, writes=True)

    async def resume_subscription(self, platform: str, channel: str, at: datetime) -> bool:
        """Make a paused subscription active again and clear its reason; True if it was paused."""

        def write(session: Session) -> bool:
            result = session.execute(
                update(SubscriptionRow)
                .where(
                    SubscriptionRow.platform == platform,
                    SubscriptionRow.channel == channel,
                    SubscriptionRow.active.is_(False),
                )
                .values(active=True, paused_reason="", paused_at=None, updated_at=at)
                .execution_options(synchronize_session=False)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

        return await self._run(write)

    async def pause_subscription(
        self, platform: str, channel: str, reason: str, at: datetime
    ) -> SubscriptionRecord | None:
        """Pause a channel's subscription with the reason; ``subscribe`` resumes it.

        Returns the subscription as paused when this call paused it, and None when there is
        none or it was paused already: of several workers that meet the same dead channel
        (on one PostgreSQL), one is told it paused it, so admins get one notice. Channel ids
        are unique per platform, so the workspace is not needed.
        """

        def write(session: Session) -> SubscriptionRecord | None:
            row = session.scalars(
                select(SubscriptionRow)
                .where(SubscriptionRow.platform == platform, SubscriptionRow.channel == channel)
                .with_for_update()
            ).first()
            if row is None or not row.active:
                return None
            row.active = False
            row.paused_reason = reason[:1000]
            row.paused_at = at
            row.updated_at = at
            session.flush()
            return subscription_record_of(row)

        return await self._run(write, writes=True)

    async def subscriptions_since(self) -> list[tuple[Subscription, datetime]]:
        """Return each subscription (by channel) with the time it was first created.

        Subscribing again (to change the time or resume a paused one) keeps that time.
        """

        def read(session: Session) -> list[tuple[Subscription, datetime]]:
            rows = session.scalars(select(SubscriptionRow).order_by(SubscriptionRow.channel))
            return [(subscription_of(row), row.created_at) for row in rows]

        return await self._run(read)
