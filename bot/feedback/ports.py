"""The ports of feedback: what recording reactions and reading votes need of the store.

The store (`storage.store.Store`) implements them; tests use the real store on SQLite.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.domain import ReactedPart, Vote


class FeedbackStore(Protocol):
    """What recording a reaction reads and writes."""

    async def reacted_part(
        self, platform: str, channel: str, message_id: str, *, or_earlier: bool = False
    ) -> ReactedPart | None:
        """Return the delivered part a message is (None when the message is not ours).

        With ``or_earlier`` (numeric ids that grow with time), a message not recorded that
        comes before a recorded item reply in its channel is taken as part of that reply:
        the earlier messages of an item split over several.
        """
        ...

    async def set_vote(
        self, destination: str, canonical_id: str, user: str, vote: Vote, at: datetime
    ) -> bool:
        """Keep ``user``'s vote on an item in ``destination``, replacing theirs; True if changed."""
        ...

    async def remove_vote(self, destination: str, canonical_id: str, user: str, vote: Vote) -> bool:
        """Remove ``user``'s ``vote`` on an item; True when it was the vote kept."""
        ...


class VoteTotals(Protocol):
    """Readers' votes per item, for whatever ranks or reports on items (the learned ranker)."""

    async def item_votes(self, since: datetime) -> dict[str, tuple[int, int]]:
        """Return per item canonical id its (👍, 👎) totals of the votes cast since ``since``."""
        ...
