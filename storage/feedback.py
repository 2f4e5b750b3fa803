"""The store's feedback: readers' 👍 / 👎 on delivered items, and the message they reacted to.

A reaction names a message; `FeedbackPart.reacted_part` maps it back to the part of the
edition it is (through the delivery records), and from the part to the item. Votes are kept
one per item, destination and user: a later vote replaces an earlier one, and removing a
reaction removes the vote only when it is the vote kept.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, case, delete, func, or_, select, update
from sqlalchemy.orm import Session

from bot.domain import ReactedPart, Vote
from storage.base import StoreBase
from storage.models import DeliveryRow, EditionEntryRow, FeedbackVoteRow, ItemRow


class FeedbackPart(StoreBase):
    """Votes on items (set, remove, totals) and the lookup of a reacted message."""

    async def reacted_part(
        self, platform: str, channel: str, message_id: str, *, or_earlier: bool = False
    ) -> ReactedPart | None:
        """Return the delivered part that message ``message_id`` in ``channel`` is, if ours.

        The message lives either in the destination's channel itself (Slack replies, a
        Discord parent) or in the thread recorded with it (Discord replies, whose thread is
        a channel of its own); Slack ``ts`` values are unique only per channel, so the
        channel is always part of the match. With ``or_earlier`` (numeric ids growing with
        time), a message not recorded in a thread of replies is the earliest item reply
        recorded after it there: an item split over several messages is recorded by its last.
        """
        prefix = f"{platform}:"
        in_channel = or_(
            DeliveryRow.destination == prefix + channel,
            and_(
                DeliveryRow.destination.startswith(prefix, autoescape=True),
                DeliveryRow.thread_id == channel,
            ),
        )

        def read(session: Session) -> ReactedPart | None:
            row = session.scalars(
                select(DeliveryRow)
                .where(DeliveryRow.message_id == message_id, in_channel)
                .order_by(DeliveryRow.id)
                .limit(1)
            ).first()
            if row is None and or_earlier and message_id.isdigit():
                # Only a thread of replies: a channel's own messages (members' among them)
                # are never an earlier message of a reply.
                replies = session.scalars(
                    select(DeliveryRow).where(
                        DeliveryRow.destination.startswith(prefix, autoescape=True),
                        DeliveryRow.thread_id == channel,
                        DeliveryRow.part > 0,
                    )
                ).all()
                later = [r for r in replies if r.message_id.isdigit()]
                later = [r for r in later if int(r.message_id) > int(message_id)]
                row = min(later, key=lambda r: int(r.message_id), default=None)
            if row is None:
                return None
            canonical_id = None
            if row.part > 0:
                canonical_id = session.scalar(
                    select(ItemRow.canonical_id)
                    .join(EditionEntryRow, EditionEntryRow.item_id == ItemRow.id)
                    .where(
                        EditionEntryRow.edition_id == row.edition_id,
                        EditionEntryRow.position == row.part,
                    )
                )
            return ReactedPart(row.destination, row.edition_id, row.part, canonical_id)

        return await self._run(read)

    async def set_vote(
        self, destination: str, canonical_id: str, user: str, vote: Vote, at: datetime
    ) -> bool:
        """Keep ``user``'s vote on an item in ``destination``; True when it changed anything.

        Inserted unless present (``ON CONFLICT DO NOTHING``), else replaced: two reactions of
        one user handled at once by two instances both succeed, the later one kept.
        """

        def write(session: Session) -> bool:
            item_id = session.scalar(select(ItemRow.id).where(ItemRow.canonical_id == canonical_id))
            if item_id is None:
                return False
            values = {
                "item_id": item_id,
                "destination": destination,
                "user_id": user,
                "vote": vote.value,
                "voted_at": at,
            }
            if self._insert_if_absent(
                session, FeedbackVoteRow, values, ["item_id", "destination", "user_id"]
            ):
                return True
            result = session.execute(
                update(FeedbackVoteRow)
                .where(
                    FeedbackVoteRow.item_id == item_id,
                    FeedbackVoteRow.destination == destination,
                    FeedbackVoteRow.user_id == user,
                    FeedbackVoteRow.vote != vote.value,
                )
                .values(vote=vote.value, voted_at=at)
                .execution_options(synchronize_session=False)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

        return await self._run(write, writes=True)

    async def remove_vote(self, destination: str, canonical_id: str, user: str, vote: Vote) -> bool:
        """Remove ``user``'s ``vote`` on an item; True when it was the vote kept.

        Removing a 👍 after a 👎 replaced it leaves the 👎: the reaction removed is no longer
        the user's vote.
        """

        def write(session: Session) -> bool:
            item_id = select(ItemRow.id).where(ItemRow.canonical_id == canonical_id)
            result = session.execute(
                delete(FeedbackVoteRow)
                .where(
                    FeedbackVoteRow.item_id == item_id.scalar_subquery(),
                    FeedbackVoteRow.destination == destination,
                    FeedbackVoteRow.user_id == user,
                    FeedbackVoteRow.vote == vote.value,
                )
                .execution_options(synchronize_session=False)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

        return await self._run(write)

    async def item_votes(self, since: datetime) -> dict[str, tuple[int, int]]:
        """Return per item (canonical id) its (👍, 👎) totals of votes cast since ``since``.

        Every destination and user counts once per item; a vote replaced since counts as
        its latest value. Items without votes are absent.
        """

        def read(session: Session) -> dict[str, tuple[int, int]]:
            up = func.sum(case((FeedbackVoteRow.vote == Vote.UP.value, 1), else_=0))
            down = func.sum(case((FeedbackVoteRow.vote == Vote.DOWN.value, 1), else_=0))
            rows = session.execute(
                select(ItemRow.canonical_id, up, down)
                .join(FeedbackVoteRow, FeedbackVoteRow.item_id == ItemRow.id)
                .where(FeedbackVoteRow.voted_at >= since)
                .group_by(ItemRow.canonical_id)
            )
            return {canonical: (int(ups), int(downs)) for canonical, ups, downs in rows}

        return await self._run(read)
